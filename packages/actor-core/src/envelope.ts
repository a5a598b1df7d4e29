import type { Guarantee } from './guarantee.js'

/**
 * Where an agent lives, independent of node: the protocol name of its class and its id.
 * Ids are unique per protocol across the whole cluster.
 */
export interface AgentAddress {
  readonly type: string
  readonly id: string
}

/** W3C-style trace context carried by every envelope, so a conversation can be followed across nodes. */
export interface TraceContext {
  readonly traceId: string
  readonly spanId: string
  readonly parentSpanId?: string
}

/**
 * What the runtime hands to the cluster and receives from it: one message, self-describing.
 * `kind` is `tell` or `ask` toward an agent, `reply` / `fail` toward the node awaiting an ask.
 *
 * @example
 * const e: Envelope = { kind: 'tell', to: { type: 'worker', id: 'w-7' }, type: 'assign',
 *   payload: { taskId: 't1' }, guarantee: ['reliable', 'fifo'] }
 */
export interface Envelope {
  readonly kind: 'tell' | 'ask' | 'reply' | 'fail'
  readonly to: AgentAddress
  readonly from?: AgentAddress
  /** Message type name; for `reply` / `fail`, the type that was asked. */
  readonly type: string
  /** The payload; for `fail`, a {@link SerializedError}. */
  readonly payload: unknown
  readonly guarantee: readonly Guarantee[]
  /** Present on `ask`, `reply` and `fail`: matches a reply to its pending ask. Globally unique. */
  readonly correlationId?: string
  /** On `ask`: the node id awaiting the reply (absent when the asker is local). */
  readonly replyTo?: string
  readonly trace?: TraceContext
}

/** An error as it crosses a process boundary. */
export interface SerializedError {
  readonly name: string
  readonly code: string
  readonly message: string
  readonly details?: Readonly<Record<string, unknown>>
}

/**
 * The seam the cluster plugs into. The system calls `route` for every envelope whose target it
 * does not host (and for every `reply` / `fail` whose `replyTo` names another node); the router
 * returns `true` when it took the envelope, `false` to let the system dead-letter it.
 * Envelopes from other nodes come in through `ActorSystem.deliver`.
 */
export interface Router {
  route(envelope: Envelope): boolean
}
