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

  /** Revives a serialized error as its registered class (see {@link fromJSON}). */
  static fromJSON(serialized: SerializedError): MurmurError {
    return fromJSON(serialized)
  }

  toJSON(): SerializedError {
    return this.details === undefined
      ? { name: this.name, code: this.code, message: this.message }
      : { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}

/** A concrete error class: built from a message and optional details, with its stable code. */
export interface MurmurErrorClass {
  readonly code: string
  new (message: string, details?: Readonly<Record<string, unknown>>, options?: ErrorOptions): MurmurError
}

const byCode = new Map<string, MurmurErrorClass>()

/**
 * Makes {@link fromJSON} (and `MurmurError.fromJSON`) revive errors of `cls` by its code, so an
 * error of another package crosses nodes as its own class. The classes of this file are registered.
 *
 * @example
 * class Overloaded extends MurmurError { static code = 'OVERLOADED'; constructor(m: string) { super('OVERLOADED', m) } }
 * registerErrorClass(Overloaded)
 */
export function registerErrorClass(cls: MurmurErrorClass): void {
  byCode.set(cls.code, cls)
}

/**
 * Revives a {@link SerializedError} as the class registered for its code, or as a plain
 * `MurmurError` carrying the same code, name and details when no class is known.
 *
 * @example
 * const e = fromJSON({ name: 'AgentNotFound', code: 'AGENT_NOT_FOUND', message: 'no worker/w-9' })
 * e instanceof AgentNotFound // true
 */
export function fromJSON(serialized: SerializedError): MurmurError {
  const cls = byCode.get(serialized.code)
  const error = cls === undefined
    ? new MurmurError(serialized.code, serialized.message, serialized.details)
    : new cls(serialized.message, serialized.details)
  if (cls === undefined) error.name = serialized.name
  return error
}

/** Turns anything thrown into a {@link SerializedError}; non-Murmur errors become `HANDLER_FAILED`. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof MurmurError) return error.toJSON()
  return new HandlerFailed(error instanceof Error ? error.message : String(error), {
    name: error instanceof Error ? error.name : typeof error,
  }).toJSON()
}

/** A `MurmurError` subclass with a fixed `code`: one class per condition (used by this package's modules; not re-exported). */
export function murmurErrorClass(code: string) {
  const cls = class extends MurmurError {
    static readonly code = code
    constructor(message: string, details?: Readonly<Record<string, unknown>>, options?: ErrorOptions) {
      super(code, message, details, options)
    }
  }
  return cls
}

/** A message or ask went to an agent that no node hosts. */
export class AgentNotFound extends murmurErrorClass('AGENT_NOT_FOUND') {}
/** An ask got no reply within its timeout. */
export class AskTimeout extends murmurErrorClass('ASK_TIMEOUT') {}
/** A payload does not match its message type's schema; `details.issues` holds the zod issues. */
export class SchemaViolation extends murmurErrorClass('SCHEMA_VIOLATION') {}
/** The message type is not part of the target agent's protocol. */
export class UnknownMessageType extends murmurErrorClass('UNKNOWN_MESSAGE_TYPE') {}
/** The target's bounded mailbox is full (overflow policy `reject`, or the message was dropped). */
export class MailboxFull extends murmurErrorClass('MAILBOX_FULL') {}
/** The agent stopped before it handled the message, or the ask was aborted by its stop. */
export class AgentStopped extends murmurErrorClass('AGENT_STOPPED') {}
/** An agent with this protocol and id already runs in this system. */
export class DuplicateAgentId extends murmurErrorClass('DUPLICATE_AGENT_ID') {}
/** A handler threw something that is not a MurmurError; `details.name` is the original error's name. */
export class HandlerFailed extends murmurErrorClass('HANDLER_FAILED') {}
/** The ask was aborted through its `signal`. */
export class AskAborted extends murmurErrorClass('ASK_ABORTED') {}
/** The system is stopping or stopped and takes no new agents. */
export class SystemStopped extends murmurErrorClass('SYSTEM_STOPPED') {}
/** A protocol declares a message type whose name the agent base class uses (`stop`, `spawn`, …). */
export class ReservedMessageType extends murmurErrorClass('RESERVED_MESSAGE_TYPE') {}

for (const cls of [
  AgentNotFound, AskTimeout, SchemaViolation, UnknownMessageType, MailboxFull, AgentStopped,
  DuplicateAgentId, HandlerFailed, AskAborted, SystemStopped, ReservedMessageType,
]) registerErrorClass(cls)
