/**
 * A partition and its heal. Four nodes split two against two: each side declares the other down,
 * restarts the counters it lost (they are `restart: 'on-failure'`) and keeps counting. When the
 * network heals, the sides find each other again, the directories merge, and each counter
 * survives as exactly one activation (the rule is deterministic, so every node agrees which),
 * whose `onConflict` merges in the state of the copy that lost.
 * The network is simulated (`createMemoryNetwork`) so the cut can be made on demand.
 *
 * Run: pnpm --filter @murmur/examples run example:partition
 */
import { z } from 'zod'
import { Agent, message, protocol, type Handlers, type Payload } from '@murmur/actor-core'
import { MemoryCluster } from '../internal/memory-cluster.js'
import { runIfMain, spawnKnown, waitUntil } from '../internal/main.js'

export const Tally = protocol('tally', {
  add: message(z.object({ n: z.number(), side: z.string() })),
  get: message(z.object({}), { reply: z.object({ total: z.number(), bySide: z.record(z.string(), z.number()) }) }),
})

/**
 * A counter that each side of a partition may update on its own: every side adds only under its
 * own key (a grow-only counter), so two copies merge by taking, per key, the larger count.
 */
export class TallyAgent extends Agent<typeof Tally> implements Handlers<typeof Tally> {
  static protocol = Tally
  static supervision = { restart: 'on-failure' } as const
  bySide: Record<string, number> = {}
  add({ n, side }: Payload<typeof Tally, 'add'>) {
    this.bySide[side] = (this.bySide[side] ?? 0) + n
  }
  get() {
    return { total: Object.values(this.bySide).reduce((a, b) => a + b, 0), bySide: { ...this.bySide } }
  }
  /** After a heal, the swarm hands the winner the losing duplicate's snapshot. */
  onConflict(other: unknown) {
    for (const [side, n] of Object.entries((other as { bySide?: Record<string, number> }).bySide ?? {})) {
      this.bySide[side] = Math.max(this.bySide[side] ?? 0, n)
    }
  }
}

type Tally_ = { total: number; bySide: Record<string, number> }

export interface PartitionOutcome {
  readonly views: Record<'before' | 'during' | 'after', Record<string, string[]>>
  /** Whether the two sides merged back into one membership within the wait. */
  readonly healed: boolean
  /** Per counter: on which nodes it runs, after the heal. */
  readonly hostsAfter: Record<string, string[]>
  /** Per side, per counter: the answer during the partition. */
  readonly during: Record<string, Record<string, Tally_>>
  /** Per node, per counter: the answer after the heal (all nodes must agree). */
  readonly after: Record<string, Record<string, Tally_>>
}

