import t from 'tap'
import { crdtMapMachine, deltaFor, digest, DIGEST_BUCKETS, emptyMap, get, has, merge, mergeDelta, put, remove, toObject, type CrdtMapState, type Semantics } from '../src/crdt-map.js'
import { machineProcess } from '../src/internal/sim/process.js'
import { prng, type Prng } from '../src/internal/sim/prng.js'
import { Simulator } from '../src/internal/sim/simulator.js'

/** JSON with sorted object keys: equal states print equal. */
const canon = (v: unknown): string =>
  JSON.stringify(v, (_k, x: unknown) => (x !== null && typeof x === 'object' && !Array.isArray(x) ? Object.fromEntries(Object.entries(x as object).sort(([a], [b]) => (a < b ? -1 : 1))) : x))
const same = (a: CrdtMapState, b: CrdtMapState): boolean => canon(a.entries) === canon(b.entries)

/** Replicas doing random puts/removes on a few keys, with random partial merges between them. */
function randomReplicas(rng: Prng, semantics: Semantics, n = 4, ops = 60): CrdtMapState[] {
  const reps = Array.from({ length: n }, () => emptyMap(semantics))
  let now = 0
  for (let i = 0; i < ops; i++) {
    now += rng.int(3) // clocks often tie: the counter and node id must break ties
    const r = rng.int(n)
    const key = `k${rng.int(5)}`
    const self = `r${r}`
    const rep = reps[r] as CrdtMapState
    const roll = rng.next()
    if (roll < 0.55) reps[r] = put(rep, key, rng.int(100), self, now).state
    else if (roll < 0.8) reps[r] = remove(rep, key, self, now).state
    else reps[r] = merge(rep, reps[rng.int(n)] as CrdtMapState)
  }
  return reps
}

for (const semantics of ['lww', 'add-wins'] as const) {
  t.test(`${semantics}: merge is commutative, associative and idempotent (seeded random states)`, async (t) => {
    const rng = prng(semantics === 'lww' ? 101 : 202)
    for (let round = 0; round < 200; round++) {
      const [a, b, c] = randomReplicas(rng, semantics, 3) as [CrdtMapState, CrdtMapState, CrdtMapState]
      if (!same(merge(a, b), merge(b, a))) t.fail(`commutativity, round ${round}`)
      if (!same(merge(merge(a, b), c), merge(a, merge(b, c)))) t.fail(`associativity, round ${round}`)
      if (!same(merge(a, a), a)) t.fail(`idempotence, round ${round}`)
      if (!same(merge(merge(a, b), b), merge(a, b))) t.fail(`absorption, round ${round}`)
    }
    t.pass('200 random triples')
  })

  t.test(`${semantics}: replicas converge whatever the order of merges`, async (t) => {
    const rng = prng(semantics === 'lww' ? 7 : 8)
    for (let round = 0; round < 50; round++) {
      const reps = randomReplicas(rng, semantics)
      const orders = [rng.shuffle(reps), rng.shuffle(reps), rng.shuffle(reps)]
      const results = orders.map((o) => o.reduce((acc, r) => merge(acc, r), emptyMap(semantics)))
      if (!results.every((r) => same(r, results[0] as CrdtMapState))) t.fail(`order changed the result, round ${round}`)
      // Anti-entropy by digests reaches the same state as merging everything.
      const [x, y] = reps as [CrdtMapState, CrdtMapState]
      const x2 = mergeDelta(x, deltaFor(y, digest(x))).state
      const y2 = mergeDelta(y, deltaFor(x2, digest(y))).state
      if (!same(x2, y2) || !same(x2, merge(x, y))) t.fail(`digest exchange did not converge, round ${round}`)
      if (Object.keys(deltaFor(x2, digest(y2))).length !== 0) t.fail('converged replicas still send deltas')
    }
    t.pass('50 random histories')
  })
}

t.test('digests stay small, and a difference ships only its bucket', async (t) => {
  let a = emptyMap('lww')
  for (let i = 0; i < 1000; i++) a = put(a, `key-${i}`, i, 'a', i).state
  const b = put(a, 'key-500', 'changed', 'b', 5000).state
  t.ok(Object.keys(digest(a)).length <= DIGEST_BUCKETS)
  t.same(deltaFor(a, digest(a)), {}, 'in sync: nothing to send')
  const delta = deltaFor(b, digest(a))
  t.ok('key-500' in delta, 'the changed key is sent')
  t.ok(Object.keys(delta).length < 1000 / 10, `with only its bucket: ${Object.keys(delta).length} entries`)
  t.equal(get(mergeDelta(a, delta).state, 'key-500'), 'changed')
})

