import t from 'tap'
import {
  rendezvous,
  local,
  leastLoaded,
  pinned,
  capability,
  homeOf,
  type PlacementNode,
  type PlacementStrategy,
} from '../src/placement.js'
import { murmur3 } from '../src/internal/hash.js'

const nodes = (n: number, extra: Partial<PlacementNode>[] = []): PlacementNode[] =>
  Array.from({ length: n }, (_, i) => ({ id: `node-${i}`, capabilities: [], load: 0, ...extra[i] }))

const agent = (i: number) => ({ type: 'worker', id: `w-${i}` })

/** Rules every strategy must keep, whatever it optimizes. */
function compliance(name: string, make: () => PlacementStrategy, members: PlacementNode[], self = 'node-0') {
  t.test(`${name}: compliance`, async (t) => {
    const s = make()
    t.type(s.name, 'string')
    t.type(s.rebalance, 'boolean')
    const ids = new Set(members.map((m) => m.id))
    const shuffled = [...members].reverse()
    for (let i = 0; i < 200; i++) {
      const a = agent(i)
      const p = s.place(a, { self, nodes: members })
      if (p !== undefined) t.ok(ids.has(p), 'places only on a live member')
      // Same inputs (in any order) give the same node, and a fresh instance agrees.
      t.equal(s.place(a, { self, nodes: shuffled }), p, 'independent of member order')
      t.equal(make().place(a, { self, nodes: members }), p, 'deterministic across instances')
    }
    t.equal(s.place(agent(1), { self, nodes: [] }), undefined, 'no members: no home')
  })
}

compliance('rendezvous', rendezvous, nodes(5))
compliance('local', local, nodes(5))
compliance('least-loaded', leastLoaded, nodes(5, [{ load: 3 }, { load: 1 }, { load: 1 }, { load: 9 }, { load: 2 }]))
compliance('pinned', () => pinned('node-2'), nodes(5))
compliance('capability', () => capability('gpu'), nodes(5, [{}, { capabilities: ['gpu'] }, {}, { capabilities: ['gpu', 'x'] }]))

t.test('murmur3 matches reference vectors (placement is a wire contract)', async (t) => {
  // Empty input: the published MurmurHash3_x86_32 vectors (0 and 0x514e28b7 for seed 1).
  t.equal(murmur3('', 0), 0)
  t.equal(murmur3('', 1), 0x514e28b7)
  t.equal(murmur3('a'), murmur3('a'), 'stable')
  t.not(murmur3('ab'), murmur3('ba'), 'order matters')
  t.not(murmur3('ab', 1), murmur3('ab', 2), 'seed matters')
  // Pinned value: if this changes, every agent in a running cluster changes home.
  t.equal(murmur3('worker\u0000w-1', 42), 1340897363)
  t.equal(murmur3('abc', 0), 1968171120)
})

t.test('rendezvous spreads evenly', async (t) => {
  const s = rendezvous()
  const members = nodes(4)
  const counts = new Map<string, number>()
  for (let i = 0; i < 10_000; i++) {
    const p = s.place(agent(i), { self: 'node-0', nodes: members })!
    counts.set(p, (counts.get(p) ?? 0) + 1)
  }
  t.equal(counts.size, 4)
  for (const [, c] of counts) t.ok(c > 2200 && c < 2800, `each node gets about a quarter (${c})`)
})

t.test('rendezvous: a join moves only ~1/N, all of it to the newcomer; a leave moves only the leaver’s', async (t) => {
  const s = rendezvous()
  const before = nodes(4)
  const after = nodes(5)
  const N = 10_000
  let moved = 0
  for (let i = 0; i < N; i++) {
    const a = s.place(agent(i), { self: 'node-0', nodes: before })
    const b = s.place(agent(i), { self: 'node-0', nodes: after })
    if (a !== b) {
      moved++
      t.equal(b, 'node-4', 'moves only to the new node')
    }
  }
  t.ok(moved > N / 5 - 400 && moved < N / 5 + 400, `about 1/5 moved (${moved})`)
  const without2 = before.filter((n) => n.id !== 'node-2')
  for (let i = 0; i < 2000; i++) {
    const a = s.place(agent(i), { self: 'node-0', nodes: before })
    const b = s.place(agent(i), { self: 'node-0', nodes: without2 })
    if (a !== 'node-2') t.equal(b, a, 'agents of other nodes stay')
  }
})

t.test('capability and pinned respect their constraint', async (t) => {
  const members = nodes(4, [{}, { capabilities: ['gpu'] }, {}, { capabilities: ['gpu'] }])
  const seen = new Set<string>()
  for (let i = 0; i < 200; i++) seen.add(capability('gpu').place(agent(i), { self: 'node-0', nodes: members })!)
  t.same([...seen].sort(), ['node-1', 'node-3'])
  t.equal(capability('tpu').place(agent(1), { self: 'node-0', nodes: members }), undefined)
  t.equal(pinned('node-3').place(agent(1), { self: 'node-0', nodes: members }), 'node-3')
  t.equal(pinned('node-9').place(agent(1), { self: 'node-0', nodes: members }), undefined)
})

t.test('local and least-loaded', async (t) => {
  const members = nodes(3, [{ load: 5 }, { load: 0 }, { load: 7 }])
  t.equal(local().place(agent(1), { self: 'node-2', nodes: members }), 'node-2')
  t.equal(local().place(agent(1), { self: 'node-9', nodes: members }), undefined, 'self not a member')
  t.equal(leastLoaded().place(agent(1), { self: 'node-0', nodes: members }), 'node-1')
})

t.test('homeOf: spawn-time strategies keep their node while it lives, then fall back to rendezvous', async (t) => {
  const members = nodes(3)
  const a = agent(7)
  t.equal(homeOf(local(), a, 'node-1', { self: 'node-0', nodes: members }), 'node-1')
  const rest = members.filter((n) => n.id !== 'node-1')
  const fallback = homeOf(local(), a, 'node-1', { self: 'node-0', nodes: rest })
  t.equal(fallback, rendezvous().place(a, { self: 'x', nodes: rest }))
  t.equal(homeOf(rendezvous(), a, 'node-1', { self: 'node-0', nodes: members }), rendezvous().place(a, { self: 'x', nodes: members }))
})

t.test('strategyByName rebuilds every built-in from its name', async (t) => {
  const { strategyByName } = await import('../src/placement.js')
  for (const s of [rendezvous(), local(), leastLoaded(), pinned('n-1'), capability('gpu')]) {
    const back = strategyByName(s.name)!
    t.equal(back.name, s.name)
    t.equal(back.rebalance, s.rebalance)
  }
  const custom = { name: 'mine', rebalance: true, place: () => 'x' }
  t.equal(strategyByName('mine', [custom]), custom)
  t.equal(strategyByName('nope'), undefined)
})
