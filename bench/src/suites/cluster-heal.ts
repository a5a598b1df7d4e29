/**
 * `cluster.heal`: five `@murmur/swarm` node processes on 127.0.0.1, 60 agents spread over them.
 * The cluster is cut 3 | 2 (each process's transport is wrapped by `cuttableTransport`, which
 * drops traffic to and from the other side: the uws transport has no interposition hook); each
 * side detects the other as down, restarts the agents it lost and both sides update every agent.
 * Then the cut ends: ms from the end of the partition until one membership, one activation per
 * agent, and every node's directory naming that activation (converged directories). Median of 3.
 *
 * This file is also its own worker (`MURMUR_HEAL_BENCH_ROLE=node`).
 */
import { z } from 'zod'
import { Agent, protocol, message } from '@murmur/actor-core'
import { createUwsTransport } from '@murmur/transport'
import { Swarm, cuttableTransport } from '@murmur/swarm'
import type { BenchContext, BenchRecord, BenchSuite } from '../record.js'
import { createCollector } from '../lib/collect.js'
import { startWorker, type WorkerHandle } from '../lib/worker.js'
import { serveWorker } from '../lib/serve.js'

const ROLE_ENV = 'MURMUR_HEAL_BENCH_ROLE'

const Tally = protocol('bench-tally', {
  add: message(z.object({ tag: z.string() }), { guarantee: ['reliable', 'fifo'] }),
})
class TallyAgent extends Agent<typeof Tally> {
  static protocol = Tally
  static supervision = { restart: 'on-failure' } as const
  tags: string[] = []
  add({ tag }: { tag: string }): void {
    if (!this.tags.includes(tag)) this.tags.push(tag)
  }
  onConflict(other: { tags?: string[] }): void {
    for (const tag of other.tags ?? []) if (!this.tags.includes(tag)) this.tags.push(tag)
  }
}

async function node(nodeId: string, seeds: string[]): Promise<void> {
  const secret = 'bench-secret'
  const { transport, cut, heal } = cuttableTransport(
    createUwsTransport({ nodeId, cluster: 'bench-heal', secret, host: '127.0.0.1', port: 0, channels: { default: { parallelism: 1 } }, maxBatch: 1024 }),
  )
  const n = await Swarm.start({ nodeId, port: 0, seeds, secret, agents: [TallyAgent], transport })
  const ids = (count: number) => Array.from({ length: count }, (_, i) => `t-${i}`)
  serveWorker(
    {
      members: () => n.members().filter((m) => m.status === 'alive' || m.status === 'suspect').map((m) => m.id).sort(),
      spawn: async ({ count }: { count: number }) => {
        for (const id of ids(count)) await n.spawn(TallyAgent, { id })
        return count
      },
      tell: ({ count, tag }: { count: number; tag: string }) => {
        for (const id of ids(count)) n.ref(TallyAgent, id).tell('add', { tag })
        return count
      },
      hosted: () => n.system.localAgents().map((a) => a.id),
      find: ({ count }: { count: number }) => ids(count).map((id) => n.find(id)?.node ?? null),
      entry: ({ id }: { id: string }) => {
        const e = n.find(id)
        return e === undefined ? null : `${e.node}v${e.version}`
      },
      metrics: () => n.metrics(),
      cut: ({ nodeIds, addresses }: { nodeIds: string[]; addresses: string[] }) => (cut(nodeIds, addresses), true),
      heal: () => (heal(), true),
    },
    { address: n.address },
  )
}

type Node = WorkerHandle<{ address: string }>
const self = new URL(import.meta.url)
const start = (id: string, seeds: string[]): Promise<Node> => startWorker<{ address: string }>(self, [id, ...seeds], { env: { [ROLE_ENV]: 'node' } })

async function until(cond: () => Promise<boolean>, what: string, ms = 60_000, every = 10): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, every))
  }
}

const AGENTS = 60