t.test('lww: the later write wins; equal clocks are broken by node id; a later remove wins', async (t) => {
  const a = put(emptyMap('lww'), 'k', 'from-a', 'a', 10).state
  const b = put(emptyMap('lww'), 'k', 'from-b', 'b', 20).state
  t.equal(get(merge(a, b), 'k'), 'from-b')
  t.equal(get(merge(b, a), 'k'), 'from-b')
  const tieA = put(emptyMap('lww'), 'k', 'A', 'a', 5).state
  const tieB = put(emptyMap('lww'), 'k', 'B', 'b', 5).state
  t.equal(get(merge(tieA, tieB), 'k'), 'B', 'same wall time and counter: the higher node id wins, on both sides')
  t.equal(get(merge(tieB, tieA), 'k'), 'B')
  const removed = remove(b, 'k', 'b', 30).state
  t.notOk(has(merge(a, removed), 'k'))
  const rewritten = put(a, 'k', 'again', 'a', 40).state
  t.equal(get(merge(rewritten, removed), 'k'), 'again')
})

t.test('a write after a merge is ordered after what the merge brought, even with a clock behind', async (t) => {
  const ahead = put(emptyMap('lww'), 'k', 'old', 'z', 1_000).state
  const behind = merge(emptyMap('lww'), ahead)
  const next = put(behind, 'k', 'new', 'a', 5).state // wall clock far behind, node id lower
  t.equal(get(merge(ahead, next), 'k'), 'new')
})

t.test('add-wins: a put concurrent with a remove survives; a remove cancels the puts it saw', async (t) => {
  const base = put(emptyMap('add-wins'), 'k', 1, 'a', 1).state
  const removedAtA = remove(base, 'k', 'a', 2).state
  const putAtB = put(base, 'k', 2, 'b', 2).state // concurrent with the remove
  t.equal(get(merge(removedAtA, putAtB), 'k'), 2)
  t.equal(get(merge(putAtB, removedAtA), 'k'), 2)
  const seen = remove(merge(removedAtA, putAtB), 'k', 'a', 3).state
  t.notOk(has(merge(seen, putAtB), 'k'), 'a remove that saw the put wins over it')
  const lww = remove(put(emptyMap('lww'), 'k', 1, 'a', 1).state, 'k', 'a', 5).state
  t.notOk(has(merge(lww, put(emptyMap('lww'), 'k', 2, 'b', 2).state), 'k'), 'under lww the same history loses the put')
})

t.test('change events for local writes and for merges that change a visible value', async (t) => {
  const a = emptyMap('lww')
  const { delta } = put(a, 'k', 'v', 'a', 1)
  const m = mergeDelta(emptyMap('lww'), delta)
  t.same(m.changes, [{ type: 'change', key: 'k', value: 'v', deleted: false }])
  t.same(mergeDelta(m.state, delta).changes, [], 'a repeated delta changes nothing')
})

t.test('replicas on a lossy simulated network converge by anti-entropy, with change events', async (t) => {
  const ids = ['a', 'b', 'c', 'd', 'e', 'f']
  const sim = new Simulator<import('../src/crdt-map.js').CrdtMapMsg, import('../src/crdt-map.js').Change>({ seed: 4, loss: 0.3 })
  const procs = new Map<string, ReturnType<typeof machineProcess<import('../src/crdt-map.js').CrdtReplica, import('../src/crdt-map.js').CrdtMapMsg, import('../src/crdt-map.js').CrdtMapRequest, import('../src/crdt-map.js').Change, void>>['proc']>()
  const events = new Map<string, number>()
  sim.onEmit = (node) => events.set(node, (events.get(node) ?? 0) + 1)
  for (const id of ids) sim.add(id, (ctx) => {
    const made = machineProcess(crdtMapMachine({ semantics: 'add-wins', interval: 200 }), ctx, undefined)
    procs.set(id, made.proc)
    return made
  })
  for (const id of ids) for (const p of ids) if (p !== id) sim.input(id, { type: 'peer-up', peer: p })
  const rng = prng(99)
  for (let i = 0; i < 100; i++) {
    const node = ids[rng.int(ids.length)] as string
    const key = `k${rng.int(8)}`
    sim.at(rng.int(3000), () => sim.input(node, { type: 'app', req: rng.next() < 0.7 ? { type: 'put', key, value: i } : { type: 'remove', key } }))
  }
  sim.runFor(3000)
  const view = (id: string) => canon(toObject(procs.get(id)?.runner.state.map ?? emptyMap()))
  const converged = sim.runWhile(() => ids.every((id) => view(id) === view('a')), 20_000, 100)
  t.ok(converged, 'all replicas hold the same map despite 30% message loss')
  t.ok(Object.keys(toObject(procs.get('a')?.runner.state.map ?? emptyMap())).length > 0)
  t.ok(ids.every((id) => (events.get(id) ?? 0) > 0), 'each replica emitted change events')
})

