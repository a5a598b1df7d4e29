import t from 'tap'
import { run, type PartitionOutcome } from '../src/examples/partition.js'

let o: PartitionOutcome
t.before(async () => {
  o = await run(() => {}, 30_000)
})

t.test('a partition: each side sees itself and keeps working', async (t) => {
  t.same(o.views.before['node-a'], ['node-a', 'node-b', 'node-c', 'node-d'], 'one cluster before')
  t.same(o.views.during['node-a'], ['node-a', 'node-b'], 'the left side sees itself during the partition')
  t.same(o.views.during['node-c'], ['node-c', 'node-d'], 'the right side sees itself during the partition')
  for (const side of ['left', 'right']) {
    for (const [c, r] of Object.entries(o.during[side]!)) t.ok(r.bySide[side]! > 0, `${side} side updated ${c} while cut off`)
  }
})

t.test('the heal: one membership, one activation per agent, merged state, one answer everywhere', async (t) => {
  t.ok(o.healed, 'the two sides merged')
  if (!o.healed) return
  for (const id of ['node-a', 'node-b', 'node-c', 'node-d']) t.same(o.views.after[id], ['node-a', 'node-b', 'node-c', 'node-d'], `${id} sees all four after the heal`)
  for (const [c, h] of Object.entries(o.hostsAfter)) t.equal(h.length, 1, `${c} runs exactly once after the heal`)
  for (const [c, r] of Object.entries(o.after['node-a']!)) {
    const left = o.during.left![c]!.bySide.left!
    const right = o.during.right![c]!.bySide.right!
    t.same(r.bySide, { left, right }, `${c}: onConflict merged both sides' counts (${left} + ${right})`)
    t.equal(r.total, left + right)
  }
  for (const id of ['node-b', 'node-c', 'node-d']) t.same(o.after[id], o.after['node-a'], `${id} gets the same answers as node-a`)
})
