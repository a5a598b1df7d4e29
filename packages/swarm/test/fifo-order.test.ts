import t from 'tap'
import { FifoOrder } from '../src/internal/fifo-order.js'

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
