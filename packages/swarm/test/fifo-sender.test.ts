// The sending side of fifo order (src/internal/fifo-sender.ts) and how a new home uses its `low`.
import t from 'tap'
import { FifoSender, STALE_LOW_MS } from '../src/internal/fifo-sender.js'
import { FifoOrder } from '../src/internal/fifo-order.js'

t.test('numbers per agent; low follows what is done with, in or out of order', async (t) => {
  const out = new FifoSender()
  const f = out.of('a')
  t.same([out.number(f), out.number(f), out.number(f), out.number(f)], [1, 2, 3, 4])
  t.equal(out.of('a'), f, 'one stream per agent')
  t.equal(out.number(out.of('b')), 1, 'agents are numbered apart')
  out.done(f, 2)
  t.equal(f.low, 1, '2 done before 1: low waits')
  out.done(f, 1)
  t.equal(f.low, 3, '1 done: low passes 2 as well')
  out.done(f, 1)
  t.equal(f.low, 3, 'done twice changes nothing')
})

t.test('a message on a new route while older ones are out carries low; on the old route, or once they are done, none', async (t) => {
  const out = new FifoSender()
  const f = out.of('a')
  for (let s = 1; s <= 4; s++) t.equal(out.lowFor(f, out.number(f), 'old'), undefined, `#${s} to the old home: no low`)
  out.done(f, 1)
  const s5 = out.number(f)
  t.equal(out.lowFor(f, s5, 'new'), 2, 'the agent moved: #5 goes to its new home with low 2 (2–4 still out)')
  t.equal(out.lowFor(f, out.number(f), 'new'), 2, '#6 too, while 2 is out')
  for (const s of [2, 3, 4]) out.done(f, s)
  t.equal(out.lowFor(f, out.number(f), 'new'), undefined, 'all older ones done with: no low any more')
})

t.test("a new home that starts a sender's stream fresh waits for the sender's low", async (t) => {
  const order = new FifoOrder<number>()
  t.same(order.accept('x', 'n1', 5, 5, 0, 2), [], '#5 came straight, carrying low 2: held')
  t.same(order.accept('x', 'n1', 3, 3, 0), [], '#3, forwarded from the old home: held for #2')
  t.same(order.accept('x', 'n1', 2, 2, 0), [2, 3], '#2: it and #3')
  t.same(order.accept('x', 'n1', 4, 4, 0), [4, 5], '#4: it and #5, in order')
  t.same(order.accept('y', 'n1', 7, 7, 0), [7], 'without low, a fresh stream starts at the first number seen')
  t.same(order.accept('x', 'n1', 8, 8, 0, 1), [], 'low means nothing to a stream already going: #8 waits for #6 as any gap')
})

t.test('older tells out for STALE_LOW_MS: every later one carries low, whatever its route', async (t) => {
  const out = new FifoSender()
  const f = out.of('tally\u0000a')
  const s1 = out.number(f, 0)
  t.equal(out.lowFor(f, s1, 'x', 0), undefined)
  const s2 = out.number(f, 10)
  t.equal(out.lowFor(f, s2, 'x', 10), undefined, '#1 out for 10 ms, same route: nothing')
  const s3 = out.number(f, STALE_LOW_MS)
  t.equal(out.lowFor(f, s3, 'x', STALE_LOW_MS), 1, `#1 out for ${STALE_LOW_MS} ms: #3 carries low 1 on the same route`)
  out.done(f, 1, STALE_LOW_MS + 1)
  out.done(f, 2, STALE_LOW_MS + 1)
  const s4 = out.number(f, STALE_LOW_MS + 2)
  t.equal(out.lowFor(f, s4, 'x', STALE_LOW_MS + 2), undefined, '#3 became the first out just now: nothing')
})

t.test('a number handed back undelivered is out again: later messages carry low until it is done with again', async (t) => {
  const out = new FifoSender()
  const f = out.of('a')
  for (let s = 1; s <= 4; s++) out.number(f)
  for (const s of [1, 2, 3, 4]) out.done(f, s)
  t.equal(out.firstOut('a'), undefined, 'all done with')
  // #2 was delivered to a copy of the agent here, which then lost to another copy and gave its mail back.
  out.reopen(f, 2, 10)
  t.equal(out.firstOut('a'), 2, '#2 is the first out again')
  t.equal(out.lowFor(f, out.number(f), 'winner', 10), 2, '#5 carries low 2, on whatever route')
  out.done(f, 2)
  t.equal(f.low, 5, 'done with again: low passes 3 and 4, which stayed done, to #5, still out')
  out.done(f, 5)
  t.equal(out.lowFor(f, out.number(f), 'winner', 10), undefined, '#6: nothing older out, no low')
  out.reopen(f, 9, 10)
  t.equal(f.low, 6, 'a number not given yet: nothing changes')
})
