// `deliver(envelope, settle)`: the hook a cluster keeps a remote tell in custody with. Settled once
// the agent is done with the message (handled, failed, refused, dropped), never before; a message
// still waiting when its agent moves comes back, the same envelope object, unsettled.
import t from 'tap'
import { ActorSystem, type Envelope } from '../src/index.js'
import { CounterAgent, until } from './fixtures.js'

const tell = (id: string, type: string, payload: unknown): Envelope => (
  { kind: 'tell', to: { type: 'counter', id }, type, payload, guarantee: ['reliable'] })

t.test('a delivered tell settles after its handler ran, once; bad input settles at once', async (t) => {
  const s = new ActorSystem({ name: 'n' })
  t.teardown(() => s.stop())
  const c = s.spawn(CounterAgent, { id: 'c' })
  const settled: Envelope[] = []
  const slow = tell('c', 'addSlow', { n: 5, ms: 30 })
  s.deliver(slow, (e) => settled.push(e))
  await new Promise((r) => setTimeout(r, 5))
  t.equal(settled.length, 0, 'not settled while the async handler runs')
  await until(() => settled.length === 1)
  t.equal(settled[0], slow, 'settled with the envelope delivered')
  t.equal(await c.ask('get', {}), 5, 'and the handler had run')
  const boom = tell('c', 'log', { from: 'x', seq: 1 })
  s.deliver(boom, (e) => settled.push(e))
  const bad = tell('c', 'add', { n: 'not a number' })
  s.deliver(bad, (e) => settled.push(e))
  const unknown = tell('nobody', 'add', { n: 1 })
  s.deliver(unknown, (e) => settled.push(e))
  await until(() => settled.length === 4)
  t.ok(settled.includes(bad), 'a schema violation is settled (sending it again would not mend it)')
  t.ok(settled.includes(unknown), 'an unknown agent is settled')
  await new Promise((r) => setTimeout(r, 20))
  t.equal(settled.length, 4, 'each once')
})

t.test('a handler that throws still settles its tell', async (t) => {
  const s = new ActorSystem({ name: 'n' })
  t.teardown(() => s.stop())
  s.spawn(CounterAgent, { id: 'c' })
  const settled: Envelope[] = []
  // `boom` is declared with a reply, but a tell of it runs the same handler
  s.deliver(tell('c', 'boom', { why: 'no' }), (e) => settled.push(e))
  await until(() => settled.length === 1)
  t.pass('settled after the failure')
})

t.test('messages waiting when their agent moves come back unsettled, as the same envelopes', async (t) => {
  const s = new ActorSystem({ name: 'n' })
  t.teardown(() => s.stop())
  s.spawn(CounterAgent, { id: 'c' })
  const settled: Envelope[] = []
  const first = tell('c', 'addSlow', { n: 1, ms: 30 })
  const waiting = [tell('c', 'add', { n: 2 }), tell('c', 'add', { n: 3 })]
  s.deliver(first, (e) => settled.push(e))
  for (const e of waiting) s.deliver(e, (x) => settled.push(x))
  await new Promise((r) => setTimeout(r, 5))
  const h = await s.handoff({ type: 'counter', id: 'c' })
  t.same(settled, [first], 'the message being handled settled; the waiting ones did not')
  t.equal(h.pending.length, 2)
  t.ok(h.pending.every((e, i) => e === waiting[i]), 'the pending envelopes are the ones delivered, in order')
})
