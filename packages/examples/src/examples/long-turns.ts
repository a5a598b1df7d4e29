/**
 * Long turns. Research agents await seconds of simulated I/O per message (as an agent that calls
 * a model or a tool would). While they wait, a heartbeat agent on the same nodes keeps handling
 * its ticks: an awaiting handler blocks its own mailbox, never the node. Asks carry a timeout per
 * message type (`ASK_TIMEOUTS`): `research` may take 5 s, `ping` only 300 ms, so a ping to a busy
 * agent fails fast with `AskTimeout` while the research still completes.
 *
 * Run: pnpm --filter @murmur/examples run example:long-turns
 */
import { z } from 'zod'
import { Agent, AskTimeout, message, protocol, type AskType, type Handlers, type Payload, type Reply, type Ref } from '@murmur/actor-core'
import { pinned } from '@murmur/swarm'
import { startLocalCluster } from '../internal/local-cluster.js'
import { runIfMain, spawnKnown } from '../internal/main.js'

export const Researcher = protocol('researcher', {
  research: message(z.object({ topic: z.string(), ioMs: z.number() }), { reply: z.object({ topic: z.string(), summary: z.string(), tookMs: z.number() }) }),
  ping: message(z.object({}), { reply: z.literal('pong') }),
})

export const Heartbeat = protocol('heartbeat', {
  tick: message(z.object({}), { guarantee: ['best-effort'] }),
  count: message(z.object({}), { reply: z.number() }),
})

/** Per message type, how long an ask may take (ms). */
export const ASK_TIMEOUTS: { readonly [K in AskType<typeof Researcher>]: number } = { research: 5000, ping: 300 }

/** `ref.ask` with the timeout its message type declares in `ASK_TIMEOUTS`. */
export function askResearcher<T extends AskType<typeof Researcher>>(ref: Ref<typeof Researcher>, type: T, payload: Payload<typeof Researcher, T>): Promise<Reply<typeof Researcher, T>> {
  return ref.ask(type, payload, { timeout: ASK_TIMEOUTS[type] })
}

export class ResearcherAgent extends Agent<typeof Researcher> implements Handlers<typeof Researcher> {
  static protocol = Researcher
  async research({ topic, ioMs }: Payload<typeof Researcher, 'research'>) {
    const t0 = Date.now()
    await new Promise((r) => setTimeout(r, ioMs)) // the model / tool call
    return { topic, summary: `${topic}: ${topic.split(' ').length} words considered`, tookMs: Date.now() - t0 }
  }
  ping() {
    return 'pong' as const
  }
}

export class HeartbeatAgent extends Agent<typeof Heartbeat> implements Handlers<typeof Heartbeat> {
  static protocol = Heartbeat
  ticks = 0
  override onStart() {
    this.schedule('tick', {}, { every: 50 })
  }
  tick() {
    this.ticks++
  }
  count() {
    return this.ticks
  }
}

export interface LongTurnsOutcome {
  readonly research: Array<{ topic: string; tookMs: number; node: string }>
  readonly wallMs: number
  /** Heartbeat ticks handled on each node while the research was in progress. */
  readonly ticksDuring: Record<string, number>
  readonly busyPing: { failedWith: string; afterMs: number }
  readonly idlePing: string
}

export async function run(log: (line: string) => void = console.log): Promise<LongTurnsOutcome> {
  const cluster = await startLocalCluster(['node-a', 'node-b'], [ResearcherAgent, HeartbeatAgent])
  try {
    const [a, b] = cluster.nodes as [NonNullable<(typeof cluster.nodes)[0]>, NonNullable<(typeof cluster.nodes)[0]>]
    for (const n of [a, b]) await spawnKnown(a, Heartbeat.name, `heart-${n.nodeId}`, () => a.spawn(HeartbeatAgent, { id: `heart-${n.nodeId}`, placement: pinned(n.nodeId) }))
    const topics = ['starling murmurations', 'gossip protocols', 'vector clocks', 'xstate machines']
    for (const [i, topic] of topics.entries()) {
      const id = `researcher-${i + 1}`
      await spawnKnown(a, Researcher.name, id, () => a.spawn(ResearcherAgent, { id, placement: pinned([a, b][i % 2]!.nodeId) }))
    }
    const hearts = [a, b].map((n) => a.ref(HeartbeatAgent, `heart-${n.nodeId}`))
    const before = await Promise.all(hearts.map((h) => h.ask('count', {})))

    const t0 = Date.now()
    log(`4 researchers on 2 nodes each await 2 s of simulated I/O; heartbeats tick every 50 ms meanwhile`)
    const pending = topics.map((topic, i) => askResearcher(b.ref(ResearcherAgent, `researcher-${i + 1}`), 'research', { topic, ioMs: 2000 }))
    // researcher-1 is busy for 2 s: its ping waits in its mailbox and the 300 ms timeout fires
    await new Promise((r) => setTimeout(r, 100))
    const p0 = Date.now()
    const busyPing = await askResearcher(a.ref(ResearcherAgent, 'researcher-1'), 'ping', {}).then(
      () => ({ failedWith: 'nothing', afterMs: Date.now() - p0 }),
      (e: unknown) => ({ failedWith: e instanceof AskTimeout ? 'AskTimeout' : String(e), afterMs: Date.now() - p0 }),
    )
    log(`  ping to busy researcher-1: ${busyPing.failedWith} after ${busyPing.afterMs} ms (its per-type timeout is ${ASK_TIMEOUTS.ping} ms)`)
    const done = await Promise.all(pending)
    const wallMs = Date.now() - t0
    const after = await Promise.all(hearts.map((h) => h.ask('count', {})))
    const ticksDuring = Object.fromEntries([a, b].map((n, i) => [n.nodeId, after[i]! - before[i]!]))
    const research = done.map((r, i) => ({ topic: r.topic, tookMs: r.tookMs, node: a.find(`researcher-${i + 1}`, Researcher.name)?.node ?? '?' }))
    for (const r of research) log(`  ${r.topic} on ${r.node}: ${r.tookMs} ms`)
    log(`  all 4 in ${wallMs} ms of wall time (they overlap); heartbeat ticks meanwhile: ${Object.entries(ticksDuring).map(([n, c]) => `${n} ${c}`).join(', ')}`)
    const idlePing = await askResearcher(a.ref(ResearcherAgent, 'researcher-1'), 'ping', {})
    log(`  ping to researcher-1 once idle: ${idlePing}`)
    return { research, wallMs, ticksDuring, busyPing, idlePing }
  } finally {
    await cluster.stop()
  }
}

runIfMain(import.meta.url, async () => {
  console.log('Long turns: handlers that await slow I/O, and asks with a timeout per message type\n')
  const o = await run()
  const ok = o.wallMs < 4000 && Object.values(o.ticksDuring).every((n) => n >= 10) && o.busyPing.failedWith === 'AskTimeout' && o.idlePing === 'pong'
  console.log(ok ? '\n✓ slow handlers overlapped, the rest kept moving, and the short ask timed out on its own budget' : '\n✗ something blocked')
  return ok ? 0 : 1
})
