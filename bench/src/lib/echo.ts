/**
 * A raw round trip inside the processes of another benchmark: a uWebSockets.js echo server in one
 * process, a `ws` client in the other, 64-byte messages (the same ends and size as `raw.rtt-p50`).
 * A latency benchmark alternates one raw round trip with one of its own, so both see the machine in
 * the same state. On this VM that state moves the raw round trip between about 22 µs (a core kept
 * busy) and 110 µs (an idle core waking), and it drifts within seconds: a baseline measured in
 * another phase of the run can be off by a third.
 *
 * @example
 * // receiving process
 * const server = await startEchoServer()   // tell the other process server.port
 * // sending process
 * const echo = await dialEcho(port)
 * const rawMicros = await echo.roundTrip()
 */
import type { Socket } from 'node:net'
import uWS from 'uWebSockets.js'
import { WebSocket } from 'ws'
import { MSG_BYTES } from '../workers/raw-common.js'

export interface EchoServer {
  readonly port: number
  close(): void
}

/** A uWS server on 127.0.0.1 (a free port) that sends every binary message back. */
export function startEchoServer(): Promise<EchoServer> {
  const app = uWS.App().ws('/*', {
    maxPayloadLength: 1024,
    message: (ws, msg, isBinary) => {
      ws.send(msg, isBinary)
    },
  })
  return new Promise((resolve, reject) => {
    app.listen('127.0.0.1', 0, (ls) => {
      if (ls === false) return reject(new Error('echo server: listen on 127.0.0.1 failed'))
      resolve({ port: uWS.us_socket_local_port(ls), close: () => uWS.us_listen_socket_close(ls) })
    })
  })
}

export interface EchoClient {
  /** One 64-byte message there and back; resolves with the time it took in µs. */
  roundTrip(): Promise<number>
  close(): void
}

/** Connects a `ws` client (no delay, no compression) to an {@link startEchoServer} on 127.0.0.1. */
export async function dialEcho(port: number): Promise<EchoClient> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/`, { perMessageDeflate: false })
  await new Promise<void>((resolve, reject) => {
    ws.once('open', resolve)
    ws.once('error', reject)
  })
  ;(ws as unknown as { _socket: Socket })._socket.setNoDelay(true)
  const msg = Buffer.alloc(MSG_BYTES, 0x65)
  let done: ((micros: number) => void) | undefined
  let t0 = 0n
  ws.on('message', () => done?.(Number(process.hrtime.bigint() - t0) / 1000))
  return {
    roundTrip: () =>
      new Promise<number>((resolve) => {
        done = resolve
        t0 = process.hrtime.bigint()
        ws.send(msg)
      }),
    close: () => ws.close(),
  }
}
