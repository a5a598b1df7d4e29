import type { Socket } from 'node:net'
import WebSocket from 'ws'
import type { Link, LinkHandlers } from '../../connector.js'
import type { AbortOptions } from '../../transport.js'
import { Aborted, PeerUnreachable } from '../../errors.js'
import { CloseCode, LinkState, assertFrameSize, wireCloseCode, wireCloseReason, type LinkLimits } from '../link-state.js'
import type { TlsInit } from './tls.js'
import type { BusyPoll } from './busy-poll.js'

const SEND_OPTIONS = { binary: true, compress: false, fin: true } as const
const EMPTY = new Uint8Array(0)

/**
 * `ws` exposes no `drain` event and no cork; both live on its `net.Socket`, which ws 8 keeps in
 * `_socket` once the connection is open.
 */
function socketOf(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket
}

/** The dialling side: a `ws` client (uWebSockets.js has none). */
export class ClientLink implements Link {
  readonly state: LinkState
  private readonly socket: Socket
  /** Settles when the socket is really gone (after a local `close` too), for `Connector.close`. */
  readonly ended: Promise<void>
  /** Sends of this tick are held in the socket's cork until the next `process.nextTick`. */
  private autoCorked = false
  private readonly uncork = (): void => {
    this.autoCorked = false
    this.socket.uncork()
  }
  private readonly onFlushed = (): void => {
    this.state.maybeDrain(this.ws.bufferedAmount)
  }

  constructor(
    private readonly ws: WebSocket,
    readonly remoteAddress: string,
    handlers: LinkHandlers,
    limits: LinkLimits,
    private readonly poll: BusyPoll,
  ) {
    this.state = new LinkState(handlers, limits)
    this.socket = socketOf(ws)
    this.socket.on('drain', this.onFlushed)
    let lastError = ''
    let tooBig = false
    ws.on('error', (err: Error & { code?: string }) => {
      tooBig ||= err.code === 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH'
      lastError = err.message
    })
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (this.state.closed) return
      this.poll.touch()
      if (isBinary) this.state.deliver(data, this)
      else this.close(CloseCode.unsupportedData, 'binary frames only')
    })
    this.ended = new Promise((resolve) => {
      ws.once('close', (code: number, reason: Buffer) => {
        // ws reports whatever the server answered to its 1009; the cause is what matters here.
        if (tooBig) this.state.finish(CloseCode.tooBig, 'frame too large')
        else this.state.finish(code, reason.length > 0 ? reason.toString() : lastError)
        resolve()
      })
    })
  }

  send(frame: Uint8Array): boolean {
    if (this.state.closed) return true
    assertFrameSize(frame, this.state.limits)
    this.poll.touch()
    // Every send of this tick goes out in one writev: one write per frame caps a link near
    // 200 k frames/s, corked it does several times that.
    if (!this.autoCorked) {
      this.autoCorked = true
      this.socket.cork()
      process.nextTick(this.uncork)
    }
    this.ws.send(frame, SEND_OPTIONS)
    if (this.state.afterSend(this.ws.bufferedAmount)) return true
    // The socket emits 'drain' only if its own (smaller) high-water mark was crossed; an empty
    // write's callback runs once everything queued before it is flushed, which covers the rest.
    if (!this.socket.writableNeedDrain) this.socket.write(EMPTY, this.onFlushed)
    return false
  }

  bufferedAmount(): number {
    return this.ws.bufferedAmount
  }

  close(code: number = CloseCode.normal, reason = ''): void {
    const wire = wireCloseCode(code)
    const text = wireCloseReason(reason)
    if (this.state.finish(wire, text)) this.ws.close(wire, text)
  }

  /** Closes without the closing handshake; for `Connector.close` when a peer does not answer. */
  terminate(): void {
    this.state.finish(CloseCode.abnormal, 'terminated')
    this.ws.terminate()
  }

  cork(fn: () => void): void {
    this.socket.cork()
    try {
      fn()
    } finally {
      this.socket.uncork()
    }
  }
}

export interface DialInit extends AbortOptions {
  readonly address: string
  readonly handlers: LinkHandlers
  readonly limits: LinkLimits
  readonly tls: TlsInit | undefined
  /** Real ms for the TCP, TLS and WebSocket handshakes together. */
  readonly dialTimeout: number
  readonly poll: BusyPoll
}

/** `ws` throws on an address it cannot parse; the caller turns that into `PeerUnreachable`. */
function connect({ address, tls, limits, dialTimeout }: DialInit): WebSocket {
  return new WebSocket(`${tls === undefined ? 'ws' : 'wss'}://${address}/`, {
    handshakeTimeout: dialTimeout,
    perMessageDeflate: false,
    maxPayload: limits.maxPayloadLength,
    skipUTF8Validation: true,
    ...(tls === undefined
      ? {}
      : {
          rejectUnauthorized: tls.rejectUnauthorized ?? true,
          ...(tls.ca === undefined ? {} : { ca: tls.ca }),
        }),
  })
}

/** Opens a `ws` connection to a uWebSockets.js listener; rejects `PeerUnreachable` or `Aborted`. */
export function dialWs(init: DialInit): Promise<ClientLink> {
  const { address, signal } = init
  return new Promise((resolve, reject) => {
    if (signal?.aborted) {
      reject(new Aborted(`dial ${address} aborted`, { address }, { cause: signal.reason }))
      return
    }
    let ws: WebSocket
    try {
      ws = connect(init)
    } catch (error) {
      reject(new PeerUnreachable(`cannot dial ${JSON.stringify(address)}: ${(error as Error).message}`, { address }, { cause: error }))
      return
    }
    ws.binaryType = 'nodebuffer'
    const onAbort = (): void => {
      ws.terminate()
      reject(new Aborted(`dial ${address} aborted`, { address }, { cause: signal?.reason }))
    }
    signal?.addEventListener('abort', onAbort, { once: true })
    const fail = (err: Error): void => {
      signal?.removeEventListener('abort', onAbort)
      reject(new PeerUnreachable(`cannot reach ${address}: ${err.message}`, { address }, { cause: err }))
    }
    ws.once('error', fail)
    ws.once('open', () => {
      signal?.removeEventListener('abort', onAbort)
      ws.off('error', fail)
      resolve(new ClientLink(ws, address, init.handlers, init.limits, init.poll))
    })
  })
}
