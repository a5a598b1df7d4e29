import type { TransportError } from './errors.js'

/** Same union as `@murmur/actor-core`'s `Guarantee`; see there. */
export type Guarantee =
  | 'best-effort'
  | 'reliable'
  | 'fifo'
  | 'causal'
  | 'monotonic'
  | 'broadcast'
  | 'atomic'
  | 'gossip'

/** Every async call takes one. */
export interface AbortOptions {
  signal?: AbortSignal
}

/** A lifecycle in the js-libp2p sense. */
export interface Startable {
  start(options?: AbortOptions): Promise<void>
  stop(options?: AbortOptions): Promise<void>
}

/** A peer as the handshake proved it. */
export interface PeerInfo {
  readonly nodeId: string
  /** Changes every time the peer process starts: a new incarnation is a new session. */
  readonly incarnation: number
  /** Where it listens (`host:port`), as it announced in the handshake. */
  readonly address: string
}

/**
 * Channel configuration, Partisan-style. `parallelism` lanes (connections) per peer; a partition
 * key pins related messages to one lane. The `control` channel always exists, with its own lane,
 * so bulk data never blocks membership and acks.
 */
export interface ChannelConfig {
  readonly parallelism?: number
  readonly monotonic?: boolean
}

export interface SendOptions {
  /** Channel name; `default` when absent. Must be configured, else `UnknownChannel`. */
  readonly channel?: string
  /** The message type's declared guarantee; `['reliable', 'fifo']` when absent. */
  readonly guarantee?: readonly Guarantee[]
  /** Pins the message to one lane (and is the fifo / monotonic key when those apply). */
  readonly key?: string
  /** For `causal`: the causal group whose vector clock orders this message. `default` when absent. */
  readonly group?: string
}

/** A message as the receiver's transport hands it up, in the order its guarantee demands. */
export interface InboundMessage {
  readonly from: PeerInfo
  readonly channel: string
  readonly guarantee: readonly Guarantee[]
  readonly key?: string
  readonly payload: unknown
}

/** Reliable messages a peer never acknowledged, handed back when that peer is gone for good. */
export interface Unacknowledged {
  readonly channel: string
  readonly guarantee: readonly Guarantee[]
  readonly key?: string
  readonly payload: unknown
}

export interface Capacity {
  /** Bytes accepted for this peer and not yet acknowledged / written. */
  readonly bufferedBytes: number
  readonly highWaterMark: number
  readonly lowWaterMark: number
  /** Current reliable sending window (messages in flight), AIMD. */
  readonly window: number
  readonly inFlight: number
}

export interface TransportEvents {
  'peer-up': PeerInfo
  'peer-down': { peer: PeerInfo; reason: string; unacknowledged: readonly Unacknowledged[] }
  /** Buffered bytes toward `peer` crossed the high-water mark. */
  backpressure: { peer: PeerInfo }
  /** Buffered bytes toward `peer` fell under the low-water mark. */
  drained: { peer: PeerInfo }
  /** A rejected frame, failed handshake, or other fault; the transport keeps serving. */
  error: { error: TransportError; remote?: string }
}

/**
 * Moves messages between Murmur nodes with per-message guarantees. Knows nothing of actors.
 *
 * @example
 * const t = createUwsTransport({ nodeId: 'a', cluster: 'demo', secret, port: 0 })
 * await t.start()
 * const peer = await t.connect('127.0.0.1:7001')
 * t.onMessage((m) => console.log(m.from.nodeId, m.payload))
 * t.send(peer.nodeId, { hello: 'world' }, { guarantee: ['reliable', 'fifo'] })
 */
export interface Transport extends Startable {
  readonly nodeId: string
  readonly incarnation: number
  /** `host:port` this node listens on (valid after `start`). */
  readonly address: string
  /** Dial and handshake; resolves once the peer is authenticated (or already connected). */
  connect(address: string, options?: AbortOptions): Promise<PeerInfo>
  /** Close the connection to a peer; reliable state is kept so a reconnect resumes it. */
  disconnect(nodeId: string, options?: AbortOptions): Promise<void>
  /** The peer is gone for good: drop its session and emit `peer-down` with what it never acked. */
  forget(nodeId: string): void
  /**
   * Send one message. Synchronous and allocation-lean: this is the hot path.
   * Returns `false` when the peer is above its high-water mark (best-effort: the message was
   * dropped and counted; reliable: it was accepted, but the caller should await `ready`).
   * Throws `Overloaded` when a reliable message would exceed the peer's hard limit,
   * `UnknownChannel` / `PeerUnknown` for bad arguments.
   */
  send(nodeId: string, payload: unknown, options?: SendOptions): boolean
  /**
   * How many times this transport has started writing out what was sent. A payload handed to
   * `send` is encoded no earlier than the next flush, and the flush that encodes it moves this
   * count on: while it is unchanged, a sender may still add to a payload object it sent (the swarm
   * appends tells to a run this way). Optional: without it, a sender must treat every payload as
   * encoded at once.
   */
  readonly flushes?: number
  /** Resolves when `nodeId` is below its low-water mark; rejects `Overloaded` after `deadline` ms. */
  ready(nodeId: string, options?: AbortOptions & { deadline?: number }): Promise<void>
  capacity(nodeId: string): Capacity
  peers(): readonly PeerInfo[]
  /** One handler; messages arrive in their guarantee's order. */
  onMessage(handler: (message: InboundMessage) => void): void
  on<E extends keyof TransportEvents>(event: E, listener: (data: TransportEvents[E]) => void): () => void
  /** Counters for observability (frames, bytes, dropped best-effort, retransmits, rejected frames…). */
  metrics(): Readonly<Record<string, number>>
}
