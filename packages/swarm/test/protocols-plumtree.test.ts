import t from 'tap'
import { plumtree, PLUMTREE_FLUSH, type PlumtreeState } from '../src/plumtree.js'
import { broadcastOnce, coldStart, crashFraction, floodCost, health, roundsToConverge, type OverlayOptions } from '../src/internal/sim/overlay.js'
import { ctxOf, emits, sends, timers } from './protocols-helpers.js'

const pt = plumtree()
const state = (s: Partial<PlumtreeState>): PlumtreeState => ({ eager: [], lazy: [], incarnation: 'i', seq: 0, received: new Map(), missing: new Map(), queue: new Map(), groups: [], ...s })
const gossip = (id: string, round = 1) => ({ t: 'gossip' as const, id, origin: 'o', round, payload: id })

t.test('broadcast: delivered locally, payload to eager peers, IHAVE to lazy peers in one batch', async (t) => {
  const s0 = state({ eager: ['a', 'b'], lazy: ['c'] })
  const one = pt.step(s0, { type: 'app', req: { type: 'broadcast', payload: 'p1' } }, ctxOf('x'))
  t.same(emits(one.effects), [{ type: 'deliver', id: 'x:i:0', origin: 'x', payload: 'p1', round: 0 }])
  t.same(sends(one.effects).map((m) => m.to), ['a', 'b'])
  t.same(timers(one.effects), [PLUMTREE_FLUSH])
  const two = pt.step(one.state, { type: 'app', req: { type: 'broadcast', payload: 'p2' } }, ctxOf('x'))
  t.same(timers(two.effects), [], 'one flush timer for the batch')
  const flush = pt.step(two.state, { type: 'timer', name: PLUMTREE_FLUSH }, ctxOf('x'))
  t.same(sends(flush.effects), [{ to: 'c', msg: { t: 'ihave', items: [{ id: 'x:i:0', round: 1 }, { id: 'x:i:1', round: 1 }] } }])
})

t.test('a restarted node (same id) draws a new incarnation, so its message ids are new', async (t) => {
  const before = pt.init(ctxOf('x', 0, 1), undefined).state
  const after = pt.init(ctxOf('x', 0, 2), undefined).state
  const idOf = (s: PlumtreeState) => {
    const [e] = emits(pt.step(s, { type: 'app', req: { type: 'broadcast', payload: 1 } }, ctxOf('x')).effects)
    return e?.id
  }
  t.not(idOf(before), idOf(after))
})

t.test('a duplicate payload PRUNEs its link; a PRUNE moves the sender to lazy', async (t) => {
  const first = pt.step(state({ eager: ['a', 'b'] }), { type: 'recv', from: 'a', msg: gossip('m') }, ctxOf('x'))
  t.equal(emits(first.effects).length, 1)
  t.same(sends(first.effects), [{ to: 'b', msg: gossip('m', 2) }], 'forwarded, not back to the sender')
  const dup = pt.step(first.state, { type: 'recv', from: 'b', msg: gossip('m') }, ctxOf('x'))
  t.same(emits(dup.effects), [], 'delivered exactly once')
  t.same(sends(dup.effects), [{ to: 'b', msg: { t: 'prune' } }])
  t.same(dup.state.lazy, ['b'])
  const pruned = pt.step(state({ eager: ['a', 'b'] }), { type: 'recv', from: 'a', msg: { t: 'prune' } }, ctxOf('x'))
  t.same(pruned.state.eager, ['b'])
  t.same(pruned.state.lazy, ['a'])
})

t.test('IHAVE of a missing message: GRAFT after the timeout; a GRAFT is answered with the payload', async (t) => {
  const heard = pt.step(state({ lazy: ['a', 'b'] }), { type: 'recv', from: 'a', msg: { t: 'ihave', items: [{ id: 'm', round: 3 }] } }, ctxOf('x'))
  t.same(timers(heard.effects), ['pt:graft:m'])
  const again = pt.step(heard.state, { type: 'recv', from: 'b', msg: { t: 'ihave', items: [{ id: 'm', round: 4 }] } }, ctxOf('x'))
  t.same(timers(again.effects), [], 'one timer per missing message')
  const fired = pt.step(again.state, { type: 'timer', name: 'pt:graft:m' }, ctxOf('x'))
  t.same(sends(fired.effects), [{ to: 'a', msg: { t: 'graft', id: 'm', round: 3 } }])
  t.same(fired.state.eager, ['a'], 'the grafted link joins the tree')
  t.same(timers(fired.effects), ['pt:graft:m'], 'and the next announcer is kept in reserve')
  const got = pt.step(fired.state, { type: 'recv', from: 'a', msg: gossip('m') }, ctxOf('x'))
  t.equal(emits(got.effects).length, 1)
  t.ok(got.effects.some((e) => e.type === 'cancel-timer' && e.name === 'pt:graft:m'))
  const holder = pt.step(state({ lazy: ['y'] }), { type: 'recv', from: 'z', msg: gossip('m') }, ctxOf('x'))
  const answer = pt.step(holder.state, { type: 'recv', from: 'y', msg: { t: 'graft', id: 'm', round: 2 } }, ctxOf('x'))
  t.same(sends(answer.effects), [{ to: 'y', msg: { ...gossip('m'), round: 2 } }])
  t.same(answer.state.eager, ['y'])
})

