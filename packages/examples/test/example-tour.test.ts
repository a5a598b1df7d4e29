import t from 'tap'
import { run } from '../src/examples/tour.js'

t.test("the README's tour: spawn on one node, ask by id from the other", async (t) => {
  const r = await run(() => {})
  t.equal(r.text, 'hello, Ada')
  t.equal(r.greeted, 1)
  t.match(r.home, /^node-/, 'the directory knows where greeter-1 lives')
})
