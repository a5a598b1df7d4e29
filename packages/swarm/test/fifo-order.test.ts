import t from 'tap'
import { FifoOrder } from '../src/internal/fifo-order.js'

t.test('delivers in sender order, holds gaps, drops duplicates, moves with the agent, expires dead gaps', async (t) => {
  const f = new FifoOrder<number>()
  t.same(f.accept('x', 'a', 1, 1, 0), [1], 'first seen starts the stream')
  t.same(f.accept('x', 'a', 3, 3, 0), [], 'gap: held')
  t.same(f.accept('x', 'b', 7, 7, 0), [7], 'origins are independent')
  t.same(f.accept('x', 'a', 2, 2, 0), [2, 3], 'gap filled: both, in order')
  t.same(f.accept('x', 'a', 2, 2, 0), [], 'duplicate dropped')
  t.same(f.accept('x', 'a', 5, 5, 0), [], 'held again')
  const moved = f.take('x')
  t.same(moved.counters, [['a', 4], ['b', 8]])
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
