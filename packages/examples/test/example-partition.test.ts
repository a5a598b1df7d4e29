import t from 'tap'
import { run } from '../src/examples/partition.js'

t.test('a partition: each side keeps working; after the heal one activation per agent and one answer everywhere', async (t) => {
  const o = await run(() => {})
  t.same(o.views.before['node-a'], ['node-a', 'node-b', 'node-c', 'node-d'], 'one cluster before')
  t.same(o.views.during['node-a'], ['node-a', 'node-b'], 'the left side sees itself during the partition')
  t.same(o.views.during['node-c'], ['node-c', 'node-d'], 'the right side sees itself during the partition')
  for (const side of ['left', 'right']) {
    for (const [c, r] of Object.entries(o.during[side]!)) t.ok(r.sides.includes(side), `${side} side updated ${c} while cut off`)
  }
  for (const id of ['node-a', 'node-b', 'node-c', 'node-d']) t.same(o.views.after[id], ['node-a', 'node-b', 'node-c', 'node-d'], `${id} sees all four after the heal`)
  for (const [c, h] of Object.entries(o.hostsAfter)) t.equal(h.length, 1, `${c} runs exactly once after the heal`)
  for (const id of ['node-b', 'node-c', 'node-d']) t.same(o.after[id], o.after['node-a'], `${id} gets the same answers as node-a`)
})