t.test('tombstones older than the grace period are collected; live entries and young tombstones stay', async (t) => {
  const { collectTombstones } = await import('../src/crdt-map.js')
  const GRACE = 10_000
  let lww = put(emptyMap('lww'), 'live', 1, 'a', 1000).state
  lww = put(lww, 'gone', 2, 'a', 1001).state
  lww = remove(lww, 'gone', 'a', 2000).state
  t.equal(collectTombstones(lww, 2000 + GRACE - 1, GRACE), lww, 'a young tombstone stays (the same state back)')
  const collected = collectTombstones(lww, 2000 + GRACE + 1, GRACE)
  t.same(Object.keys(collected.entries), ['live'], 'an old one goes; the live entry stays')
  t.same(toObject(collected), toObject(lww), 'nothing visible changes')
  // A replica that has not collected yet sends the tombstone again: merged, then collected again.
  t.same(digest(collectTombstones(mergeDelta(collected, lww.entries).state, 2000 + GRACE + 1, GRACE)), digest(collected), 'digests agree again')

  let aw = put(emptyMap('add-wins'), 'k', 1, 'a', 1000).state
  aw = remove(aw, 'k', 'a', 1500).state
  aw = put(aw, 'k', 3, 'b', 5000).state
  const awc = collectTombstones(aw, 1000 + GRACE + 1, GRACE)
  t.same((awc.entries['k'] as { removed: string[] }).removed, [], "add-wins: the removed tag of 1000's put goes")
  t.equal(get(awc, 'k'), 3, 'the later put is still there')
  const gone = collectTombstones(remove(awc, 'k', 'b', 6000).state, 6000 + GRACE + 1, GRACE)
  t.same(gone.entries, {}, 'an add-wins entry left with nothing goes')
})

t.test('replicas that remove keys collect the tombstones and still agree', async (t) => {
  const ids = ['a', 'b', 'c', 'd']
  const sim = new Simulator<import('../src/crdt-map.js').CrdtMapMsg, import('../src/crdt-map.js').Change>({ seed: 7, loss: 0.2 })
  const procs = new Map<string, ReturnType<typeof machineProcess<import('../src/crdt-map.js').CrdtReplica, import('../src/crdt-map.js').CrdtMapMsg, import('../src/crdt-map.js').CrdtMapRequest, import('../src/crdt-map.js').Change, void>>['proc']>()
  for (const id of ids) sim.add(id, (ctx) => {
    const made = machineProcess(crdtMapMachine({ semantics: 'lww', interval: 100, tombstoneGrace: 2000 }), ctx, undefined)
    procs.set(id, made.proc)
    return made
  })
  for (const id of ids) for (const p of ids) if (p !== id) sim.input(id, { type: 'peer-up', peer: p })
  for (let k = 0; k < 50; k++) {
    sim.at(10 + k * 10, () => sim.input(ids[k % 4] as string, { type: 'app', req: { type: 'put', key: `k${k}`, value: k } }))
    if (k % 5 !== 0) sim.at(1000 + k * 10, () => sim.input(ids[(k + 1) % 4] as string, { type: 'app', req: { type: 'remove', key: `k${k}` } }))
  }
  const map = (id: string) => procs.get(id)?.runner.state.map ?? emptyMap()
  sim.runFor(1800)
  t.ok(ids.every((id) => Object.keys(map(id).entries).length > 10), 'before the grace period, the tombstones are kept')
  const done = sim.runWhile(() => ids.every((id) => Object.keys(map(id).entries).length === 10 && canon(map(id).entries) === canon(map('a').entries)), 20_000, 100)
  t.ok(done, 'after it, every replica holds only the 10 live keys, the same entries')
  t.same(Object.keys(toObject(map('b'))).sort(), ['k0', 'k10', 'k15', 'k20', 'k25', 'k30', 'k35', 'k40', 'k45', 'k5'])
})
