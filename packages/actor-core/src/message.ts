import type { z } from 'zod'
import { DEFAULT_GUARANTEE, type Guarantee } from './guarantee.js'

/**
 * One message type of a protocol: the payload schema, the delivery guarantee it declares, and
 * for request/response types the schema of the reply.
 */
export interface MessageDef<S extends z.ZodType = z.ZodType, R extends z.ZodType | undefined = z.ZodType | undefined> {
  readonly schema: S
  readonly guarantee: readonly Guarantee[]
  readonly reply: R
}

/** Options of {@link message}. */
export interface MessageOptions<R extends z.ZodType | undefined> {
  /** Delivery properties of this type; default `['reliable', 'fifo']`. */
  readonly guarantee?: readonly Guarantee[]
  /** Schema of the reply, for types that are asked. */
  readonly reply?: R
}

/**
 * Declares a message type for {@link protocol}.
 *
 * @example
 * const assign = message(z.object({ taskId: z.string() }))
 * const report = message(z.object({}), { reply: z.object({ done: z.number() }) })
 * const status = message(z.object({ progress: z.number() }), { guarantee: ['best-effort'] })
 */
export function message<S extends z.ZodType, R extends z.ZodType | undefined = undefined>(
  schema: S,
  options: MessageOptions<R> = {},
): MessageDef<S, R> {
  const guarantee = options.guarantee ?? DEFAULT_GUARANTEE
  if (guarantee.length === 0) throw new TypeError('a message type needs at least one guarantee')
  return { schema, guarantee: Object.freeze([...guarantee]), reply: options.reply as R }
}
