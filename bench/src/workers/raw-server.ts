/**
 * The raw benchmark's server: a uWebSockets.js app on 127.0.0.1 with one WebSocket route, doing as
 * little as possible per frame. Modes (set by the parent): `sink` counts incoming frames, `echo`
 * sends every frame back. `source` sends frames to the client for a while (the other direction).
 */
import uWS from 'uWebSockets.js'
import { serveWorker } from '../lib/serve.js'
import { createSink, frameMaker, type SendRound, END_MARKER } from './raw-common.js'

if (!String(uWS.App).includes('[native code]')) throw new Error('uWebSockets.js: the native addon did not load (JavaScript fallback in use)')

const HWM = 4 * 1024 * 1024
const sink = createSink()
let mode: 'sink' | 'echo' = 'sink'
let conn: uWS.WebSocket<unknown> | undefined
let connected: (() => void) | undefined
let onDrain: (() => void) | undefined
/** Why the client's connection closed, once it has. */
let closed: string | undefined

const app = uWS.App().ws('/*', {
  compression: uWS.DISABLED,
  maxPayloadLength: 64 * 1024 * 1024,
  maxBackpressure: 256 * 1024 * 1024,
  idleTimeout: 0,
  open: (ws) => {
    conn = ws
    connected?.()
  },
  message: (ws, msg, isBinary) => {
    if (mode === 'echo') ws.send(msg, isBinary)
    else sink.onFrame(new Uint8Array(msg))
  },
  drain: () => onDrain?.(),
  close: (_ws, code, message) => {
    conn = undefined
    closed = `client connection closed (code ${code}${message.byteLength > 0 ? `, ${Buffer.from(message).toString()}` : ''})`
    process.stderr.write(`raw-server: ${closed}\n`)
    onDrain?.()
  },
})

const port = await new Promise<number>((resolve, reject) => {
  app.listen('127.0.0.1', 0, (ls) => {
    if (ls === false) reject(new Error('uWS: listen on 127.0.0.1 failed'))
    else resolve(uWS.us_socket_local_port(ls))
  })
})

/** Sends frames to the client for `r.ms`, corked `r.burst` at a time, waiting on drain above HWM. */
function source(r: SendRound): Promise<number> {
  const ws = conn
  if (ws === undefined) return Promise.reject(new Error('source: no client connected'))
  const next = frameMaker(r)
  // uWS 20.30 corrupts the stream with frames ≥ 16 KiB under kernel backpressure (its direct-write
  // path loses the payload when the kernel takes less than the header: uWebSockets PR #1662, fixed
  // upstream after 20.30; the client then closes with 1002). The raw shapes of this direction stay
  // below 16 KiB per frame.
  if ((r.bytes ?? r.msgs * 64) >= 16 * 1024) return Promise.reject(new Error('source: frames of 16 KiB or more corrupt the stream in uWS 20.30'))
  const end = Date.now() + r.ms
  let frames = 0
  return new Promise((resolve, reject) => {
    const pump = (): void => {
      if (conn !== ws) {
        onDrain = undefined
        reject(new Error(`source: ${closed ?? 'client gone'}`))
        return
      }
      if (Date.now() >= end) {
        onDrain = undefined
        ws.cork(() => ws.send(Buffer.alloc(END_MARKER), true))
        resolve(frames)
        return
      }
      ws.cork(() => {
        for (let i = 0; i < r.burst; i++) ws.send(next(), true)
      })
      frames += r.burst
      if (ws.getBufferedAmount() > HWM) onDrain = () => ws.getBufferedAmount() < HWM / 2 && ((onDrain = undefined), pump())
      else setImmediate(pump)
    }
    pump()
  })
}

serveWorker(
  {
    mode: (m: 'sink' | 'echo') => {
      mode = m
    },
    waitClient: () => (conn !== undefined ? undefined : new Promise<void>((r) => (connected = r))),
    'sink-arm': () => sink.arm(),
    'sink-wait': (timeoutMs: number) => sink.wait(timeoutMs),
    source,
  },
  { port, native: true },
)
