/**
 * `large.stream`: bytes per second of 1 MiB chunks streamed agent to agent across two node
 * processes on 127.0.0.1 (`ref.stream('chunk', source)` → the receiving agent's `onStream`),
 * through the whole stack: stream credit, router, uws transport (which cuts each chunk into
 * `chunkSize` frames), reassembly, schema validation of every item, the agent's iterator.
 *
 * Its baseline, `raw.ws-bytes` (a `ws` client sending 1 MiB frames to a uWebSockets.js server), is
 * measured by this suite too, in rounds interleaved with the stream's rounds (the record `raw.ws-bytes`
 * of the `raw` suite is the same figure measured a minute earlier; the ratio uses this suite's own).
 * The sender's source hands out the same 1 MiB buffer each time, as the raw client does.
 *
 * This file is also its own worker (`MURMUR_STREAM_BENCH_ROLE`).
 */
import { z } from 'zod'
import { Agent, protocol, message, type InboundStream } from '@murmur/actor-core'
import { Swarm, pinned } from '@murmur/swarm'
import type { BenchContext, BenchRecord, BenchSuite } from '../record.js'
import { plan } from '../lib/plan.js'
import { createCollector } from '../lib/collect.js'
import { summarize } from '../lib/stats.js'
import { startRawPair } from '../lib/raw-pair.js'
import { startWorkerPair, withPairCpu } from '../lib/worker-pair.js'
import { serveWorker } from '../lib/serve.js'
import { untilMember } from '../lib/member.js'

const ROLE_ENV = 'MURMUR_STREAM_BENCH_ROLE'
const SECRET = 'bench-secret'
const CHUNK = 1 << 20

const Sink = protocol('bench-stream-sink', {
  chunk: message(z.object({ data: z.instanceof(Uint8Array) })),
})

let consumed = 0
class StreamSinkAgent extends Agent<typeof Sink> {
  static protocol = Sink
  chunk(): void {}
  override async onStream(s: InboundStream<typeof Sink>): Promise<void> {
    for await (const { data } of s.items) consumed += data.byteLength
  }
}

async function startNode(nodeId: string, seeds: string[]): Promise<Swarm> {
  return Swarm.start({ nodeId, port: 0, host: '127.0.0.1', seeds, secret: SECRET, cluster: 'bench-stream', agents: [StreamSinkAgent] })
}

/** The receiving node: hosts the sink, measures the bytes its agent consumes. */
async function receiver(): Promise<void> {
  const node = await startNode('recv', [])
  serveWorker(
    {
      window: async ({ ms }: { ms: number }) => {
        const b0 = consumed
        const t0 = performance.now()
        await new Promise((r) => setTimeout(r, ms))
        return ((consumed - b0) * 1000) / (performance.now() - t0)
      },
    },
    { address: node.address },
  )
}

/** The sending node: joins, spawns the sink on the receiver, streams 1 MiB chunks for a while. */
async function sender(address: string): Promise<void> {
  const node = await startNode('send', [address])
  await untilMember(node, 'recv')
  const sink = await node.spawn(StreamSinkAgent, { id: 'sink', placement: pinned('recv') })
  const data = new Uint8Array(CHUNK).fill(0x61)
  serveWorker(
    {
      stream: async ({ ms, credit }: { ms: number; credit?: number }) => {
        const end = performance.now() + ms
        let sent = 0
        async function* chunks() {
          while (performance.now() < end) {
            sent++
            yield { data }
          }
        }
        await sink.stream('chunk', chunks(), credit === undefined ? {} : { credit })
        return sent * CHUNK
      },
    },
    {},
  )
}

export const suite: BenchSuite = {
  name: 'large-stream',
  names: ['large.stream'],
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    if (!ctx.wants('large.stream')) return []
    const p = plan(ctx)
    const out = createCollector()
    const raw = await startRawPair()
    const base: number[] = []
    try {
      const pair = await startWorkerPair(new URL(import.meta.url), ROLE_ENV)
      try {
        for (let round = 0; round < p.warmup + p.rounds; round++) {
          const keep = round >= p.warmup
          const r = await raw.throughput('ws-bytes', p.roundMs)
          if (keep) base.push(r.value)
          const m = await withPairCpu(pair, async () => {
            const streaming = pair.send.call<number>('stream', { ms: p.roundMs + 400 })
            await new Promise((r) => setTimeout(r, 200))
            const rate = await pair.recv.call<number>('window', { ms: p.roundMs })
            await streaming
            return rate
          })
          if (keep) out.add('large.stream', 'B/s', m.value, m.cpu)
        }
      } finally {
        pair.recv.kill()
        pair.send.kill()
      }
    } finally {
      await raw.close()
    }
    const baseline = summarize(base).median
    return out.records().map((rec) => ({
      ...rec,
      baseline: 'raw.ws-bytes',
      baselineValue: baseline,
      ratio: rec.value / baseline,
      note: `baseline measured by this suite, interleaved (median of ${base.length} rounds)`,
    }))
  },
}

const role = process.env[ROLE_ENV]
if (role === 'receiver') await receiver()
else if (role === 'sender') await sender(process.argv[2] ?? '')
