import uWS from 'uWebSockets.js'
import type { TemplatedApp, WebSocket, us_listen_socket } from 'uWebSockets.js'
import type { Link, LinkHandlers } from '../../connector.js'
import { AddressInUse } from '../../errors.js'
import { CloseCode, LinkState, assertFrameSize, wireCloseCode, wireCloseReason, type LinkLimits } from '../link-state.js'
import { withPemFiles, type TlsInit } from './tls.js'
import type { BusyPoll } from './busy-poll.js'

interface Slot {
  link?: ServerLink
}

/**
 * uWS 20.30 writes a message of this size or more straight to the kernel when nothing is buffered
 * and its cork buffer is empty, and that path corrupts the stream when the kernel refuses the write (a full send
 * buffer): the `ws` peer then closes with 1002 "RSV2 and RSV3 must be clear", or the unwritten rest
 * stays in uWS's buffer with nothing to flush it (test/uws-large-frames.test.ts stalls so every
 * time). Fixed upstream in uWebSockets PR #1662, after 20.30; no later build loads on our glibc.
 * Smaller messages, and any message while uWS already buffers something, take the buffered path,
 * which is sound: only a large frame sent with nothing buffered needs fragmenting.
 */
const DIRECT_WRITE_THRESHOLD = 16 * 1024

/** Fragment payload size: under the threshold, and header plus payload fit uWS's 16 KiB cork buffer. */
const FRAGMENT_SIZE = DIRECT_WRITE_THRESHOLD - 16

/**
 * Sends `frame` as one WebSocket message in fragments below {@link DIRECT_WRITE_THRESHOLD}, so no
 * write takes uWS's faulty direct path. The peer (`ws`) reassembles them into one message, so the
 * Link contract holds: one `send` is one `frame` at the other end.
 */
function sendFragmented(ws: WebSocket<Slot>, frame: Uint8Array): void {
  // Corked, the fragments leave in as few system calls as uWS can manage.
  ws.cork(() => {
    ws.sendFirstFragment(frame.subarray(0, FRAGMENT_SIZE), true, false)
    let at = FRAGMENT_SIZE
    for (; frame.byteLength - at > FRAGMENT_SIZE; at += FRAGMENT_SIZE) ws.sendFragment(frame.subarray(at, at + FRAGMENT_SIZE), false)
    ws.sendLastFragment(frame.subarray(at), false)
  })
}

/** Handlers until `accept` has returned the real ones: frames cannot arrive before `open` returns. */
const UNSET: LinkHandlers = { frame: () => {}, drain: () => {}, close: () => {} }

/** The accepted side of a uWebSockets.js connection. */
export class ServerLink implements Link {
  readonly state: LinkState
  /** uWS has closed the socket: touching `ws` now would crash the process. */
  private gone = false

  constructor(
    private readonly ws: WebSocket<Slot>,
    readonly remoteAddress: string,
    limits: LinkLimits,
    private readonly forget: (link: ServerLink) => void,
    private readonly poll: BusyPoll,
  ) {
    this.state = new LinkState(UNSET, limits)
  }

  send(frame: Uint8Array): boolean {
    if (this.state.closed) return true
    assertFrameSize(frame, this.state.limits)
    this.poll.touch()
    // maxBackpressure is 0 (unlimited), so uWS never drops: it writes or buffers.
    if (frame.byteLength < DIRECT_WRITE_THRESHOLD || this.ws.getBufferedAmount() > 0) this.ws.send(frame, true, false)
    else sendFragmented(this.ws, frame)
    return this.state.afterSend(this.ws.getBufferedAmount())
  }

  bufferedAmount(): number {
    return this.gone ? 0 : this.ws.getBufferedAmount()
  }

  close(code: number = CloseCode.normal, reason = ''): void {
    const wire = wireCloseCode(code)
    const text = wireCloseReason(reason)
    if (!this.state.finish(wire, text) || this.gone) return
    this.ws.end(wire, text) // runs the behaviour's `close` synchronously, which finds the link finished
  }

  cork(fn: () => void): void {
    if (this.gone) fn()
    else this.ws.cork(fn)
  }

  onMessage(message: ArrayBuffer, isBinary: boolean): void {
    if (this.state.closed) return
    this.poll.touch()
    if (!isBinary) {
      this.close(CloseCode.unsupportedData, 'binary frames only')
      return
    }
    // uWS neuters `message` when the callback returns: the receiver gets its own copy. A Buffer
    // under 4 KiB comes from Node's pool: measured 0.08 µs for a 110-byte frame against 0.46 µs for
    // `message.slice(0)`, which allocates an ArrayBuffer of its own (and adds to GC pressure).
    const copy = Buffer.allocUnsafe(message.byteLength)
    copy.set(new Uint8Array(message))
    this.state.deliver(copy, this)
  }

  onDrain(): void {
    this.state.maybeDrain(this.ws.getBufferedAmount())
  }

  onClose(code: number, message: ArrayBuffer): void {
    this.gone = true
    this.forget(this)
    const reason = Buffer.from(message).toString()
    // uWS force-closes (1006) a peer whose message exceeds maxPayloadLength; say so plainly.
    if (reason === 'Received too big message') this.state.finish(CloseCode.tooBig, 'frame too large')
    else this.state.finish(code, reason)
  }
}

export interface ServerInit {
  readonly host: string
  readonly port: number
  readonly limits: LinkLimits
  readonly idleTimeout: number
  readonly tls: TlsInit | undefined
  readonly accept: (link: Link) => LinkHandlers
  readonly links: Set<Link>
  readonly poll: BusyPoll
}

export interface Server {
  /** `host:port` as bound. */
  readonly address: string
  /** Stop accepting; links already accepted stay open. */
  stopListening(): void
}

function createApp(tls: TlsInit | undefined): TemplatedApp {
  return tls === undefined ? uWS.App() : withPemFiles(tls, (files) => uWS.SSLApp(files))
}

function onOpen(ws: WebSocket<Slot>, init: ServerInit): void {
  const remote = Buffer.from(ws.getRemoteAddressAsText()).toString()
  const link = new ServerLink(ws, remote, init.limits, (l) => init.links.delete(l), init.poll)
  ws.getUserData().link = link
  init.links.add(link)
  try {
    link.state.handlers = init.accept(link)
  } catch {
    link.close(CloseCode.internalError, 'accept failed')
  }
}

/** Listen with uWebSockets.js; resolves once bound. */
export function listenUws(init: ServerInit): Promise<Server> {
  const app = createApp(init.tls)
  app.ws<Slot>('/*', {
    compression: uWS.DISABLED,
    maxPayloadLength: init.limits.maxPayloadLength,
    maxBackpressure: 0,
    idleTimeout: init.idleTimeout,
    open: (ws) => onOpen(ws, init),
    message: (ws, message, isBinary) => ws.getUserData().link?.onMessage(message, isBinary),
    drain: (ws) => ws.getUserData().link?.onDrain(),
    close: (ws, code, message) => ws.getUserData().link?.onClose(code, message),
  })
  return new Promise((resolve, reject) => {
    app.listen(init.host, init.port, (socket: us_listen_socket | false) => {
      if (socket === false) {
        reject(new AddressInUse(`cannot listen on ${init.host}:${init.port}`, { host: init.host, port: init.port }))
        return
      }
      let open = true
      resolve({
        address: `${init.host}:${uWS.us_socket_local_port(socket as never)}`,
        stopListening: () => {
          if (open) uWS.us_listen_socket_close(socket)
          open = false
        },
      })
    })
  })
}
