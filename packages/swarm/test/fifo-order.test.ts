import t from 'tap'
import { FifoOrder, uncounted } from '../src/internal/fifo-order.js'

t.test('delivers in sender order, holds gaps, drops duplicates, moves with the agent, expires dead gaps', async (t) => {
  const f = new FifoOrder<number>()
  t.same(f.accept('x', 'a', 1, 1, 0), [1], 'first seen starts the stream')
  t.same(f.accept('x', 'a', 3, 3, 0), [], 'gap: held')
  t.same(f.accept('x', 'b', 7, 7, 0), [7], 'origins are independent')
  t.same(f.accept('x', 'a', 2, 2, 0), [2, 3], 'gap filled: both, in order')
  t.equal(f.accept('x', 'a', 2, 2, 0), null, 'duplicate dropped (null, so its custody can be released)')
  t.same(f.accept('x', 'a', 5, 5, 0), [], 'held again')
  const moved = f.take('x')
  t.same(moved.counters, [['a', 4, 1], ['b', 8, 7]], 'next number, and where each fresh stream started')
  t.same(moved.held, [5], 'held messages travel to the new home')
  const g = new FifoOrder<number>()
  g.restore('x', moved.counters, 0)
  t.same(g.accept('x', 'a', 5, 5, 0), [], 'the new home continues the stream: 4 is still missing')
  t.same(g.accept('x', 'a', 4, 4, 0), [4, 5])
  t.same(g.accept('x', 'a', 9, 9, 100), [])
  t.same(g.expire(1000, 5000), [], 'young gap kept')
  t.same(g.expire(6000, 5000), [9], 'old gap given up')
  t.same(g.accept('x', 'a', 10, 10, 6000), [10], 'and the stream goes on after it')
})

t.test('a number below where a fresh stream started is late, not a duplicate: delivered once, here or after a move', async (t) => {
  const f = new FifoOrder<number>()
  // The agent restarted fresh (its node crashed): the first number it sees from a is 3.
  t.same(f.accept('x', 'a', 3, 3, 0), [3])
  t.same(f.accept('x', 'a', 1, 1, 0), [1], '1 was re-routed after the crash and arrives late: delivered, out of order')
  t.equal(f.accept('x', 'a', 1, 1, 0), null, 'and only once')
  t.equal(f.accept('x', 'a', 3, 3, 0), null, 'a number at or above the start is still a duplicate')
  t.equal(f.late, 1)
  // The agent moves on: its new home knows where the stream started (sim --swarm seed 5 lost
  // a re-routed tell when only the next number moved with the agent).
  const g = new FifoOrder<number>()
  g.restore('x', f.take('x').counters, 0)
  t.same(g.accept('x', 'a', 2, 2, 0), [2], 'below the start at the new home: late, delivered')
  t.same(g.accept('x', 'a', 4, 4, 0), [4], 'the stream goes on')
  // A gap that expired and filled after all.
  t.same(g.accept('x', 'a', 6, 6, 0), [])
  t.same(g.expire(10_000, 5000), [6], 'gap 5 given up')
  t.same(g.accept('x', 'a', 5, 5, 10_000), [5], '5 arrives after all: delivered late, not dropped')
  t.equal(g.accept('x', 'a', 5, 5, 10_000), null, 'once')
})

