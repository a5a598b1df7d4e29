import t from 'tap'
import { run } from '../src/examples/workflow.js'

t.test('an xstate workflow agent keeps its state when its node leaves mid-way', async (t) => {
  const o = await run(() => {})
  t.equal(o.before.state, 'packing', 'validated and paid before the move')
  t.not(o.after.node, o.before.node, 'the agent moved to another node')
  t.equal(o.after.state, o.before.state, 'same machine state after the move')
  t.same(o.after.history, o.before.history, 'same history after the move')
  t.equal(o.after.paid, 129.9, 'context intact')
  t.equal(o.final.state, 'shipped', 'the workflow finished on the new node')
  t.same(o.final.history, ['validated 3 item(s)', 'paid 129.9', 'packed by robin', 'shipped with starling express'])
})
