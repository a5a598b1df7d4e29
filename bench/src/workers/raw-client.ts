/**
 * The raw benchmark's client: a `ws` WebSocket (with bufferutil) connected to the raw server on
 * 127.0.0.1:<argv[2]>. Sends frames for a while (`send`), counts what the server sends (`sink-*`),
 * and measures round trips one at a time (`rtt`) or many in flight (`inflight`).
 */
import type { Socket } from 'node:net'
import { WebSocket } from 'ws'
import { serveWorker } from '../lib/serve.js'
import { createSink, frameMaker, MSG_BYTES, END_MARKER, type SendRound } from './raw-common.js'

const port = Number(process.argv[2])
const HWM = 4 * 1024 * 1024
const sink = createSink()
/** What to do with an incoming frame; replaced while an `rtt` or `inflight` round runs. */
let onMessage: (data: Buffer) => void = (d) => sink.onFrame(d)

const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false, maxPayload: 64 * 1024 * 1024 })
await new Promise<void>((resolve, reject) => {
  ws.once('open', resolve)
  ws.once('error', reject)
})
ws.on('message', (d: Buffer) => onMessage(d))
ws.on('close', (code, reason) => {
  process.stderr.write(`raw-client: connection closed (code ${code}${reason.length > 0 ? `, ${reason.toString()}` : ''})\n`)
  process.exit(1)
})
ws.on('error', (err) => process.stderr.write(`raw-client: ${err.stack ?? err.message}\n`))
// ws has no public cork: the underlying net.Socket is the only way to put one burst in one write.
const socket = (ws as unknown as { _socket: Socket })._socket
socket.setNoDelay(true)

function drained(): Promise<void> {
  return new Promise((resolve) => socket.once('drain', resolve))
}

/** Sends frames for `r.ms`, `r.burst` per corked write, pausing while over HWM; then the end marker. */
async function send(r: SendRound): Promise<number> {
  const next = frameMaker(r)
  const end = Date.now() + r.ms
  let frames = 0
  while (Date.now() < end) {
    socket.cork()
    for (let i = 0; i < r.burst; i++) ws.send(next())
    socket.uncork()
    frames += r.burst
    if (socket.writableLength > HWM) await drained()
    else await new Promise((resolve) => setImmediate(resolve))
  }
  ws.send(Buffer.alloc(END_MARKER))
  return frames
}

/** `samples` round trips of one 64-byte message, one in flight; returns each in µs. Bounded by `ms`. */
function rtt(args: { samples: number; ms: number }): Promise<Float64Array> {
  const out = new Float64Array(args.samples)
  const msg = Buffer.alloc(MSG_BYTES, 0x62)
  const end = Date.now() + args.ms
  let n = 0
  let t0 = 0n
  return new Promise((resolve) => {
    const next = (): void => {
      t0 = process.hrtime.bigint()
      ws.send(msg)
    }
    onMessage = () => {
      out[n++] = Number(process.hrtime.bigint() - t0) / 1000
      if (n < args.samples && (n & 255 || Date.now() < end)) return next()
      onMessage = (d) => sink.onFrame(d)
      resolve(out.subarray(0, n))
    }
    next()
  })
}

/** Round trips per second with `window` 64-byte messages in flight, for `ms`; replies sent corked per read. */
function inflight(args: { window: number; ms: number }): Promise<number> {
  const msg = Buffer.alloc(MSG_BYTES, 0x63)
  let done = 0
  let outstanding = 0
  let stopping = false
  let corked = false
  const uncork = (): void => {
    corked = false
    socket.uncork()
  }
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint()
    const timer = setTimeout(() => (stopping = true), args.ms)
    onMessage = () => {
      done++
      outstanding--
      if (!stopping) {
        if (!corked) {
          corked = true
          socket.cork()
          queueMicrotask(uncork)
        }
        ws.send(msg)
        outstanding++
      } else if (outstanding === 0) {
        clearTimeout(timer)
        const seconds = Number(process.hrtime.bigint() - t0) / 1e9
        onMessage = (d) => sink.onFrame(d)
        resolve(done / seconds)
      }
    }
    socket.cork()
    for (let i = 0; i < args.window; i++) ws.send(msg)
    socket.uncork()
    outstanding = args.window
  })
}

serveWorker(
  {
    send,
    rtt,
    inflight,
    'sink-arm': () => sink.arm(),
    'sink-wait': (timeoutMs: number) => sink.wait(timeoutMs),
  },
  { port },
)
