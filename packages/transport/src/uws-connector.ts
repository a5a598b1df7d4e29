import type { Connector, ConnectorComponents, ConnectorFactory, Link, LinkHandlers, ListenOptions } from './connector.js'
import type { AbortOptions } from './transport.js'
import { AddressInUse, NotStarted } from './errors.js'
import { CloseCode, linkLimits } from './internal/link-state.js'
import { dialWs, type ClientLink } from './internal/uws/client.js'
import { listenUws, type Server } from './internal/uws/server.js'
import type { TlsInit } from './internal/uws/tls.js'
import { busyPoll } from './internal/uws/busy-poll.js'

export type { TlsInit } from './internal/uws/tls.js'

export interface UwsConnectorInit {
  /** TLS for both sides: `SSLApp` when listening, `wss://` when dialling. PEM text. */
  readonly tls?: TlsInit
  /** Largest frame accepted or sent, in bytes. A bigger incoming frame closes the link with 1009. Default 16 MiB. */
  readonly maxPayloadLength?: number
  /** `send` returns `false` once this many bytes are buffered. Default 1 MiB. */
  readonly highWaterMark?: number
  /** `drain` fires once the buffer is back at or under this. Default 256 KiB. */
  readonly lowWaterMark?: number
  /** uWebSockets.js idle timeout in seconds (0 or ≥ 8); 0, the default, leaves liveness to the transport's heartbeats. */
  readonly idleTimeout?: number
  /** Real ms a dial may take (TCP, TLS and WebSocket handshakes) before it fails with `PeerUnreachable`. Default 10 000. */
  readonly dialTimeout?: number
  /** How long `close()` waits for dialled links to finish their closing handshake before cutting them. Default 2000 ms. */
  readonly closeTimeout?: number
  /**
   * How long, in µs, the event loop keeps polling instead of sleeping after the last frame sent or
   * received, like Erlang's scheduler busy-wait: a frame that arrives while the loop polls is read
   * without the kernel waking the process, which on a virtual machine saves tens of µs per round
   * trip. It costs at most this much CPU per burst of traffic. 0 turns it off. Default 50 (see `internal/uws/busy-poll.ts` for why so short).
   */
  readonly busyPollMicros?: number
}

/** See {@link UwsConnectorInit.busyPollMicros}: about two round trips on 127.0.0.1. */
export const DEFAULT_BUSY_POLL_MICROS = 50

/**
 * The production connector: a uWebSockets.js server accepts links and `ws` (with `bufferutil`)
 * dials them, since uWebSockets.js has no client. Frames are binary WebSocket messages.
 *
 * @example
 * ```ts
 * const connector = uwsConnector({ maxPayloadLength: 4 << 20 })({ clock: systemClock })
 * const address = await connector.listen({ host: '127.0.0.1', port: 0 }, (link) => ({
 *   frame: (data) => link.send(data), // echo
 *   drain: () => {},
 *   close: () => {},
 * }))
 * const link = await connector.dial(address, { frame: console.log, drain() {}, close() {} })
 * link.send(new Uint8Array([1, 2, 3]))
 * ```
 */
export function uwsConnector(init: UwsConnectorInit = {}): ConnectorFactory {
  const limits = linkLimits(init)
  const idleTimeout = init.idleTimeout ?? 0
  const closeTimeout = init.closeTimeout ?? 2000
  const dialTimeout = init.dialTimeout ?? 10_000
  const pollWindow = init.busyPollMicros ?? DEFAULT_BUSY_POLL_MICROS
  return ({ clock }: ConnectorComponents): Connector => {
    const poll = busyPoll(pollWindow)
    const accepted = new Set<Link>()
    const dialled = new Set<ClientLink>()
    let server: Server | undefined
    let closed = false

    const notClosed = (what: string): void => {
      if (closed) throw new NotStarted(`cannot ${what}: connector closed`)
    }

    return {
      async listen(options: ListenOptions, accept: (link: Link) => LinkHandlers): Promise<string> {
        notClosed('listen')
        options.signal?.throwIfAborted()
        if (server !== undefined) throw new AddressInUse(`already listening on ${server.address}`)
        const bound = await listenUws({ host: options.host, port: options.port, limits, idleTimeout, tls: init.tls, accept, links: accepted, poll })
        if (closed) bound.stopListening()
        server = bound
        return bound.address
      },

      async dial(address: string, handlers: LinkHandlers, options: AbortOptions = {}): Promise<Link> {
        notClosed('dial')
        const link = await dialWs({ address, handlers, limits, tls: init.tls, dialTimeout, poll, ...options })
        if (closed) {
          link.close(CloseCode.goingAway, 'connector closed')
          throw new NotStarted('cannot dial: connector closed')
        }
        dialled.add(link)
        void link.ended.then(() => dialled.delete(link))
        return link
      },

      async close(): Promise<void> {
        closed = true
        poll.stop()
        server?.stopListening()
        for (const link of [...accepted]) link.close(CloseCode.goingAway, 'connector closed')
        const ends = [...dialled].map((link) => {
          link.close(CloseCode.goingAway, 'connector closed')
          return link.ended
        })
        if (ends.length === 0) return
        // A peer that never answers the closing handshake must not hold `close` hostage.
        await new Promise<void>((resolve) => {
          const timer = clock.setTimeout(() => {
            for (const link of dialled) link.terminate()
            resolve()
          }, closeTimeout)
          void Promise.all(ends).then(() => {
            clock.clearTimeout(timer)
            resolve()
          })
        })
      },
    }
  }
}
