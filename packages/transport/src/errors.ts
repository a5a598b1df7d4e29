/**
 * Transport errors. They carry the same brand as `@murmur/actor-core`'s `MurmurError`, so
 * `err instanceof MurmurError` holds for them too, without this package depending on actors.
 */
export const MURMUR_ERROR = Symbol.for('murmur.error')

/** Base of every transport error: a stable `code`, optional `details`, serializable. */
export class TransportError extends Error {
  readonly [MURMUR_ERROR] = true
  readonly code: string
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: string, message: string, details?: Readonly<Record<string, unknown>>, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.details = details
  }

  toJSON(): { name: string; code: string; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details === undefined
      ? { name: this.name, code: this.code, message: this.message }
      : { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}
