import t from 'tap'
import { merge, compareEntries, digest, differingBuckets, entriesIn, directoryKey, type DirectoryEntry, type Directory } from '../src/directory.js'

const e = (id: string, node: string, version: number, status: DirectoryEntry['status'] = 'active'): DirectoryEntry => ({ type: 'w', id, node, version, status })

t.test('merge rule: version, then node id, then stopped', async (t) => {
  t.ok(compareEntries(e('x', 'a', 2), e('x', 'b', 1)) > 0)
  t.ok(compareEntries(e('x', 'a', 1), e('x', 'b', 1)) < 0, 'tie on version: larger node id wins')
  t.ok(compareEntries(e('x', 'a', 1, 'stopped'), e('x', 'a', 1)) > 0)
  t.equal(compareEntries(e('x', 'a', 1), e('x', 'a', 1)), 0)
})

t.test('merge is order-independent, idempotent, and pure', async (t) => {
  const updates = [e('x', 'a', 1), e('x', 'b', 1), e('x', 'c', 3), e('y', 'a', 2), e('y', 'b', 2, 'stopped'), e('x', 'a', 2)]
  const empty: Directory = new Map()
  const forward = merge(empty, updates).directory
  const backward = merge(empty, [...updates].reverse()).directory
  t.same([...forward.entries()].sort(), [...backward.entries()].sort())
  t.same(forward.get(directoryKey('w', 'x')), e('x', 'c', 3))
  t.same(forward.get(directoryKey('w', 'y')), e('y', 'b', 2, 'stopped'))
  const again = merge(forward, updates)
  t.equal(again.changed.length, 0, 'merging the same again changes nothing')
  t.equal(empty.size, 0, 'input untouched')
})

t.test('anti-entropy: digests find the differing keys and one exchange converges', async (t) => {
  let a: Directory = new Map()
  let b: Directory = new Map()
  const base = Array.from({ length: 1000 }, (_, i) => e(`w-${i}`, 'n1', 1))
  a = merge(a, base).directory
  b = merge(b, base).directory
  t.same(digest(a), digest(b), 'same entries, same digest')
  a = merge(a, [e('w-5', 'n2', 2), e('w-77', 'n3', 2)]).directory
  b = merge(b, [e('w-900', 'n2', 4)]).directory
  const diff = differingBuckets(digest(a), digest(b))
  t.ok(diff.length >= 1 && diff.length <= 3, `only the touched buckets differ (${diff.length})`)
  const toB = entriesIn(a, diff)
  const toA = entriesIn(b, diff)
  t.ok(toB.length < 100, `ships a fraction (${toB.length} entries), not all 1000`)
  a = merge(a, toA).directory
  b = merge(b, toB).directory
  t.same(digest(a), digest(b), 'converged')
  t.same(a.get(directoryKey('w', 'w-900')), e('w-900', 'n2', 4))
  t.same(b.get(directoryKey('w', 'w-77')), e('w-77', 'n3', 2))
  t.same(differingBuckets([1, 2], [1]), [0, 1], 'length mismatch: everything')
})

t.test('mergeInto applies the same rule in place', async (t) => {
  const { mergeInto } = await import('../src/directory.js')
  const target = new Map<string, DirectoryEntry>()
  const updates = [e('x', 'a', 1), e('x', 'b', 1), e('y', 'a', 3), e('y', 'c', 2)]
  const changed = mergeInto(target, updates)
  t.same([...target.values()].sort((p, q) => (p.id < q.id ? -1 : 1)), [e('x', 'b', 1), e('y', 'a', 3)])
  t.equal(changed.length, 3, 'x twice (a then b won), y once')
  t.same(merge(new Map(), updates).directory, target, 'same result as the pure merge')
})
