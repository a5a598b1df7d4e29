/**
 * `@murmur/swarm` across two node processes on 127.0.0.1 (uws transport): messages to an agent
 * that lives on the other node, through the whole stack (ref → router → directory → transport →
 * validation → mailbox → handler). Compared with the raw figures of the same run:
 * - `remote.tell.reliable`, `remote.tell.best-effort`: handled per second at the receiving agent
 *   while the sending node tells as fast as flow control lets it (`baseline: raw.batched`).
 * - `remote.ask.p50`, `remote.ask.p99`: one ask in flight (`baseline: remote.rtt-p50`).
 * - `remote.rtt-p50`: the raw round trip between the same two processes (a `ws` client to a uWS
 *   echo server, 64 bytes, see `lib/echo.ts`), one before each ask, so that both see the machine
 *   in the same state. `raw.rtt-p50`, measured by the raw suite a minute earlier, stays in the table.
 * - `remote.ask.throughput`: asks completed per second with 100 in flight (`baseline: raw.inflight`).
 *
 * The sender tells from outside an agent (`node.ref(…).tell`), which takes the same path as a tell
 * from inside one (only `from` differs). This file is also its own worker (`MURMUR_REMOTE_BENCH_ROLE`).
 */
import { z } from 'zod'
import { Agent, protocol, message } from '@murmur/actor-core'
import { Swarm, pinned } from '@murmur/swarm'
import type { BenchContext, BenchRecord, BenchSuite } from '../record.js'
import { plan } from '../lib/plan.js'
import { createCollector } from '../lib/collect.js'
import { compareWith } from '../lib/baseline.js'
import { latencies } from '../lib/stats.js'
import { startWorkerPair, withPairCpu } from '../lib/worker-pair.js'
import { serveWorker } from '../lib/serve.js'
import { untilMember } from '../lib/member.js'
import { dialEcho, startEchoServer, type EchoClient } from '../lib/echo.js'

const ROLE_ENV = 'MURMUR_REMOTE_BENCH_ROLE'
const SECRET = 'bench-secret'
const PAYLOAD = 'm'.repeat(48)

const Sink = protocol('bench-sink', {
  hit: message(z.object({ p: z.string() }), { guarantee: ['reliable', 'fifo'] }),
  fast: message(z.object({ p: z.string() }), { guarantee: ['best-effort'] }),
  echo: message(z.object({ p: z.string() }), { reply: z.string() }),
})

let handled = 0
class SinkAgent extends Agent<typeof Sink> {
  static protocol = Sink
  hit(): void {
    handled++
  }
  fast(): void {
    handled++
  }
  echo({ p }: { p: string }): string {
    return p
  }
}

async function startNode(nodeId: string, seeds: string[]): Promise<Swarm> {
  return Swarm.start({ nodeId, port: 0, seeds, secret: SECRET, cluster: 'bench', agents: [SinkAgent] })
}

/** The receiving node: hosts the sink agent, counts what it handles. */
async function receiver(): Promise<void> {
  const node = await startNode('recv', [])
  const echo = await startEchoServer()
  serveWorker(
    {
      window: async ({ ms }: { ms: number }) => {
        const c0 = handled
        const t0 = performance.now()
        await new Promise((r) => setTimeout(r, ms))
        return ((handled - c0) * 1000) / (performance.now() - t0)
      },
      metrics: () => node.transport.metrics(),
    },
    { address: node.address, echoPort: echo.port },
  )
}