t.test('group broadcast: relayed by all, delivered by the members of the group only', async (t) => {
  const member = pt.step(state({ eager: ['a'] }), { type: 'app', req: { type: 'join-group', group: 'g' } }, ctxOf('x')).state
  const outsider = state({ eager: ['a'] })
  const msg = { ...gossip('m'), group: 'g' }
  const atMember = pt.step(member, { type: 'recv', from: 'z', msg }, ctxOf('x'))
  const atOutsider = pt.step(outsider, { type: 'recv', from: 'z', msg }, ctxOf('x'))
  t.equal(emits(atMember.effects).length, 1)
  t.same(emits(atOutsider.effects), [])
  t.same(sends(atOutsider.effects).map((m) => m.to), ['a'], 'the outsider still relays it')
  const left = pt.step(member, { type: 'app', req: { type: 'leave-group', group: 'g' } }, ctxOf('x')).state
  t.same(emits(pt.step(left, { type: 'recv', from: 'z', msg }, ctxOf('x')).effects), [])

  const o = coldStart({ nodes: 200, seed: 4 })
  roundsToConverge(o)
  const members = o.ids.filter((_, i) => i % 4 === 0)
  for (const id of members) o.sim.input(id, { type: 'app', req: { layer: 'pt', req: { type: 'join-group', group: 'g' } } })
  const got = new Set<string>()
  o.sim.onEmit = (node, ev) => {
    if (ev.type === 'deliver' && ev.group === 'g') got.add(node)
  }
  o.sim.input('n3', { type: 'app', req: { layer: 'pt', req: { type: 'broadcast', payload: 'hello group', group: 'g' } } })
  o.sim.runFor(3000)
  t.same([...got].sort(), [...members].sort(), 'exactly the 50 members delivered it')
})

const stabilised = (nodes: number, seed: number, extra: Partial<OverlayOptions> = {}) => {
  const o = coldStart({ nodes, seed, ...extra })
  roundsToConverge(o)
  o.sim.runFor(3 * o.round)
  broadcastOnce(o, 'n1') // the first broadcast prunes the overlay into a tree
  return o
}

t.test('1,000 nodes: a broadcast reaches >= 99.9% of survivors after 20% crash and repair, exactly once', async (t) => {
  const o = stabilised(1000, 11)
  crashFraction(o, 0.2, 11, ['n1'])
  o.sim.runFor(5 * o.round)
  t.ok(health(o).connected)
  const r = broadcastOnce(o, 'n1')
  t.ok(r.reach >= 0.999, `reach ${r.reach}`)
  t.equal(r.duplicates, 0)
})

t.test('GRAFT repairs the tree: a broadcast right after crashes reaches all with it, far fewer without', async (t) => {
  const run = (graft: boolean): number => {
    const o = stabilised(500, 5, { plumtree: { graft } })
    crashFraction(o, 0.2, 5, ['n1'])
    return broadcastOnce(o, 'n1').reach
  }
  const withGraft = run(true)
  const without = run(false)
  t.ok(withGraft >= 0.999, `with GRAFT ${withGraft}`)
  t.ok(without < 0.99, `without GRAFT ${without}`)
})

t.test('cost per node is O(1) and far below flooding; PRUNE is what makes it so', async (t) => {
  const small = broadcastOnce(stabilised(250, 2), 'n3')
  const large = broadcastOnce(stabilised(1000, 2), 'n3')
  t.ok(large.payloadsPerNode < 1.2, `payloads per node ${large.payloadsPerNode}`)
  t.ok(large.messagesPerNode < 6, `messages per node ${large.messagesPerNode}`)
  t.ok(Math.abs(large.messagesPerNode - small.messagesPerNode) < 1, `flat in N: ${small.messagesPerNode} at 250, ${large.messagesPerNode} at 1000`)
  const flood = floodCost(250, 2)
  t.equal(flood, 249, 'full-mesh flooding costs N - 1 per node')
  t.ok(small.messagesPerNode / flood < 0.05)
  const noPrune = broadcastOnce(stabilised(300, 2, { plumtree: { prune: false } }), 'n3')
  t.ok(noPrune.payloadsPerNode > 3, `without PRUNE every link carries the payload: ${noPrune.payloadsPerNode}`)
})

t.test('same seed, same figures', async (t) => {
  const run = (): string => {
    const o = stabilised(300, 9)
    crashFraction(o, 0.2, 9, ['n1'])
    return JSON.stringify(broadcastOnce(o, 'n1'))
  }
  t.equal(run(), run())
})
