import type { AbortOptions } from './transport.js'
import type { Clock } from './clock.js'

/**
 * One raw, ordered, message-oriented byte pipe between two nodes: a WebSocket for `uws`, an
 * in-process pipe for `memory`. It knows nothing of handshakes, channels or guarantees: the
 * transport core (`createTransport`) builds all of that on top of links, once for every
 * implementation. A link may lose, duplicate or reorder frames only when a fault is injected
 * (memory) or when it breaks; the core must survive both.
 */
export interface Link {
  /** The other end as this side sees it (`host:port`, or a memory node name). */
  readonly remoteAddress: string
  /** Queue one frame. `false` when the link's buffer is above its high-water mark (the frame is still queued). */
  send(frame: Uint8Array): boolean
  /** Bytes queued on this link and not yet handed to the peer / the OS. */
  bufferedAmount(): number
  /** Close; the `close` handler runs once, on both ends. */
  close(code?: number, reason?: string): void
  /**
   * Run `fn`, batching every `send` it makes into as few system calls as the link can (uWS
   * `ws.cork`, `net.Socket#cork` for the `ws` client). Optional: `link.cork ? link.cork(fn) : fn()`.
   */
  cork?(fn: () => void): void
}

/** Callbacks a link calls. `frame` data is owned by the receiver (copied out of native buffers). */
export interface LinkHandlers {
  frame(data: Uint8Array): void
  /** The link's buffer fell back under its low-water mark after `send` returned `false`. */
  drain(): void
  close(code: number, reason: string): void
}

export interface ListenOptions extends AbortOptions {
  /** `127.0.0.1` unless told; never a public address in tests. */
  host: string
  /** 0 picks a free port. */
  port: number
}

/**
 * Moves frames between processes (or simulated ones). Each implementation passes the shared
 * connector compliance suite (`test/compliance/connector.ts`).
 */
export interface Connector {
  /**
   * Accept incoming links; `accept` is called once per new link and returns its handlers.
   * Resolves to the bound address (`host:port`, with the real port when 0 was asked).
   */
  listen(options: ListenOptions, accept: (link: Link) => LinkHandlers): Promise<string>
  /** Open a link to `address`. Rejects with `PeerUnreachable` when nothing listens there. */
  dial(address: string, handlers: LinkHandlers, options?: AbortOptions): Promise<Link>
  /** Stop listening and close every link this connector opened or accepted. */
  close(options?: AbortOptions): Promise<void>
}

/** What a connector factory receives from the transport that owns it. */
export interface ConnectorComponents {
  readonly clock: Clock
}

/** The libp2p-style shape of a pluggable part: init now, components later. */
export type ConnectorFactory = (components: ConnectorComponents) => Connector
