import type { z } from 'zod'
import { ReservedMessageType } from './errors.js'
import type { MessageDef } from './message.js'

/** The message types of a protocol, by name. */
export type MessageDefs = Readonly<Record<string, MessageDef>>

/**
 * What the runtime reads about an agent class: its name (the `type` of its addresses), its
 * message types and, per type, schema, guarantee and reply schema.
 */
export interface Protocol<N extends string = string, M extends MessageDefs = MessageDefs> {
  readonly name: N
  /** The declarations as written, by message type (a prototype-free dictionary). */
  readonly messages: M
  /** The message type names, in declaration order. */
  readonly types: readonly string[]
}

/** Any protocol; the bound of every generic over protocols. */
export type AnyProtocol = Protocol<string, MessageDefs>

/** The message type names of `P`. */
export type MessageType<P extends AnyProtocol> = keyof P['messages'] & string

/** The payload type of message type `T` of `P`, as the handler receives it. */
export type Payload<P extends AnyProtocol, T extends MessageType<P>> = z.output<P['messages'][T]['schema']>

/** The reply type of `T` (`undefined` for types declared without a reply schema). */
export type Reply<P extends AnyProtocol, T extends MessageType<P>> =
  P['messages'][T]['reply'] extends z.ZodType ? z.output<P['messages'][T]['reply']> : undefined

/** The message types of `P` that declare a reply. */
export type AskType<P extends AnyProtocol> = {
  [K in MessageType<P>]: P['messages'][K]['reply'] extends z.ZodType ? K : never
}[MessageType<P>]

/** Names the agent base class uses; a message type may not take them. */
export const RESERVED_TYPES: ReadonlySet<string> = new Set([
  'constructor', 'id', 'self', 'sender', 'input', 'trace', 'spawn', 'ref', 'schedule', 'stop',
  'onStart', 'onStop', 'onRestart', 'onHandoff', 'snapshot', 'restore', 'system', 'then',
])

/**
 * Declares a protocol: the typed mailbox of an agent class.
 *
 * @example
 * export const Worker = protocol('worker', {
 *   assign: message(z.object({ taskId: z.string(), input: z.string() })),
 *   report: message(z.object({}), { reply: z.object({ done: z.number() }) }),
 * })
 */
export function protocol<const N extends string, const M extends MessageDefs>(name: N, messages: M): Protocol<N, M> {
  if (name.length === 0) throw new TypeError('a protocol needs a name')
  const dict = Object.create(null) as Record<string, MessageDef>
  for (const [type, def] of Object.entries(messages)) {
    if (RESERVED_TYPES.has(type) || type.startsWith('_') || type.startsWith('$')) {
      throw new ReservedMessageType(`message type '${type}' of protocol '${name}' is reserved`, { protocol: name, type })
    }
    dict[type] = def
  }
  return Object.freeze({ name, messages: Object.freeze(dict) as M, types: Object.freeze(Object.keys(dict)) })
}
