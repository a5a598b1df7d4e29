import t from 'tap'
import { MembershipSim } from './helpers/membership-sim.js'
import { createMembership, step, supersedes, liveMembers, type MemberUpdate } from '../src/membership.js'

const meta = { capabilities: [], load: 0 }
const u = (status: MemberUpdate['status'], incarnation: number): MemberUpdate => ({ id: 'x', address: 'x', incarnation, status, meta })

t.test('update precedence (SWIM)', async (t) => {
  t.ok(supersedes(u('alive', 2), u('alive', 1)))
  t.notOk(supersedes(u('alive', 1), u('alive', 1)))
  t.ok(supersedes(u('suspect', 1), u('alive', 1)), 'suspect beats alive of the same incarnation')
  t.notOk(supersedes(u('suspect', 1), u('alive', 2)))
  t.ok(supersedes(u('alive', 2), u('suspect', 1)), 'refutation: alive with a higher incarnation')
  t.notOk(supersedes(u('alive', 1), u('suspect', 1)))
  t.ok(supersedes(u('dead', 1), u('suspect', 1)))
  t.notOk(supersedes(u('suspect', 5), u('dead', 1)), 'suspect never revives the dead')
  t.ok(supersedes(u('alive', 5), u('dead', 1)), 'a restarted node (higher incarnation) comes back')
  t.notOk(supersedes(u('alive', 1), u('left', 1)))
  t.ok(supersedes(u('left', 3), u('alive', 3)))
  t.ok(supersedes(u('alive', 1), undefined))
})

t.test('step is pure: the input state is untouched', async (t) => {
  const s0 = createMembership({ self: 'a', address: 'a', incarnation: 1, meta, now: 0 })
  const before = JSON.stringify([...s0.members])
  step(s0, { kind: 'message', now: 1, from: 'b', message: { t: 'join', updates: [{ id: 'b', address: 'b', incarnation: 1, status: 'alive', meta }] } })
  t.equal(JSON.stringify([...s0.members]), before)
})

t.test('join through one seed: everyone learns everyone', async (t) => {
  const sim = new MembershipSim()
  sim.add('a')
  sim.add('b', 'a')
  sim.add('c', 'a')
  sim.add('d', 'b')
  sim.add('e', 'c')
  sim.run(1000)
  for (const id of ['a', 'b', 'c', 'd', 'e']) {
    t.same(liveMembers(sim.nodes.get(id)!).map((m) => m.id), ['a', 'b', 'c', 'd', 'e'], `${id} sees all five`)
  }
  const ups = sim.events.filter((e) => e.event === 'member-up')
  t.equal(ups.length, 20, 'one member-up per (node, other member)')
  t.equal(sim.events.filter((e) => e.event !== 'member-up').length, 0, 'no suspicion in a healthy cluster')
})

t.test('crash: detected and gossiped as down everywhere within the 2 s budget', async (t) => {
  const sim = new MembershipSim()
  for (const id of ['a', 'b', 'c', 'd']) sim.add(id, id === 'a' ? undefined : 'a')
  sim.run(2000)
  sim.events = []
  const killedAt = sim.now
  sim.crash('c')
  sim.run(3000)
  for (const id of ['a', 'b', 'd']) {
    t.equal(sim.view(id)['c'], 'dead', `${id} holds c dead`)
    const down = sim.events.find((e) => e.node === id && e.event === 'member-down' && e.member === 'c')
    t.ok(down && down.at - killedAt <= 2000, `${id} saw member-down in ${down && down.at - killedAt} ms`)
  }
})

t.test('crash with no hint from the transport (a silent kill -9): probing alone finds it within 2 s', async (t) => {
  for (const n of [3, 4, 5]) {
    const ids = ['a', 'b', 'c', 'd', 'e'].slice(0, n)
    const sim = new MembershipSim()
    for (const id of ids) sim.add(id, id === 'a' ? undefined : 'a')
    sim.run(1000)
    const killedAt = sim.now
    sim.crashed.add('b')
    sim.run(4000)
    for (const id of ids.filter((x) => x !== 'b')) {
      const down = sim.events.find((e) => e.node === id && e.event === 'member-down' && e.member === 'b')
      t.ok(down && down.at - killedAt <= 2000, `${n} nodes: ${id} saw b down after ${down && down.at - killedAt} ms`)
    }
  }
})

t.test('one cut link: the indirect probes through the others keep both ends alive', async (t) => {
  const run = (indirectProbes: number) => {
    const sim = new MembershipSim({ indirectProbes })
    for (const id of ['a', 'b', 'c', 'd']) sim.add(id, id === 'a' ? undefined : 'a')
    sim.run(1000)
    sim.events = []
    sim.cut.add('a|b')
    sim.run(10_000)
    return sim
  }
  const sim = run(3)
  for (const id of ['a', 'b', 'c', 'd']) {
    for (const other of ['a', 'b', 'c', 'd']) if (other !== id) t.equal(sim.view(id)[other], 'alive', `${id} holds ${other} alive`)
  }
  t.equal(sim.events.filter((e) => e.event === 'member-down').length, 0, 'no member-down in 10 s with a and b unable to reach each other')
  t.equal(sim.events.filter((e) => e.event === 'member-suspect').length, 0, 'not even a suspicion: the relayed acks come in time')
  // The same cut without indirect probes: a and b suspect each other (each refutes through c and
  // d, so it flaps between suspect and alive): what the indirect probes prevent.
  const broken = run(0)
  t.ok(
    broken.events.some((e) => e.event === 'member-suspect' && ((e.node === 'a' && e.member === 'b') || (e.node === 'b' && e.member === 'a'))),
    'with indirectProbes 0 the cut link raises suspicions',
  )
})

