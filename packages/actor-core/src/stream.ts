import type { AgentAddress } from './envelope.js'
import type { AnyProtocol, MessageType, Payload } from './protocol.js'
import { murmurErrorClass, registerErrorClass, type MURMUR_ERROR } from './errors.js'

// (`MURMUR_ERROR` is imported for the declaration emit of the classes below, which carry the brand.)
export type { MURMUR_ERROR }

/**
 * Options of `ref.stream`, `AbortOptions`-style.
 *
 * @example
 * const ac = new AbortController()
 * await ref.stream('chunk', readChunks(file), { signal: ac.signal, credit: 8 })
 */
export interface StreamOptions {
  /** Aborting stops pulling from the source; the promise rejects and the receiver's iterator throws `StreamAborted`. */
  readonly signal?: AbortSignal
  /**
   * Items the receiver may hold unconsumed (its buffer bound), and so the most items in flight.
   * The receiver grants this much when it accepts the stream and grants again as its iterator
   * consumes. Default {@link DEFAULT_STREAM_CREDIT}; at most {@link MAX_STREAM_CREDIT}.
   */
  readonly credit?: number
}

/** Credit of a stream whose sender gives none: 16 items (16 MiB of 1 MiB chunks). */
export const DEFAULT_STREAM_CREDIT = 16
/** The largest credit a receiver grants, whatever the sender asks. */
export const MAX_STREAM_CREDIT = 4096

/**
 * What an agent's `onStream` receives: the message type and its items, each validated against
 * the type's schema. A discriminated union over the protocol's types, so narrowing on `type`
 * types the items.
 *
 * @example
 * async onStream(s: InboundStream<typeof Sink>) {
 *   if (s.type === 'chunk') for await (const c of s.items) this.bytes += c.data.byteLength
 * }
 */
export type InboundStream<P extends AnyProtocol = AnyProtocol> = {
  [T in MessageType<P>]: { readonly type: T; readonly items: AsyncIterable<Payload<P, T>> }
}[MessageType<P>]

/**
 * Flow control toward agents, which a cluster plugs in beside its router (`system.useFlowControl`):
 * before each item, a stream asks `ready(to)`; `undefined` means the way to `to` has room, a
 * promise that it will have once it settles (rejecting counts as room). Without it, only the
 * stream's credit bounds what is in flight.
 *
 * @example
 * system.useFlowControl({ ready: (to) => (bufferedToward(to) > limit ? drained(to) : undefined) })
 */
export interface FlowControl {
  ready(to: AgentAddress): Promise<void> | undefined
}

/** The sender aborted the stream (its signal, or its source threw): the receiver's iterator throws this. */
export class StreamAborted extends murmurErrorClass('STREAM_ABORTED') {}
/** The receiver stopped consuming before the end (broke out of its loop, or never iterated): the sender's promise rejects with this. */
export class StreamCancelled extends murmurErrorClass('STREAM_CANCELLED') {}
/** The receiving agent takes no streams (its class has no `onStream`). */
export class StreamRefused extends murmurErrorClass('STREAM_REFUSED') {}
/**
 * The stream's state was lost at one end: its receiver moved or restarted elsewhere, or a peer
 * broke the credit protocol. Nothing more of it will be delivered.
 */
export class StreamBroken extends murmurErrorClass('STREAM_BROKEN') {}

for (const cls of [StreamAborted, StreamCancelled, StreamRefused, StreamBroken]) registerErrorClass(cls)
