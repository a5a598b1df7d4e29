/**
 * Scale by simulation: 1,000 HyParView + Plumtree nodes in one process on the swarm's deterministic
 * simulator (seeded; latency 5–15 ms per message; HyParView rounds of 1 s). Same seeds, same figures.
 *
 * - `sim.convergence-1000`: rounds from a cold start (every node joins through one seed during the
 *   first round) until all joined, the overlay of active views is connected and symmetric, and every
 *   active view is full or one short (median of the seeds).
 * - `sim.broadcast-reach-1000`: crash 20% of the nodes at random, let HyParView repair for 5 rounds,
 *   broadcast once with Plumtree: fraction of the survivors that delivered it (lowest over the seeds).
 * - `sim.broadcast-cost-1000`: messages (payloads, IHAVE batches, GRAFT, PRUNE) per broadcast per
 *   node once the tree has settled, mean of 10 broadcasts (3 with --quick) from random origins, each
 *   given 1 s of virtual time; baseline `sim.flood-cost-1000`, flooding on a full mesh (each node
 *   sends to all others on first receipt).
 * - With --quick: one seed, and no broadcast-before-repair figure.
 */
import type { BenchContext, BenchRecord, BenchSuite } from '../record.js'
import { prng, simulations } from '@murmur/swarm'

const { broadcastOnce, coldStart, crashFraction, floodCost, health, roundsToConverge } = simulations
const NODES = 1000

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor(s.length / 2)] ?? NaN
}

function convergence(seed: number): { rounds: number; full: number } {
  const o = coldStart({ nodes: NODES, seed })
  const rounds = roundsToConverge(o) ?? NaN
  const h = health(o)
  return { rounds, full: h.full / h.nodes }
}

function reach(seed: number, quick: boolean): { reach: number; immediate: number } {
  const settle = (): ReturnType<typeof coldStart> => {
    const o = coldStart({ nodes: NODES, seed })
    roundsToConverge(o)
    o.sim.runFor(3 * o.round)
    broadcastOnce(o, 'n1')
    return o
  }
  const o = settle()
  crashFraction(o, 0.2, seed, ['n1'])
  o.sim.runFor(5 * o.round)
  const repaired = broadcastOnce(o, 'n1').reach
  if (quick) return { reach: repaired, immediate: NaN }
  const fresh = settle()
  crashFraction(fresh, 0.2, seed, ['n1'])
  return { reach: repaired, immediate: broadcastOnce(fresh, 'n1').reach }
}

function cost(seed: number, broadcasts: number): { all: number; payloads: number } {
  const o = coldStart({ nodes: NODES, seed })
  roundsToConverge(o)
  o.sim.runFor(3 * o.round)
  for (let i = 0; i < 3; i++) broadcastOnce(o, `n${i}`, 1000)
  const rng = prng(seed)
  let all = 0
  let payloads = 0
  const n = broadcasts
  for (let i = 0; i < n; i++) {
    const r = broadcastOnce(o, `n${rng.int(NODES)}`, 1000)
    all += r.messagesPerNode
    payloads += r.payloadsPerNode
  }
  return { all: all / n, payloads: payloads / n }
}

export const suite: BenchSuite = {
  name: 'sim',
  names: ['sim.'],
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const seeds = ctx.quick ? [1] : [1, 2, 3]
    const records: BenchRecord[] = []
    if (ctx.wants('sim.convergence-1000')) {
      const runs = seeds.map(convergence)
      records.push({
        name: 'sim.convergence-1000',
        value: median(runs.map((r) => r.rounds)),
        unit: 'rounds',
        min: Math.min(...runs.map((r) => r.rounds)),
        max: Math.max(...runs.map((r) => r.rounds)),
        note: `HyParView, 1,000 nodes, cold start through one seed; connected + symmetric + every active view full or one short; full views at that round: ${runs.map((r) => r.full.toFixed(3)).join(', ')}`,
      })
    }
    if (ctx.wants('sim.broadcast-reach-1000')) {
      const runs = seeds.map((s) => reach(s, ctx.quick))
      records.push({
        name: 'sim.broadcast-reach-1000',
        value: Math.min(...runs.map((r) => r.reach)),
        unit: 'fraction',
        min: Math.min(...runs.map((r) => r.reach)),
        max: Math.max(...runs.map((r) => r.reach)),
        note: `20% crashed, 5 rounds of repair, one Plumtree broadcast (target >= 0.999)${ctx.quick ? '' : `; broadcast right at the crash, before any repair: ${runs.map((r) => r.immediate.toFixed(4)).join(', ')}`}`,
      })
    }
    if (ctx.wants('sim.broadcast-cost-1000') || ctx.wants('sim.flood-cost-1000')) {
      const flood = floodCost(NODES, 1)
      records.push({ name: 'sim.flood-cost-1000', value: flood, unit: 'msg/node/broadcast', note: 'flooding on a full mesh: every node sends to all N-1 others on first receipt' })
      const runs = seeds.map((s) => cost(s, ctx.quick ? 3 : 10))
      const value = median(runs.map((r) => r.all))
      records.push({
        name: 'sim.broadcast-cost-1000',
        value,
        unit: 'msg/node/broadcast',
        baseline: 'sim.flood-cost-1000',
        baselineValue: flood,
        ratio: value / flood,
        min: Math.min(...runs.map((r) => r.all)),
        max: Math.max(...runs.map((r) => r.all)),
        note: `Plumtree over HyParView after the tree settled, all message kinds (ratio to flooding ${(value / flood).toFixed(4)}); payload-carrying only: ${runs.map((r) => r.payloads.toFixed(3)).join(', ')}`,
      })
    }
    return records
  },
}
