/**
 * Cluster dynamics of `@murmur/swarm` with real node processes on 127.0.0.1:
 * - `cluster.failure-detection`: ms from `kill -9` of one node of four to `member-down` at every
 *   survivor (the slowest survivor counts). Target ≤ 2,000 ms.
 * - `cluster.rebalance`: 10,000 agents on three nodes; a fourth starts; ms from its start (join
 *   included) until it hosts every agent whose rendezvous home it now is (≈ 2,500) and the others
 *   host none of them. Target ≤ 2,000 ms.
 *
 * This file is also its own worker (`MURMUR_CLUSTER_BENCH_ROLE=node`).
 */
import { z } from 'zod'
import { Agent, protocol, message } from '@murmur/actor-core'
import { Swarm, rendezvousPick, placementKey } from '@murmur/swarm'
import type { BenchContext, BenchRecord, BenchSuite } from '../record.js'
import { createCollector } from '../lib/collect.js'
import { startWorker, type WorkerHandle } from '../lib/worker.js'
import { serveWorker } from '../lib/serve.js'

const ROLE_ENV = 'MURMUR_CLUSTER_BENCH_ROLE'

const Cell = protocol('bench-cell', {
  add: message(z.object({ n: z.number() })),
})
class CellAgent extends Agent<typeof Cell> {
  static protocol = Cell
  total = 0
  add({ n }: { n: number }): void {
    this.total += n
  }
}

/** A swarm node: answers with the times of membership events and its agent count. */
async function node(nodeId: string, seeds: string[]): Promise<void> {
  const startedAt = Date.now()
  const n = await Swarm.start({ nodeId, port: 0, seeds, secret: 'bench-secret', cluster: 'bench', agents: [CellAgent] })
  const downs = new Map<string, number>()
  n.on('member-down', (m) => downs.set(m.id, Date.now()))
  serveWorker(
    {
      members: () => n.members().filter((m) => m.status === 'alive' || m.status === 'suspect').map((m) => m.id),
      downAt: ({ id }: { id: string }) => downs.get(id) ?? null,
      hosted: () => n.system.localAgents().length,
      spawn: async ({ count }: { count: number }) => {
        for (let i = 0; i < count; i += 200) {
          await Promise.all(Array.from({ length: Math.min(200, count - i) }, (_, j) => n.spawn(CellAgent, { id: `c-${i + j}` })))
        }
        return count
      },
      /** Polls until this node hosts `expected` agents; ms since this process started the node. */
      hostedReached: async ({ expected, timeout }: { expected: number; timeout: number }) => {
        const end = Date.now() + timeout
        while (n.system.localAgents().length < expected) {
          if (Date.now() > end) return null
          await new Promise((r) => setTimeout(r, 5))
        }
        return Date.now() - startedAt
      },
    },
    { address: n.address },
  )
}

type Node = WorkerHandle<{ address: string }>
const self = new URL(import.meta.url)
const start = (id: string, seeds: string[]): Promise<Node> =>
  startWorker<{ address: string }>(self, [id, ...seeds], { env: { [ROLE_ENV]: 'node' } })

async function until(cond: () => Promise<boolean>, what: string, ms = 30_000): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

async function converged(nodes: Node[], n: number): Promise<boolean> {
  const views = await Promise.all(nodes.map((x) => x.call<string[]>('members')))
  return views.every((v) => v.length === n)
}

async function failureDetection(): Promise<number> {
  const nodes: Node[] = []
  try {
    const a = await start('a', [])
    nodes.push(a)
    for (const id of ['b', 'c', 'v']) nodes.push(await start(id, [a.ready.address]))
    await until(() => converged(nodes, 4), 'membership of 4')
    await new Promise((r) => setTimeout(r, 500))
    const victim = nodes.pop()!
    const killedAt = Date.now()
    victim.kill()
    let worst = 0
    await until(async () => {
      const times = await Promise.all(nodes.map((x) => x.call<number | null>('downAt', { id: 'v' })))
      if (times.some((t) => t === null)) return false
      worst = Math.max(...times.map((t) => (t as number) - killedAt))
      return true
    }, 'member-down everywhere', 15_000)
    return worst
  } finally {
    for (const x of nodes) x.kill()
  }
}

async function rebalance(agents: number): Promise<number> {
  const nodes: Node[] = []
  try {
    const a = await start('a', [])
    nodes.push(a)
    for (const id of ['b', 'c']) nodes.push(await start(id, [a.ready.address]))
    await until(() => converged(nodes, 3), 'membership of 3')
    await a.call('spawn', { count: agents })
    const four = ['a', 'b', 'c', 'd'].map((id) => ({ id, capabilities: [], load: 0 }))
    let expected = 0
    for (let i = 0; i < agents; i++) if (rendezvousPick(placementKey({ type: 'bench-cell', id: `c-${i}` }), four) === 'd') expected++
    const d = await start('d', [a.ready.address])
    nodes.push(d)
    const ms = await d.call<number | null>('hostedReached', { expected, timeout: 30_000 }, { timeoutMs: 40_000 })
    if (ms === null) throw new Error(`d never hosted its ${expected} agents`)
    const total = (await Promise.all(nodes.map((x) => x.call<number>('hosted')))).reduce((x, y) => x + y, 0)
    if (total !== agents) throw new Error(`after the rebalance ${total} agents run, not ${agents}`)
    return ms
  } finally {
    for (const x of nodes) x.kill()
  }
}

export const suite: BenchSuite = {
  name: 'cluster',
  names: ['cluster.'],
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const out = createCollector()
    const rounds = ctx.quick ? 1 : 3
    for (let i = 0; i < rounds; i++) {
      if (ctx.wants('cluster.failure-detection')) out.add('cluster.failure-detection', 'ms', await failureDetection())
      if (ctx.wants('cluster.rebalance')) out.add('cluster.rebalance', 'ms', await rebalance(10_000))
    }
    return out.records().map((r) =>
      r.name === 'cluster.rebalance' ? { ...r, note: '10,000 agents, 4th node joins 3; includes the join' } : { ...r, note: 'kill -9 of 1 of 4; slowest survivor' },
    )
  },
}

if (process.env[ROLE_ENV] === 'node') await node(process.argv[2] ?? 'n', process.argv.slice(3))