/** The sending node: joins, spawns the sink on the receiver, then tells or asks it. */
async function sender(address: string): Promise<void> {
  const node = await startNode('send', [address])
  await untilMember(node, 'recv')
  const sink = await node.spawn(SinkAgent, { id: 'sink', placement: pinned('recv') })
  const turn = (): Promise<void> => new Promise((r) => setImmediate(r))
  const t = node.transport
  let echo: EchoClient | undefined
  serveWorker(
    {
      dialEcho: async ({ port }: { port: number }) => {
        echo = await dialEcho(port)
      },
      blast: async ({ ms, mode }: { ms: number; mode: 'reliable' | 'best-effort' }) => {
        const type = mode === 'reliable' ? 'hit' : 'fast'
        const payload = { p: PAYLOAD }
        const end = performance.now() + ms
        let sent = 0
        while (performance.now() < end) {
          for (let i = 0; i < 2000; i++) sink.tell(type, payload)
          sent += 2000
          const c = t.capacity('recv')
          if (c.bufferedBytes > c.highWaterMark) await t.ready('recv', { deadline: 10_000 }).catch(() => {})
          else await turn()
        }
        return sent
      },
      /** `samples` asks one at a time, each after a raw round trip between the same processes. */
      askRtt: async ({ samples }: { samples: number }) => {
        const ask = new Float64Array(samples)
        const raw = new Float64Array(samples)
        const payload = { p: PAYLOAD }
        for (let i = 0; i < samples; i++) {
          if (echo) raw[i] = await echo.roundTrip()
          const t0 = process.hrtime.bigint()
          await sink.ask('echo', payload, { timeout: 10_000 })
          ask[i] = Number(process.hrtime.bigint() - t0) / 1000
        }
        return { ask: Array.from(ask), raw: Array.from(raw) }
      },
      askThroughput: async ({ ms, inflight }: { ms: number; inflight: number }) => {
        const payload = { p: PAYLOAD }
        const end = performance.now() + ms
        let done = 0
        const loop = async () => {
          while (performance.now() < end) {
            await sink.ask('echo', payload, { timeout: 10_000 })
            done++
          }
        }
        const t0 = performance.now()
        await Promise.all(Array.from({ length: inflight }, loop))
        return (done * 1000) / (performance.now() - t0)
      },
      metrics: () => t.metrics(),
    },
    {},
  )
}

export const suite: BenchSuite = {
  name: 'remote',
  names: ['remote.'],
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const p = plan(ctx)
    const out = createCollector()
    const pair = await startWorkerPair<{ address: string; echoPort: number }>(new URL(import.meta.url), ROLE_ENV)
    const { recv, send } = pair
    try {
      await send.call('dialEcho', { port: recv.ready.echoPort })
      for (let round = 0; round < p.warmup + p.rounds; round++) {
        const keep = round >= p.warmup
        for (const mode of ['reliable', 'best-effort'] as const) {
          const name = `remote.tell.${mode}`
          if (!ctx.wants(name)) continue
          const m = await withPairCpu(pair, async () => {
            const blast = send.call<number>('blast', { ms: p.roundMs + 300, mode })
            await new Promise((r) => setTimeout(r, 150))
            const rate = await recv.call<number>('window', { ms: p.roundMs })
            await blast
            return rate
          })
          if (keep) out.add(name, 'msg/s', m.value, m.cpu)
          // Let the receiver drain what is still queued before the next figure.
          await new Promise((r) => setTimeout(r, 300))
        }
        if (ctx.wants('remote.ask.p50') || ctx.wants('remote.ask.p99')) {
          const m = await withPairCpu(pair, () => send.call<{ ask: number[]; raw: number[] }>('askRtt', { samples: Math.round(p.rttSamples / 2) }))
          const l = latencies(Float64Array.from(m.value.ask))
          if (keep) {
            out.add('remote.ask.p50', 'µs', l.p50, m.cpu)
            out.add('remote.ask.p99', 'µs', l.p99, m.cpu)
            out.add('remote.rtt-p50', 'µs', latencies(Float64Array.from(m.value.raw)).p50, m.cpu)
          }
        }
        if (ctx.wants('remote.ask.throughput')) {
          const m = await withPairCpu(pair, () => send.call<number>('askThroughput', { ms: p.roundMs, inflight: 100 }))
          if (keep) out.add('remote.ask.throughput', 'asks/s', m.value, m.cpu)
        }
      }
    } finally {
      recv.kill()
      send.kill()
    }
    const baselines: Record<string, string> = {
      'remote.tell.reliable': 'raw.batched',
      'remote.tell.best-effort': 'raw.batched',
      'remote.ask.p50': 'remote.rtt-p50',
      'remote.ask.p99': 'remote.rtt-p50',
      'remote.ask.throughput': 'raw.inflight',
      'remote.rtt-p50': 'raw.rtt-p50',
    }
    const own = out.records()
    const all = [...ctx.records, ...own]
    return own.map((r) => compareWith(r, all, baselines[r.name] ?? 'raw.batched'))
  },
}

const role = process.env[ROLE_ENV]
if (role === 'receiver') await receiver()
else if (role === 'sender') await sender(process.argv[2] ?? '')