export async function run(log: (line: string) => void = console.log, healWaitMs = 30_000): Promise<PartitionOutcome> {
  const ids = ['a', 'b', 'c', 'd'].map((x) => `node-${x}`)
  const left = ids.slice(0, 2)
  const right = ids.slice(2)
  const counters = Array.from({ length: 6 }, (_, i) => `tally-${i + 1}`)
  const cluster = new MemoryCluster(5)
  const snapshotViews = () => Object.fromEntries(ids.map((id) => [id, cluster.view(id)]))
  const hosts = () => Object.fromEntries(counters.map((c) => [c, ids.filter((id) => cluster.node(id).system.hosts({ type: Tally.name, id: c }))]))
  const askAll = async (from: string) => {
    const out: Record<string, Tally_> = {}
    for (const c of counters) out[c] = await cluster.node(from).ref(TallyAgent, c).ask('get', {}, { timeout: 10_000 })
    return out
  }
  try {
    for (const [i, id] of ids.entries()) await cluster.add(id, [TallyAgent], i === 0 ? [] : [ids[0]!])
    await cluster.converged(ids)
    const a = cluster.node('node-a')
    for (const c of counters) await spawnKnown(a, Tally.name, c, () => a.spawn(TallyAgent, { id: c }))
    // a side can restart only the agents its directory knows: let the directory spread first
    await waitUntil(() => ids.every((id) => counters.every((c) => cluster.node(id).find(c, Tally.name) !== undefined)), 'every directory to know every counter')
    const before = snapshotViews()
    log(`4 nodes, 6 counters spread over them: ${Object.entries(hosts()).map(([c, h]) => `${c}@${h.join('+')}`).join(', ')}`)

    cluster.net.partition(left, right)
    log(`\npartition: ${left.join(', ')} | ${right.join(', ')}`)
    await cluster.converged(left, 30_000)
    await cluster.converged(right, 30_000)
    const during: PartitionOutcome['during'] = {}
    for (const [side, nodes] of [['left', left], ['right', right]] as const) {
      // each side keeps working: every counter answers, restarted on this side where it was lost
      const node = cluster.node(nodes[0]!)
      const add = (c: string) => node.ref(TallyAgent, c).tell('add', { n: side === 'left' ? 1 : 10, side })
      counters.forEach(add)
      // A message sent while this side is still restarting a lost counter can find no agent;
      // such a counter is told again (an ask that fails shows it).
      await waitUntil(
        async () => {
          let all = true
          for (const c of counters) {
            const r = await node.ref(TallyAgent, c).ask('get', {}, { timeout: 2000 }).catch(() => undefined)
            if (r === undefined) add(c)
            all &&= r !== undefined && r.bySide[side] !== undefined
          }
          return all
        },
        `the ${side} side to update every counter`,
        30_000,
        200,
      )
      during[side] = await askAll(nodes[0]!)
      log(`  ${side} side (${nodes.join(', ')}) sees ${cluster.view(nodes[0]!).join(', ')}; counters: ${counters.map((c) => `${c}=${during[side]![c]!.total}`).join(' ')}`)
    }
    const duringViews = snapshotViews()

    cluster.net.heal()
    log('\nheal')
    const healed = await cluster.converged(ids, healWaitMs).then(
      () => waitUntil(() => Object.values(hosts()).every((h) => h.length === 1), 'one activation per counter', 30_000).then(() => true),
      () => false,
    )
    const hostsAfter = hosts()
    const after: PartitionOutcome['after'] = {}
    if (!healed) {
      log(`  the sides did not merge within ${healWaitMs / 1000} s: node-a sees ${cluster.view('node-a').join(', ')}; node-c sees ${cluster.view('node-c').join(', ')}`)
      return { views: { before, during: duringViews, after: snapshotViews() }, healed, hostsAfter, during, after }
    }
    // the duplicates' states reach the winners' onConflict shortly after the merge
    const merged = async () => Object.values(await askAll('node-a')).every((r) => Object.keys(r.bySide).length === 2)
    await waitUntil(merged, 'the duplicates to merge', 20_000, 100).catch(() => {})
    for (const id of ids) after[id] = await askAll(id)
    log(`  all nodes see ${cluster.view('node-a').join(', ')}`)
    log(`  one activation per counter: ${Object.entries(hostsAfter).map(([c, h]) => `${c}@${h.join('+')}`).join(', ')}`)
    log(`  counters after the merge: ${counters.map((c) => `${c}=${after['node-a']![c]!.total} (${Object.entries(after['node-a']![c]!.bySide).map(([k, v]) => `${k} ${v}`).join(' + ')})`).join(' ')}`)
    return { views: { before, during: duringViews, after: snapshotViews() }, healed, hostsAfter, during, after }
  } finally {
    await cluster.close()
  }
}

runIfMain(import.meta.url, async () => {
  console.log('A partition and its heal (4 nodes on a simulated network)\n')
  const o = await run()
  if (!o.healed) {
    console.log('\n✗ both sides kept working, but they did not merge after the heal')
    return 1
  }
  const agree = Object.values(o.after).every((r) => JSON.stringify(r) === JSON.stringify(o.after['node-a']))
  const single = Object.values(o.hostsAfter).every((h) => h.length === 1)
  const merged = Object.values(o.after['node-a'] ?? {}).every((r) => Object.keys(r.bySide).length === 2)
  const ok = agree && single && merged
  console.log(ok ? "\n✓ both sides kept working; after the heal every counter runs once, holds both sides' counts, and every node gets the same answer" : '\n✗ the merge is not consistent')
  return ok ? 0 : 1
})
