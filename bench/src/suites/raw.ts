/**
 * The raw ceiling: what two Node processes move over one loopback WebSocket with nothing of Murmur
 * in between (`lib/raw-pair.ts`: uWebSockets.js server, `ws` client with bufferutil, 64-byte
 * messages). Every other two-process figure is compared with these, measured in the same run. The
 * tests run round-robin (one round of each, then the next round), so a noisy moment spreads over all.
 */
import type { BenchContext, BenchRecord, BenchSuite } from '../record.js'
import { plan, type Plan } from '../lib/plan.js'
import { createCollector, type Collector } from '../lib/collect.js'
import { RAW_SHAPES, isBulk, startRawPair, type RawPair, type RawShape } from '../lib/raw-pair.js'

interface Test {
  /** Record names this test produces. */
  readonly names: readonly string[]
  run(raw: RawPair, p: Plan, out: Collector | undefined): Promise<void>
}

function throughput(shape: RawShape): Test {
  const name = `raw.${shape}`
  return {
    names: [name],
    async run(raw, p, out) {
      const m = await raw.throughput(shape, p.roundMs)
      out?.add(name, isBulk(shape) ? 'B/s' : 'msg/s', m.value, m.cpu)
    },
  }
}

const TESTS: readonly Test[] = [
  ...(Object.keys(RAW_SHAPES) as RawShape[]).map(throughput),
  {
    names: ['raw.rtt-p50', 'raw.rtt-p99'],
    async run(raw, p, out) {
      const m = await raw.rtt(p.rttSamples, Math.max(p.roundMs, 1000))
      out?.add('raw.rtt-p50', 'µs', m.value.p50, m.cpu)
      out?.add('raw.rtt-p99', 'µs', m.value.p99, m.cpu)
    },
  },
  {
    names: ['raw.inflight'],
    async run(raw, p, out) {
      const m = await raw.inflight(100, p.roundMs)
      out?.add('raw.inflight', 'round trips/s', m.value, m.cpu)
    },
  },
]

export const suite: BenchSuite = {
  name: 'raw',
  names: ['raw.'],
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const p = plan(ctx)
    const tests = TESTS.filter((t) => t.names.some((n) => ctx.wants(n)))
    const out = createCollector()
    const raw = await startRawPair()
    try {
      for (let round = 0; round < p.warmup + p.rounds; round++) {
        for (const t of tests) await t.run(raw, p, round < p.warmup ? undefined : out)
      }
    } finally {
      await raw.close()
    }
    return out.records()
  },
}
