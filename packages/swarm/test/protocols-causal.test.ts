import t from 'tap'
type Tap = { ok(value: unknown, message: string): unknown }
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

// ---- causal broadcast over Plumtree over HyParView: the stack the swarm runs ----

import { OverlayStack, type StackEvent, type StackMsg } from '../src/internal/sim/stack.js'
import type { Ctx, Input } from '../src/internal/sim/machine.js'
import type { SimProcess } from '../src/internal/sim/simulator.js'
import type { CausalRequest, CausalState } from '../src/causal-broadcast.js'
import { roundsToConverge } from '../src/internal/sim/overlay.js'

/** One node: Plumtree's deliveries feed the causal machine; its broadcasts go out through Plumtree. */
class CausalNode implements SimProcess<StackMsg, CausalEvent> {
  readonly stack: OverlayStack
  readonly causal: Runner<CausalState, CausalMsg, CausalRequest, CausalEvent>
  constructor(ctx: () => Ctx, contact: string | undefined, holdBack: boolean) {
    this.stack = new OverlayStack(ctx, contact === undefined ? {} : { contact })
    this.causal = new Runner(causalBroadcast({ holdBack }), ctx, undefined)
  }
  links(): Iterable<string> {
    return this.stack.links()
  }
  input(input: Input<StackMsg, unknown>): Effect<StackMsg, CausalEvent>[] {
    if (input.type === 'app') return this.fromCausal(this.causal.input({ type: 'app', req: input.req as CausalRequest }))
    return this.fromStack(this.stack.input(input))
  }
  fromStack(effects: readonly Effect<StackMsg, StackEvent>[]): Effect<StackMsg, CausalEvent>[] {
    return effects.flatMap((e): Effect<StackMsg, CausalEvent>[] => {
      if (e.type !== 'emit') return [e]
      if (e.event.type !== 'deliver') return []
      return this.fromCausal(this.causal.input({ type: 'recv', from: e.event.origin, msg: e.event.payload as CausalMsg }))
    })
  }
  fromCausal(effects: readonly Effect<CausalMsg, CausalEvent>[]): Effect<StackMsg, CausalEvent>[] {
    return effects.flatMap((e): Effect<StackMsg, CausalEvent>[] => {
      if (e.type === 'emit' && e.event.type === 'broadcast') return this.fromStack(this.stack.input({ type: 'app', req: { layer: 'pt', req: { type: 'broadcast', payload: e.event.msg } } }))
      if (e.type === 'emit') return [{ type: 'emit', event: e.event }]
      return []
    })
  }
}

function overPlumtree(t: Tap, holdBack: boolean): number {
  // FIFO links, as HyParView needs (a CONNECT must not overtake an earlier DISCONNECT); messages of
  // different origins still reach a node out of causal order along different tree paths.
  const sim = new Simulator<StackMsg, CausalEvent>({ seed: 5, latency: { min: 1, max: 60 } })
  const ids = Array.from({ length: 60 }, (_, i) => `n${i}`)
  ids.forEach((id, i) =>
    sim.at(i * 10, () =>
      sim.add(id, (ctx) => {
        const proc = new CausalNode(ctx, i === 0 ? undefined : 'n0', holdBack)
        return { proc, effects: proc.fromStack(proc.stack.initialEffects) }
      }),
    ),
  )
  // Wait for the overlay: the same health check as the overlay simulations use.
  sim.runFor(1000)
  t.ok(roundsToConverge({ sim, ids, round: 1000 }, 5, 30) !== null, 'overlay converged')
  const delivered = new Map<string, CausalMsg[]>(ids.map((id) => [id, []]))
  const chance = prng(77)
  let sent = 0
  sim.onEmit = (node, ev) => {
    if (ev.type !== 'deliver') return
    delivered.get(node)?.push(ev.msg)
    if (ev.msg.sender !== node && sent < 120 && chance.next() < 0.02) {
      sent++
      sim.at(sim.now + chance.int(20), () => sim.input(node, { type: 'app', req: { type: 'broadcast', payload: `re:${String(ev.msg.payload)}` } }))
    }
  }
  for (let i = 0; i < 30; i++) {
    sent++
    const node = ids[chance.int(ids.length)] as string
    sim.at(sim.now + chance.int(1000), () => sim.input(node, { type: 'app', req: { type: 'broadcast', payload: `m${i}` } }))
  }
  sim.runFor(20_000)
  let violations = 0
  for (const list of delivered.values()) for (let i = 0; i < list.length; i++) for (let j = i + 1; j < list.length; j++) if (happenedBefore((list[j] as CausalMsg).vc, (list[i] as CausalMsg).vc)) violations++
  if (holdBack) t.ok(ids.every((id) => delivered.get(id)?.length === sent), `every node delivered all ${sent} messages`)
  return violations
}

t.test('over Plumtree on a 60-node HyParView overlay: causal order holds for concurrent senders', async (t) => {
  t.equal(overPlumtree(t, true), 0, 'no causal violation at any node')
  t.ok(overPlumtree(t, false) > 0, 'and there would be some without the hold-back queue')
})
