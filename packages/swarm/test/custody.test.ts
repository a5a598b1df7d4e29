// Custody of reliable tells, hop by hop (src/internal/custody.ts), and the custody id on the wire.
import t from 'tap'
import type { Envelope } from '@murmur/actor-core'
import { CustodyTable, ReleaseBatch, forRuns, toRuns } from '../src/internal/custody.js'
import { packEnvelope, unpackEnvelope } from '../src/internal/wire.js'

t.test('a table holds items per next node until released or taken back', async (t) => {
  const table = new CustodyTable<string>()
  const a1 = table.hold('m1', 'a')
  const b1 = table.hold('m2', 'b')
  const a2 = table.hold('m3', 'a')
  t.not(a1, a2, 'ids are distinct')
  t.equal(table.count(), 3)
  t.equal(table.count('a'), 2)
  t.equal(table.release(b1), 'm2', 'released: the item, to release upstream in turn')
  t.equal(table.release(b1), undefined, 'once')
  t.same(table.takeToward('a'), ['m1', 'm3'], 'a went down: what it held comes back, oldest first')
  t.equal(table.release(a1), undefined, 'a release that comes after the take is ignored')
  t.equal(table.count(), 0)
})

t.test('the window moves on past an item held long, and still releases and takes it back', async (t) => {
  const table = new CustodyTable<number>()
  const stuck = table.hold(-1, 'cut-off')
  let wrong = 0
  for (let i = 0; i < 200_000; i++) if (table.release(table.hold(i, 'a')) !== i) wrong++
  t.equal(wrong, 0, '200,000 held and released behind it')
  t.equal(table.count(), 1, 'only the stuck one is held')
  t.same([...table.nodes()], ['cut-off'])
  t.equal(table.count('cut-off'), 1)
  t.same(table.takeToward('cut-off'), [-1], 'taken back when its node goes down')
  t.equal(table.release(stuck), undefined)
  const again = table.hold(7, 'x')
  t.equal(table.release(again), 7, 'and the table goes on')
  t.equal(table.count(), 0)
})

t.test('releases batch per node and incarnation, and wait for a session', async (t) => {
  const batch = new ReleaseBatch()
  batch.add({ n: 'a', i: 1, c: 1 })
  batch.add({ n: 'a', i: 1, c: 2 })
  batch.add({ n: 'a', i: 2, c: 9 })
  batch.add({ n: 'b', i: 1, c: 3 })
  t.same(batch.take((n) => n === 'a'), [{ n: 'a', i: 1, c: [1, 2] }, { n: 'a', i: 2, c: [9] }], 'one message per node life')
  t.equal(batch.size, 1, "b's waits for its session")
  batch.forget('b')
  t.same(batch.take(() => true), [], 'a node gone takes its releases with it')
})

t.test('releases travel as runs of consecutive ids; malformed runs yield nothing', async (t) => {
  t.same(toRuns([5, 3, 4, 9, 10, 1]), [1, 1, 3, 3, 9, 2])
  const ids = (runs: unknown): number[] => {
    const out: number[] = []
    forRuns(runs, (id) => out.push(id))
    return out
  }
  t.same(ids([1, 1, 3, 3, 9, 2]), [1, 3, 4, 5, 9, 10])
  t.same(toRuns([]), [])
  t.same(ids('x'), [], 'not an array')
  t.same(ids([1, 2, 'a', 1]), [1, 2], 'stops at the first bad run')
  t.same(ids([0, 1e12]), [], 'a run too long to be real')
})

t.test('the custody id travels in the envelope; the receiver learns whom to release to', async (t) => {
  const e: Envelope = { kind: 'tell', to: { type: 'worker', id: 'w-1' }, type: 'do', payload: { n: 1 }, guarantee: ['reliable', 'fifo'] }
  const packed = packEnvelope({ e, o: 'node-a', h: 1, s: 4, oi: 7 }, undefined, 42)
  const there = unpackEnvelope(packed, e.guarantee, undefined, { nodeId: 'node-b', incarnation: 99 })
  t.same(there?.u, { n: 'node-b', i: 99, c: 42 }, 'received: release to the sending node, its incarnation, under that id')
  t.equal(there?.s, 4)
  const back = unpackEnvelope(packed, e.guarantee)
  t.equal(back?.c, 42, 'handed back to its own sender: the id it holds the original under')
  t.equal(back?.u, undefined)
  t.equal(unpackEnvelope(packEnvelope({ e, o: 'node-a', h: 0 }), e.guarantee)?.c, undefined, 'no custody: no id')
  const bad = [...packed]
  bad[7] = 'x'
  t.equal(unpackEnvelope(bad, e.guarantee), undefined, 'a custody id that is not a number: malformed, refused')
})

t.test('the nodes items are held toward', async (t) => {
  const table = new CustodyTable<string>()
  table.hold('m1', 'a')
  const b = table.hold('m2', 'b')
  table.hold('m3', 'a')
  t.same([...table.nodes()].sort(), ['a', 'b'])
  table.release(b)
  t.same([...table.nodes()], ['a'], 'b is done with')
})
