import type { SerializedError } from './envelope.js'

/**
 * Brand shared by every Murmur error class in every package (transport declares the same one),
 * so `err instanceof MurmurError` holds across packages that do not import each other.
 */
export const MURMUR_ERROR = Symbol.for('murmur.error')

/**
 * Base of every error Murmur raises. `code` is stable and machine-readable; errors serialize to
 * {@link SerializedError} to cross nodes and come back as the same class.
 *
 * @example
 * try { await ref.ask('report', {}, { timeout: 100 }) }
 * catch (e) { if (e instanceof AskTimeout) retry() }
 */
export class MurmurError extends Error {
  readonly [MURMUR_ERROR] = true
  readonly code: string
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: string, message: string, details?: Readonly<Record<string, unknown>>, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.details = details
  }

  static override [Symbol.hasInstance](value: unknown): boolean {
    if (this === MurmurError) {
      return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MURMUR_ERROR] === true
    }
    return Function.prototype[Symbol.hasInstance].call(this, value)
  }

  toJSON(): SerializedError {
    return this.details === undefined
      ? { name: this.name, code: this.code, message: this.message }
      : { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}
