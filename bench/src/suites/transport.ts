/**
 * `@murmur/transport` between two Node processes on 127.0.0.1 (uWebSockets.js server ← `ws`
 * client, 64-byte payloads), compared with the raw figures of the same run:
 * - `transport.best-effort`, `transport.reliable`: messages per second counted at the receiver
 *   while the sender sends as fast as flow control lets it (`baseline: raw.batched`).
 * - `transport.rtt-p50`, `transport.rtt-p99`: one reliable message in flight, echoed back
 *   (`baseline: raw.rtt-p50`).
 *
 * This file is also its own worker: forked with `MURMUR_TRANSPORT_BENCH_ROLE` set, it becomes the
 * receiving or the sending node instead of defining the suite.
 */
import type { BenchContext, BenchRecord, BenchSuite } from '../record.js'
import { plan } from '../lib/plan.js'
import { createCollector } from '../lib/collect.js'
import { compareWith } from '../lib/baseline.js'
import { latencies, median } from '../lib/stats.js'
import { startRawPair, type RawPair } from '../lib/raw-pair.js'
import { startWorkerPair, withPairCpu } from '../lib/worker-pair.js'
import { serveWorker } from '../lib/serve.js'
import { createUwsTransport, type Guarantee, type Transport } from '@murmur/transport'

const ROLE_ENV = 'MURMUR_TRANSPORT_BENCH_ROLE'
const PAYLOAD = 'm'.repeat(64)
const config = { cluster: 'bench', secret: 'bench-secret', heartbeatInterval: 2000 }

const CONTROL = { channel: 'control' } as const

type Mode = 'best-effort' | 'reliable'
const GUARANTEES: Record<Mode, readonly Guarantee[]> = { 'best-effort': ['best-effort'], reliable: ['reliable', 'fifo'] }

/** The receiving node: counts what arrives, echoes pings. */
async function receiver(): Promise<void> {
  const t = createUwsTransport({ nodeId: 'receiver', ...config })
  let received = 0
  t.onMessage((m) => {
    if (m.channel === 'control') t.send(m.from.nodeId, m.payload, CONTROL)
    else received++
  })
  await t.start()
  serveWorker(
    {
      /** Messages per second arriving during the next `ms`. */
      window: async ({ ms }: { ms: number }) => {
        const c0 = received
        const t0 = performance.now()
        await new Promise((r) => setTimeout(r, ms))
        return ((received - c0) * 1000) / (performance.now() - t0)
      },
      metrics: () => t.metrics(),
    },
    { address: t.address },
  )
}

/** The sending node: sends as fast as flow control allows, or pings one at a time. */
async function sender(address: string): Promise<void> {
  const t: Transport = createUwsTransport({ nodeId: 'sender', ...config })
  await t.start()
  const peer = await t.connect(address)
  const to = peer.nodeId
  let onEcho: (() => void) | undefined
  t.onMessage(() => onEcho?.())
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
  serveWorker(
    {
      blast: async ({ ms, mode }: { ms: number; mode: Mode }) => {
        const options = { guarantee: GUARANTEES[mode] }
        const end = performance.now() + ms
        let sent = 0
        while (performance.now() < end) {
          let ok = true
          for (let i = 0; i < 2000 && ok; i++) {
            ok = t.send(to, PAYLOAD, options)
            sent++
          }
          if (ok) await turn()
          else await t.ready(to)
        }
        await t.ready(to)
        return sent
      },
      // Callback style, like the raw client: no promise per sample in the measured path.
      rtt: ({ samples }: { samples: number }) =>
        new Promise<number[]>((resolve) => {
          const out = new Float64Array(samples)
          let i = 0
          let t0 = process.hrtime.bigint()
          onEcho = () => {
            out[i++] = Number(process.hrtime.bigint() - t0) / 1000
            if (i === samples) {
              onEcho = undefined
              resolve(Array.from(out))
              return
            }
            t0 = process.hrtime.bigint()
            t.send(to, PAYLOAD, CONTROL)
          }
          t.send(to, PAYLOAD, CONTROL)
        }),
      metrics: () => t.metrics(),
    },
    {},
  )
}

export const suite: BenchSuite = {
  name: 'transport',
  names: ['transport.'],
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const p = plan(ctx)
    const out = createCollector()
    const pair = await startWorkerPair(new URL(import.meta.url), ROLE_ENV)
    const { recv, send } = pair
    // A raw pair measured in the same rounds, interleaved with ours: on a shared machine the load
    // drifts between suites, so the ratio of neighbouring rounds is the fairer comparison.
    const raw: RawPair | undefined = await startRawPair().catch(() => undefined)
    const interleaved = { batched: [] as number[], rtt: [] as number[] }
    try {
      for (let round = 0; round < p.warmup + p.rounds; round++) {
        const keep = round >= p.warmup
        if (raw && keep) {
          interleaved.batched.push((await raw.throughput('batched', p.roundMs)).value)
          interleaved.rtt.push((await raw.rtt(p.rttSamples, Math.max(p.roundMs, 1000))).value.p50)
        }
        for (const mode of ['best-effort', 'reliable'] as const) {
          const name = `transport.${mode}`
          if (!ctx.wants(name)) continue
          const m = await withPairCpu(pair, async () => {
            const blast = send.call<number>('blast', { ms: p.roundMs + 300, mode })
            await new Promise((r) => setTimeout(r, 150))
            const rate = await recv.call<number>('window', { ms: p.roundMs })
            await blast
            return rate
          })
          if (keep) out.add(name, 'msg/s', m.value, m.cpu)
        }
        if (ctx.wants('transport.rtt-p50') || ctx.wants('transport.rtt-p99')) {
          const m = await withPairCpu(pair, () => send.call<number[]>('rtt', { samples: p.rttSamples }))
          const l = latencies(Float64Array.from(m.value))
          if (keep) {
            out.add('transport.rtt-p50', 'µs', l.p50, m.cpu)
            out.add('transport.rtt-p99', 'µs', l.p99, m.cpu)
          }
        }
      }
    } finally {
      recv.kill()
      send.kill()
      await raw?.close()
    }
    const baselines: Record<string, string> = {
      'transport.best-effort': 'raw.batched',
      'transport.reliable': 'raw.batched',
      'transport.rtt-p50': 'raw.rtt-p50',
      'transport.rtt-p99': 'raw.rtt-p50',
    }
    const near = { 'raw.batched': median(interleaved.batched), 'raw.rtt-p50': median(interleaved.rtt) }
    return out.records().map((r) => {
      const baseline = baselines[r.name] ?? 'raw.batched'
      const rec = compareWith(r, ctx.records, baseline)
      const v = near[baseline as keyof typeof near]
      if (Number.isFinite(v) && v > 0) rec.note = `interleaved ${baseline} ${Math.round(v * 10) / 10}: ${(r.value / v).toFixed(2)}×`
      return rec
    })
  },
}

const role = process.env[ROLE_ENV]
if (role === 'receiver') await receiver()
else if (role === 'sender') await sender(process.argv[2] ?? '')
