/**
 * The raw baseline as a reusable pair of processes: a uWebSockets.js server and a `ws` client on
 * 127.0.0.1, 64-byte messages. The `raw` suite uses it, and any suite may start its own pair to
 * interleave raw rounds with its own rounds (fairer than comparing with figures measured a minute
 * earlier: on this VM an idle core wakes slowly, so round trips take ~22 µs while something keeps a
 * core busy and ~68 µs when all is quiet).
 *
 * @example
 * const raw = await startRawPair()
 * try {
 *   for (let i = 0; i < p.rounds; i++) {
 *     base.push((await raw.rtt(p.rttSamples)).p50)
 *     mine.push(await myRtt())
 *   }
 * } finally {
 *   await raw.close()
 * }
 */
import { latencies } from './stats.js'
import { startWorker, type WorkerHandle } from './worker.js'
import { sinkRate, type FrameShape, type SendRound, type SinkResult } from '../workers/raw-common.js'

/** CPU of both processes over one measurement, percent of one core. */
// A type alias, not an interface, so that it is assignable to `Record<string, number>`.
export type RawCpu = {
  readonly 'uWS server': number
  readonly 'ws client': number
}

export interface Measured<T> {
  readonly value: T
  readonly cpu: RawCpu
}

/** The raw throughput tests: frame shape and direction (`up` = ws client → uWS server). */
export const RAW_SHAPES = {
  single: { msgs: 1, burst: 256, dir: 'up' },
  batched: { msgs: 960, burst: 8, dir: 'up' },
  'single.down': { msgs: 1, burst: 256, dir: 'down' },
  // Below 16 KiB per frame and one frame per cork: see `source` in workers/raw-server.ts (a uWS 20.30 bug).
  'batched.down': { msgs: 240, burst: 1, dir: 'down' },
  'ws-bytes': { msgs: 0, bytes: 1024 * 1024, burst: 1, dir: 'up' },
} as const satisfies Record<string, FrameShape & { burst: number; dir: 'up' | 'down' }>

export type RawShape = keyof typeof RAW_SHAPES

/** Whether a shape measures bytes per second (bulk frames) rather than 64-byte messages per second. */
export function isBulk(shape: RawShape): boolean {
  return 'bytes' in RAW_SHAPES[shape]
}

export interface RawPair {
  /** Messages (or bytes, for the bulk `ws-bytes*` shapes) per second of one round of `ms`, counted at the receiver. */
  throughput(shape: RawShape, ms: number): Promise<Measured<number>>
  /** Round-trip percentiles in µs over `samples` one-at-a-time round trips (at most ~`ms`). */
  rtt(samples: number, ms?: number): Promise<Measured<{ p50: number; p99: number }>>
  /** Round trips per second with `window` messages in flight, for `ms`. */
  inflight(window: number, ms: number): Promise<Measured<number>>
  /** Kills both processes and resolves once they are gone. */
  close(): Promise<void>
}

type Server = WorkerHandle<{ port: number; native: boolean }>

export async function startRawPair(): Promise<RawPair> {
  const server = await startWorker<{ port: number; native: boolean }>(new URL('../workers/raw-server.js', import.meta.url))
  let client: WorkerHandle<{ port: number }> | undefined
  try {
    client = await startWorker<{ port: number }>(new URL('../workers/raw-client.js', import.meta.url), [String(server.ready.port)])
    await server.call('waitClient', undefined, { timeoutMs: 10_000 })
  } catch (err) {
    server.kill()
    client?.kill()
    throw err
  }
  return pair(server, client)
}

function pair(server: Server, client: WorkerHandle<{ port: number }>): RawPair {
  let mode: 'sink' | 'echo' | undefined
  const setMode = async (m: 'sink' | 'echo'): Promise<void> => {
    if (mode !== m) await server.call('mode', m)
    mode = m
  }
  const measure = async <T>(work: () => Promise<T>): Promise<Measured<T>> => {
    await Promise.all([server.cpuMark(), client.cpuMark()])
    const value = await work()
    const [s, c] = await Promise.all([server.cpuRead(), client.cpuRead()])
    return { value, cpu: { 'uWS server': s, 'ws client': c } }
  }
  return {
    async throughput(shape, ms) {
      const { dir, ...frame } = RAW_SHAPES[shape]
      await setMode('sink')
      const [sender, receiver] = dir === 'up' ? [client, server] : [server, client]
      await receiver.call('sink-arm')
      const round: SendRound = { ...frame, ms }
      return measure(async () => {
        const [, got] = await Promise.all([
          sender.call(dir === 'up' ? 'send' : 'source', round),
          receiver.call<SinkResult>('sink-wait', ms + 30_000),
        ])
        return sinkRate(got, isBulk(shape) ? 'bytes' : 'msg')
      })
    },
    async rtt(samples, ms = 5_000) {
      await setMode('echo')
      return measure(async () => {
        const l = latencies(await client.call<Float64Array>('rtt', { samples, ms }))
        return { p50: l.p50, p99: l.p99 }
      })
    },
    async inflight(window, ms) {
      await setMode('echo')
      return measure(() => client.call<number>('inflight', { window, ms }))
    },
    async close() {
      server.kill()
      client.kill()
      await Promise.all([server.exited, client.exited])
    },
  }
}