t.test('merge: what either copy of an agent delivered stays delivered; a gap between the two is still delivered', async (t) => {
  // The winner restarted fresh and saw a's 8 and 9; the loser (an orphan, a split's other side) had 1–5.
  const winner = new FifoOrder<number>()
  t.same(winner.accept('x', 'a', 8, 8, 0), [8])
  t.same(winner.accept('x', 'a', 9, 9, 0), [9])
  const loser = new FifoOrder<number>()
  for (let n = 1; n <= 5; n++) loser.accept('x', 'a', n, n, 0)
  loser.accept('x', 'b', 1, 1, 0)
  winner.merge('x', loser.take('x').counters, 0)
  for (const n of [1, 3, 5, 8, 9]) t.equal(winner.accept('x', 'a', n, n, 0), null, `${n} was handled by one copy: a duplicate`)
  t.same(winner.accept('x', 'a', 6, 6, 0), [6], '6 reached neither copy: delivered late')
  t.same(winner.accept('x', 'a', 7, 7, 0), [7], '7 too')
  t.equal(winner.accept('x', 'a', 6, 6, 0), null, 'once')
  t.same(winner.accept('x', 'a', 10, 10, 0), [10], 'the stream goes on')
  t.equal(winner.accept('x', 'b', 1, 1, 0), null, "a stream only the loser knew comes over: b's 1 is a duplicate")
  t.same(winner.accept('x', 'b', 2, 2, 0), [2])
  // Merging counters that are behind changes nothing.
  const c = new FifoOrder<number>()
  for (let n = 1; n <= 4; n++) c.accept('x', 'a', n, n, 0)
  c.merge('x', [['a', 2]], 0)
  t.equal(c.accept('x', 'a', 4, 4, 0), null)
  t.same(c.accept('x', 'a', 5, 5, 0), [5])
})

t.test('a node remembers what a copy that left it delivered: a later copy here merges it', async (t) => {
  const f = new FifoOrder<number>()
  for (let n = 1; n <= 3; n++) f.accept('x', 'a', n, n, 0)
  f.take('x', 0) // the copy here lost to another node's (its counters went out with its state)
  f.restore('x', [], 10) // the other copy came back here, knowing nothing of a
  t.equal(f.accept('x', 'a', 2, 2, 10), null, 'handled here before: a duplicate')
  t.same(f.accept('x', 'a', 4, 4, 10), [4])
  f.take('x', 100)
  f.fresh('x', 200) // restarted here fresh
  t.equal(f.accept('x', 'a', 4, 4, 200), null, 'a fresh copy here too')
  f.take('x', 300)
  t.same(f.expire(300 + 60_001, 3000), [])
  f.fresh('x', 300 + 60_001)
  t.same(f.accept('x', 'a', 4, 4, 300 + 60_001), [4], 'forgotten after a minute')
})

t.test("a stream set up to wait for tells held here goes back to the sender's low while it delivered nothing", async (t) => {
  const f = new FifoOrder<number>()
  // At activation this node holds a's #2 and #3 on their way (it passed them on): the stream waits for #2.
  f.expect('x', 'a', 2, 0, false)
  // #3 comes back first, carrying the sender's low: #1 is older and still out (sim --swarm seed 325).
  t.same(f.accept('x', 'a', 3, 3, 0, 1), [], 'held: the stream now waits for #1')
  t.same(f.accept('x', 'a', 2, 2, 0, 1), [], 'and #2 waits behind it too')
  t.same(f.accept('x', 'a', 1, 1, 0), [1, 2, 3], '#1 arrives: all three, in order')
  t.equal(f.late, 0, 'nothing out of order')
  // Once it delivered, a lower low changes nothing: what came is not undone, a late one is late.
  const g = new FifoOrder<number>()
  g.expect('x', 'a', 5, 0, false)
  t.same(g.accept('x', 'a', 5, 5, 0), [5])
  t.same(g.accept('x', 'a', 6, 6, 0, 2), [6], 'delivered already: the stream goes on')
  t.same(g.accept('x', 'a', 2, 2, 0), [2], 'a number below the start comes late, delivered once')
})

t.test('a held copy that merged counters moved past is a duplicate at expiry, not delivered', async (t) => {
  const f = new FifoOrder<string>()
  t.same(f.accept('ag', 'n2', 1, 'm1'), ['m1'])
  t.same(f.accept('ag', 'n2', 3, 'm3 via n4', 100), [], 'm3 waits for m2')
  // A losing copy's counters: it delivered m2 (next 3).
  f.merge('ag', [['n2', 3]], 200)
  t.same(f.accept('ag', 'n2', 3, 'm3 from n2', 300), ['m3 from n2'], 'm3 is next: delivered')
  const dup: string[] = []
  t.same(f.expire(10_000, 3000, (x) => dup.push(x)), [], 'the held copy of m3 is not delivered again')
  t.same(dup, ['m3 via n4'], 'it goes back as a duplicate (its upstream is released)')
})

