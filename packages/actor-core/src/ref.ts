import type { AgentAddress } from './envelope.js'
import type { AnyProtocol, MessageType, Payload, Reply } from './protocol.js'
import type { StreamOptions } from './stream.js'

/** Options of `ask`, `AbortOptions`-style. */
export interface AskOptions {
  /** ms before the ask rejects with `AskTimeout`; default the system's `askTimeout` (30 s); `Infinity` for none. */
  readonly timeout?: number
  /** Aborting rejects the ask with `AskAborted` (the message may still be handled). */
  readonly signal?: AbortSignal
}

/**
 * A location-transparent handle on an agent: valid before the agent exists, while it lives here
 * or on another node, and after it moved. Refs obtained inside an agent (`this.self`, `this.ref`,
 * `this.spawn`, `this.sender`) send with that agent as the sender.
 *
 * @example
 * const w = system.ref(WorkerAgent, 'worker-7')
 * w.tell('assign', { taskId: 't1', input: 'x' })
 * const { done } = await w.ask('report', {}, { timeout: 1000 })
 */
export interface Ref<P extends AnyProtocol = AnyProtocol> {
  readonly address: AgentAddress
  readonly id: string
  /** The protocol, when this side knows it (refs to remote senders of unknown class have none). */
  readonly protocol: P | undefined
  /** Fire and forget. Throws `UnknownMessageType`, `SchemaViolation` (with `validate: 'always'`) or `MailboxFull` (overflow `reject`). */
  tell<T extends MessageType<P>>(type: T, payload: Payload<P, T>): void
  /** Request/response; rejects with `AskTimeout`, `AgentNotFound`, `AgentStopped`, the handler's error, … */
  ask<T extends MessageType<P>>(type: T, payload: Payload<P, T>, options?: AskOptions): Promise<Reply<P, T>>
  /**
   * Streams items of message type `type` to the agent, with credit-based flow control: at most
   * `options.credit` items (default 16) are in flight or waiting at the receiver, and the source is
   * pulled only as the receiver's `onStream` consumes. Every item is validated against the type's
   * schema at the receiver. Resolves when the receiver has consumed every item; rejects with
   * `AgentNotFound`, `UnknownMessageType`, `SchemaViolation` (an item; earlier items were
   * delivered), `StreamCancelled` (the receiver stopped iterating), `StreamAborted` (the signal),
   * `StreamRefused` (no `onStream`), `AgentStopped`, or the receiver's handler error.
   *
   * @example
   * async function* chunks() { for (const data of parts) yield { data } }
   * await node.ref(SinkAgent, 'sink').stream('chunk', chunks(), { credit: 8 })
   */
  stream<T extends MessageType<P>>(type: T, source: AsyncIterable<Payload<P, T>> | Iterable<Payload<P, T>>, options?: StreamOptions): Promise<void>
}

/** A scheduled message that can be called off. */
export interface Cancellable {
  cancel(): void
}
