import t from 'tap'
import { causalBroadcast, happenedBefore, type CausalMsg, type CausalEvent } from '../src/causal-broadcast.js'
import { Runner, type Effect } from '../src/internal/sim/machine.js'
import { deriveSeed, prng } from '../src/internal/sim/prng.js'
import { Simulator } from '../src/internal/sim/simulator.js'
import { ctxOf, emits } from './protocols-helpers.js'

t.test('a message ahead of its causal past is held back, then delivered in order', async (t) => {
  const cb = causalBroadcast()
  const ctx = ctxOf('c')
  let { state } = cb.init(ctx, undefined)
  const m1: CausalMsg = { sender: 'a', vc: { a: 1 }, payload: 'question' }
  const m2: CausalMsg = { sender: 'b', vc: { a: 1, b: 1 }, payload: 'answer' }
  const early = cb.step(state, { type: 'recv', from: 'b', msg: m2 }, ctx)
  t.same(emits(early.effects), [], 'the answer waits for its question')
  t.equal(early.state.held.length, 1)
  const late = cb.step(early.state, { type: 'recv', from: 'a', msg: m1 }, ctx)
  t.same(emits(late.effects).map((e) => (e.type === 'deliver' ? e.msg.payload : null)), ['question', 'answer'])
  t.same(late.state.vc, { a: 1, b: 1 })
  t.same(late.state.held, [])
  state = late.state
  const dup = cb.step(state, { type: 'recv', from: 'a', msg: m1 }, ctx)
  t.same(emits(dup.effects), [], 'a duplicate is dropped')
})

t.test('FIFO per sender: a sender’s second message waits for its first', async (t) => {
  const cb = causalBroadcast()
  const ctx = ctxOf('c')
  const { state } = cb.init(ctx, undefined)
  const second = cb.step(state, { type: 'recv', from: 'a', msg: { sender: 'a', vc: { a: 2 }, payload: 2 } }, ctx)
  t.same(emits(second.effects), [])
  const first = cb.step(second.state, { type: 'recv', from: 'a', msg: { sender: 'a', vc: { a: 1 }, payload: 1 } }, ctx)
  t.same(emits(first.effects).map((e) => (e.type === 'deliver' ? e.msg.payload : null)), [1, 2])
})

t.test('happenedBefore', async (t) => {
  t.ok(happenedBefore({ a: 1 }, { a: 1, b: 1 }))
  t.notOk(happenedBefore({ a: 1 }, { a: 1 }))
  t.notOk(happenedBefore({ a: 2 }, { b: 1 }))
})

interface Outcome {
  violations: number
  delivered: Map<string, CausalMsg[]>
  sent: number
}

/**
 * Five nodes broadcast concurrently and answer what they receive, over a network that reorders
 * (no FIFO, latency 1..80 ms). Counts, per node, pairs delivered against happened-before.
 */
function chatter(seed: number, holdBack: boolean): Outcome {
  const ids = ['a', 'b', 'c', 'd', 'e']
  const sim = new Simulator<CausalMsg, CausalEvent>({ seed, fifo: false, latency: { min: 1, max: 80 } })
  const delivered = new Map<string, CausalMsg[]>(ids.map((id) => [id, []]))
  const runners = new Map<string, Runner<unknown, CausalMsg, { type: 'broadcast'; payload: unknown }, CausalEvent>>()
  const chance = prng(deriveSeed(seed, 'app'))
  let sent = 0
  // The layer below: a broadcast reaches every other node directly; app logic answers 30% of deliveries.
  const toSends = (self: string, effects: readonly Effect<CausalMsg, CausalEvent>[]): Effect<CausalMsg, CausalEvent>[] =>
    effects.flatMap((e) => (e.type === 'emit' && e.event.type === 'broadcast' ? ids.filter((p) => p !== self).map((to) => ({ type: 'send' as const, to, msg: (e.event as { msg: CausalMsg }).msg })) : [e]))
  for (const id of ids) {
    sim.add(id, (ctx) => {
      const runner = new Runner(causalBroadcast({ holdBack }) as never, ctx, undefined) as Runner<unknown, CausalMsg, { type: 'broadcast'; payload: unknown }, CausalEvent>
      runners.set(id, runner)
      return { proc: { links: () => [], input: (input) => toSends(id, runner.input(input as never)) }, effects: [] }
    })
  }
  sim.onEmit = (node, ev) => {
    if (ev.type !== 'deliver') return
    delivered.get(node)?.push(ev.msg)
    if (ev.msg.sender !== node && chance.next() < 0.3 && sent < 400) {
      sent++
      sim.at(sim.now + chance.int(5), () => sim.input(node, { type: 'app', req: { type: 'broadcast', payload: `re:${String(ev.msg.payload)}` } }))
    }
  }
  for (let i = 0; i < 60; i++) {
    const node = ids[i % ids.length] as string
    sent++
    sim.at(chance.int(2000), () => sim.input(node, { type: 'app', req: { type: 'broadcast', payload: `${node}-${i}` } }))
  }
  sim.runFor(60_000)
  let violations = 0
  for (const list of delivered.values()) {
    for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) if (happenedBefore((list[j] as CausalMsg).vc, (list[i] as CausalMsg).vc)) violations++
  }
  return { violations, delivered, sent }
}

t.test('concurrent senders over a reordering network: every node delivers everything, in causal order', async (t) => {
  for (const seed of [1, 2, 3]) {
    const r = chatter(seed, true)
    t.equal(r.violations, 0, `seed ${seed}: no causal violation`)
    for (const [node, list] of r.delivered) t.equal(list.length, r.sent, `seed ${seed}: ${node} delivered all ${r.sent}`)
  }
})

t.test('without the hold-back queue, causal order breaks on the same network', async (t) => {
  const r = chatter(1, false)
  t.ok(r.violations > 0, `${r.violations} pairs delivered out of causal order`)
})
