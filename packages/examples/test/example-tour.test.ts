import t from 'tap'
import { run } from '../src/examples/tour.js'

t.test("the README's tour: three nodes, one agent addressed by id from every node, its state moving on a stop", async (t) => {
  const r = await run(() => {})
  t.same(
    r.asks.map((a) => a.greeted),
    [1, 2, 3],
    'one greeter answered all three nodes, in turn: one copy, its count going up',
  )
  t.same(
    r.asks.map((a) => a.text),
    r.asks.map((a) => `hello, ${a.asker}`),
    'each node got its own answer',
  )
  t.equal(new Set(r.asks.map((a) => a.home)).size, 1, 'every node found it at the same home')
  t.match(r.asks[0]?.home, /^node-/)
  t.not(r.after.home, r.after.stopped, 'after its home stopped it lives elsewhere')
  t.equal(r.after.greeted, 4, 'with its state: the count went on from 3')
})