async function healOnce(): Promise<number> {
  const ids = ['h0', 'h1', 'h2', 'h3', 'h4']
  const nodes = new Map<string, Node>()
  try {
    const first = await start('h0', [])
    nodes.set('h0', first)
    for (const id of ids.slice(1)) nodes.set(id, await start(id, [first.ready.address]))
    const all = [...nodes.values()]
    const sees = async (side: string[]) => (await Promise.all(side.map((id) => nodes.get(id)!.call<string[]>('members')))).every((v) => v.join() === [...side].sort().join())
    await until(() => sees(ids), 'membership of 5')
    await first.call('spawn', { count: AGENTS })
    await until(async () => (await Promise.all(all.map((x) => x.call<(string | null)[]>('find', { count: AGENTS })))).every((v) => v.every((n) => n !== null)), 'directories')
    const left = ['h0', 'h1', 'h2']
    const right = ['h3', 'h4']
    const addr = (side: string[]) => side.map((id) => nodes.get(id)!.ready.address)
    await Promise.all([
      ...left.map((id) => nodes.get(id)!.call('cut', { nodeIds: right, addresses: addr(right) })),
      ...right.map((id) => nodes.get(id)!.call('cut', { nodeIds: left, addresses: addr(left) })),
    ])
    await until(async () => (await sees(left)) && (await sees(right)), 'each side alone')
    await nodes.get('h0')!.call('tell', { count: AGENTS, tag: 'L' })
    await nodes.get('h3')!.call('tell', { count: AGENTS, tag: 'R' })
    // let each side restart what it lost
    await until(async () => {
      const hosted = (await Promise.all(right.map((id) => nodes.get(id)!.call<string[]>('hosted')))).flat()
      return new Set(hosted).size === AGENTS
    }, 'the minority to host every agent')
    const healedAt = Date.now()
    await Promise.all(all.map((x) => x.call('heal')))
    let why = ''
    await until(async () => {
      if (!(await sees(ids))) return (why = 'membership', false)
      const hosted = await Promise.all(ids.map(async (id) => [id, await nodes.get(id)!.call<string[]>('hosted')] as const))
      const where = new Map<string, string[]>()
      for (const [id, list] of hosted) for (const a of list) where.set(a, [...(where.get(a) ?? []), id])
      if (where.size !== AGENTS || [...where.values()].some((h) => h.length !== 1)) {
        const nowhere = Array.from({ length: AGENTS }, (_, i) => `t-${i}`).filter((a) => !where.has(a)).slice(0, 3)
        const entries = await Promise.all(nowhere.map(async (a) => `${a}: ${(await Promise.all(all.map((x) => x.call<string | null>('entry', { id: a })))).join(',')}`))
        const m = await Promise.all(all.map((x) => x.call<Record<string, number>>('metrics')))
        const sum = (k: string) => m.reduce((acc, r) => acc + (r[k] ?? 0), 0)
        why = `activations: ${AGENTS - where.size} hosted nowhere [${entries.join('; ')}] restarts ${sum('restarts')} handoffs ${sum('handoffs')} failed ${sum('handoffsFailed')} dupStopped ${sum('duplicatesStopped')} restoredFromConflict ${sum('restoredFromConflict')} lost ${sum('conflictsLost')} deadLetters ${sum('deadLetters')}, ${[...where].filter(([, h]) => h.length !== 1).map(([a, h]) => `${a}@${h.join('+')}`).join(' ')}`
        return false
      }
      const views = await Promise.all(all.map((x) => x.call<(string | null)[]>('find', { count: AGENTS })))
      why = `directories: ${views.map((v, k) => `${ids[k]}:${v.filter((n, i) => n !== where.get(`t-${i}`)![0]).length}`).join(' ')}`
      return views.every((v) => v.every((n, i) => n === where.get(`t-${i}`)![0]))
    }, 'converged directories after the heal', 30_000).catch((e: Error) => {
      throw new Error(`${e.message} (${why})`)
    })
    return Date.now() - healedAt
  } finally {
    for (const x of nodes.values()) x.kill()
  }
}

export const suite: BenchSuite = {
  name: 'cluster-heal',
  names: ['cluster.heal'],
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const out = createCollector()
    const rounds = ctx.quick ? 1 : 3
    for (let i = 0; i < rounds; i++) if (ctx.wants('cluster.heal')) out.add('cluster.heal', 'ms', await healOnce())
    return out.records().map((r) => ({ ...r, note: `5 processes cut 3|2, ${AGENTS} agents; end of the cut to one activation each and agreeing directories (members held dead are redialled every 1 s)` }))
  },
}

if (process.env[ROLE_ENV] === 'node') await node(process.argv[2] ?? 'n', process.argv.slice(3))