t.test("a gap the sender keeps saying it has out waits past the gap timeout, up to a bound", async (t) => {
  const f = new FifoOrder<string>()
  t.same(f.accept('ag', 'n2', 1, 'm1', 0), ['m1'])
  // m2 is held toward a node that is cut off; m3, m4, … take a new route, with low 2.
  t.same(f.accept('ag', 'n2', 3, 'm3', 100, 2), [])
  t.same(f.accept('ag', 'n2', 4, 'm4', 2900, 2), [])
  t.same(f.expire(3200, 3000), [], 'the sender said m2 is still out 300 ms ago: m3 and m4 wait on')
  t.same(f.accept('ag', 'n2', 2, 'm2', 4000), ['m2', 'm3', 'm4'], 'm2 comes: all three, in order')
  t.same(f.accept('ag', 'n2', 6, 'm6', 5000, 5), [])
  t.same(f.expire(8100, 3000), ['m6'], 'no word of m5 for a gap timeout: given up')
  const g = new FifoOrder<string>()
  g.accept('ag', 'n2', 1, 'm1', 0)
  for (let at = 100; at < 12_000; at += 1000) g.accept('ag', 'n2', 3 + at, `m${3 + at}`, at, 2)
  t.same(g.expire(11_000, 3000), [], 'still said to be out, within 4 gap timeouts')
  t.equal(g.expire(12_200, 3000).length, 12, 'past 4 gap timeouts: given up however often it is said to be out')
})

t.test("a losing copy's mail handed back undelivered is not counted in the counters that go to the winner", async (t) => {
  const loser = new FifoOrder<number>()
  for (const s of [1, 2, 3]) t.same(loser.accept('x', 'a', s, s, 0), [s])
  // #2 and #3 sat in the losing copy's mailbox when it stopped: they go on to the winner.
  const { counters } = loser.take('x', 0, [['a', 2], ['a', 3]])
  t.same(counters, [['a', 4, 1, [2, 3]]], '2 and 3 marked undelivered')
  const winner = new FifoOrder<number>()
  t.same(winner.accept('x', 'a', 2, 2, 0, 2), [2], 'the winner saw #2 first (low 2)')
  winner.merge('x', counters, 0)
  t.same(winner.accept('x', 'a', 3, 3, 0), [3], '#3, handed back, is delivered once it comes')
  t.equal(winner.accept('x', 'a', 1, 1, 0), null, '#1, which the loser handled, is a duplicate')
  t.equal(winner.accept('x', 'a', 3, 3, 0), null, 'and #3 only once')
  // A number below where a fresh stream started, delivered late, handed back: undelivered again.
  const late = new FifoOrder<number>()
  late.accept('y', 'a', 5, 5, 0)
  late.accept('y', 'a', 2, 2, 0)
  t.same(late.take('y', 0, [['a', 2]]).counters, [['a', 6, 5]], '#2 no longer counted as delivered late')
})

t.test('uncounted: the same for counters already taken (a move that failed to a winner)', async (t) => {
  t.same(uncounted([['a', 4, 1], ['b', 8]], [['a', 3], ['b', 9], ['c', 1]]), [['a', 4, 1, [3]], ['b', 8]], 'a #3 undelivered; b #9 was never counted; c unknown')
  t.same(uncounted([['a', 6, 5, [2]]], [['a', 2]]), [['a', 6, 5]], 'below the start: no longer delivered late')
  const c = [['a', 2] as const]
  t.equal(uncounted(c, []), c, 'nothing given back: the same counters')
})
