import t from 'tap'
import { run } from '../src/examples/chat.js'

t.test('causal chat: no reader sees a reply before its question, even over a slow link', async (t) => {
  const { runs } = await run(() => {})
  for (const [who, r] of Object.entries(runs.causal)) {
    t.equal(r.violations, 0, `${who}: no reply before its question under ['reliable', 'causal']`)
    t.equal(r.order.length, 2, `${who} saw both messages`)
  }
  t.ok(runs.fifo.carol!.violations > 0, 'the slow link really reorders: under fifo alone carol reads the reply first')
})