t.test('a paused node is suspected but refutes, and is never declared down', async (t) => {
  const sim = new MembershipSim()
  for (const id of ['a', 'b', 'c', 'd']) sim.add(id, id === 'a' ? undefined : 'a')
  sim.run(1000)
  // For 700 ms everything b sends takes 800 ms (a long pause): longer than a probe's whole
  // 500 ms window, so b is suspected; then it recovers and must refute in time.
  sim.slow.set('b', 800)
  sim.run(700)
  sim.slow.delete('b')
  sim.run(5000)
  for (const id of ['a', 'c', 'd']) t.equal(sim.view(id)['b'], 'alive', `${id} keeps b alive`)
  t.equal(sim.events.filter((e) => e.event === 'member-down').length, 0, 'no false down')
  t.ok(sim.events.some((e) => e.event === 'member-suspect' && e.member === 'b'), 'b was suspected')
  t.ok(sim.nodes.get('b')!.members.get('b')!.incarnation > 1, 'b refuted by raising its incarnation')
})

t.test('a node that lags 200 ms (a loaded CPU) raises no suspicion at all', async (t) => {
  const sim = new MembershipSim()
  for (const id of ['a', 'b', 'c']) sim.add(id, id === 'a' ? undefined : 'a')
  sim.run(1000)
  sim.slow.set('b', 200)
  sim.run(5000)
  t.equal(sim.events.filter((e) => e.event === 'member-suspect' || e.event === 'member-down').length, 0)
})

t.test('graceful leave: member-left everywhere, never member-down', async (t) => {
  const sim = new MembershipSim()
  for (const id of ['a', 'b', 'c']) sim.add(id, id === 'a' ? undefined : 'a')
  sim.run(1000)
  sim.input('b', { kind: 'leave', now: sim.now })
  sim.run(100)
  sim.crashed.add('b') // the process exits after leaving
  sim.run(3000)
  for (const id of ['a', 'c']) {
    t.equal(sim.view(id)['b'], 'left')
    t.ok(sim.events.some((e) => e.node === id && e.event === 'member-left' && e.member === 'b'))
  }
  t.equal(sim.events.filter((e) => e.event === 'member-down').length, 0)
})

t.test('a restarted node (higher incarnation) rejoins after being declared dead', async (t) => {
  const sim = new MembershipSim()
  for (const id of ['a', 'b', 'c']) sim.add(id, id === 'a' ? undefined : 'a')
  sim.run(1000)
  sim.crash('c')
  sim.run(3000)
  t.equal(sim.view('a')['c'], 'dead')
  sim.crashed.delete('c')
  sim.add('c', 'a', 1000)
  sim.run(1500)
  t.equal(sim.view('a')['c'], 'alive')
  t.equal(sim.view('b')['c'], 'alive')
})

t.test('metadata travels with gossip', async (t) => {
  const sim = new MembershipSim()
  for (const id of ['a', 'b', 'c']) sim.add(id, id === 'a' ? undefined : 'a')
  sim.run(500)
  sim.input('b', { kind: 'set-meta', now: sim.now, meta: { capabilities: ['gpu'], load: 12 } })
  sim.run(2000)
  t.same(sim.nodes.get('c')!.members.get('b')!.meta, { capabilities: ['gpu'], load: 12 })
})

t.test('deterministic: same seed, same history', async (t) => {
  const run = () => {
    const sim = new MembershipSim()
    for (const id of ['a', 'b', 'c', 'd']) sim.add(id, id === 'a' ? undefined : 'a')
    sim.run(500)
    sim.crash('d')
    sim.run(2500)
    return JSON.stringify(sim.events) + sim.sent
  }
  t.equal(run(), run())
})

t.test('local health: a tick that ran late excuses the deadlines instead of suspecting others', async (t) => {
  const init = (id: string) => createMembership({ self: id, address: id, incarnation: 1, meta, now: 0 })
  let a = init('a')
  a = step(a, { kind: 'message', now: 0, from: 'b', message: { t: 'sync', updates: [{ id: 'b', address: 'b', incarnation: 1, status: 'alive', meta }] } }).state
  a = step(a, { kind: 'tick', now: 0 }).state
  t.equal(a.probes.size, 1, 'probing b')
  const kinds = (s: typeof a, input: Parameters<typeof step>[1]) =>
    step(s, input).effects.filter((e) => e.kind === 'send').map((e) => (e as { message: { t: string } }).message.t)
  // 900 ms later with no ack: on time, the probe escalates (b suspected: no one to ask indirectly).
  const onTime = step(a, { kind: 'tick', now: 900 }).state
  t.equal(step(onTime, { kind: 'tick', now: 1300 }).state.members.get('b')!.status, 'suspect', 'on time: suspected')
  // The same 900 ms, but this node itself was stalled for 800 of them: no judgement yet.
  const late = step(a, { kind: 'tick', now: 900, lag: 800 }).state
  t.equal(late.members.get('b')!.status, 'alive')
  t.notOk(kinds(a, { kind: 'tick', now: 900, lag: 800 }).includes('ping-req'), 'no escalation on a late tick')
  const acked = step(late, { kind: 'message', now: 901, from: 'b', message: { t: 'ack', seq: [...late.probes.values()][0]!.seq, updates: [] } }).state
  t.equal(acked.probes.size, 0, 'the ack read after the stall settles the probe')
})
