import t from 'tap'
import { AgentNotFound } from '@murmur/actor-core'
import { MemoryCluster } from './helpers/cluster.js'
import { rendezvousPick, placementKey } from '../src/index.js'
import { CounterAgent, Counter, LoggerAgent, EphemeralAgent, handled } from './helpers/agents.js'

t.test('three nodes: join, spawn anywhere, tell and ask by id from every node', async (t) => {
  const c = await MemoryCluster.started(t, 1)
  const a = c.nodes.get('a')!
  for (let i = 0; i < 60; i++) await a.spawn(CounterAgent, { id: `w-${i}` })
  const spread = new Map<string, number>()
  for (let i = 0; i < 60; i++) {
    const h = c.hosts(`w-${i}`)
    t.equal(h.length, 1, `w-${i} runs on exactly one node`)
    spread.set(h[0]!, (spread.get(h[0]!) ?? 0) + 1)
  }
  t.equal(spread.size, 3, `agents spread over all nodes ${JSON.stringify([...spread])}`)
  for (const from of ['a', 'b', 'c']) {
    const n = c.nodes.get(from)!
    for (let i = 0; i < 60; i += 7) n.ref(CounterAgent, `w-${i}`).tell('add', { n: 1 })
  }
  for (const from of ['a', 'b', 'c']) {
    const n = c.nodes.get(from)!
    for (let i = 0; i < 60; i += 7) {
      const r = await n.ref(CounterAgent, `w-${i}`).ask('get', {}, { timeout: 5000 })
      t.ok(r.total >= 1)
    }
  }
  const last = await c.nodes.get('b')!.ref(Counter, 'w-0').ask('get', {}, { timeout: 5000 })
  t.equal(last.total, 3, 'one add from each node, each handled once')
  t.equal(c.nodes.get('c')!.find('w-0')?.node, c.hosts('w-0')[0], 'find() agrees with where it runs')
  await t.rejects(c.nodes.get('c')!.ref(CounterAgent, 'nobody').ask('get', {}, { timeout: 5000 }), AgentNotFound)
})

const settle = (ms: number) => new Promise((r) => setTimeout(r, ms))

t.test('join: agents whose home is now the newcomer move there with their state; messages sent during the move arrive once, in order', async (t) => {
  const c = await MemoryCluster.started(t, 2)
  const a = c.nodes.get('a')!
  const N = 120
  for (let i = 0; i < N; i++) await a.spawn(LoggerAgent, { id: `l-${i}` })
  // Stream while the 4th node joins: seq 0..59 before, 60..199 during and after.
  let seq = 0
  const send = (k: number) => {
    for (let j = 0; j < k; j++, seq++) for (let i = 0; i < N; i += 3) a.ref(LoggerAgent, `l-${i}`).tell('log', { seq })
  }
  send(60)
  // a starts its moves to d together; when the first one is done, the others are still on the
  // way: tells sent then find their agents moving and wait in the moves' buffers.
  let during = 0
  const off = a.on('agent-moved', () => {
    off()
    during = seq
    send(10)
  })
  await c.add('d', ['b'])
  for (let round = 0; round < 13; round++) {
    send(10)
    await settle(5)
  }
  await c.until(() => c.converged(), '4 members')
  // Converged: every agent runs exactly once, on the node rendezvous hashing now names.
  const four = ['a', 'b', 'c', 'd'].map((id) => ({ id, capabilities: [], load: 0 }))
  const home = (i: number) => rendezvousPick(placementKey({ type: 'logger', id: `l-${i}` }), four)
  await c.until(() => [...Array(N).keys()].every((i) => c.hosts(`l-${i}`, 'logger').join() === home(i)), 'every agent at its new home')
  const onD = [...Array(N).keys()].filter((i) => c.hosts(`l-${i}`, 'logger')[0] === 'd')
  t.ok(onD.length > N / 8 && onD.length < N / 2, `about a quarter moved to d (${onD.length})`)
  for (let i = 0; i < N; i++) t.equal(c.hosts(`l-${i}`, 'logger').length, 1, `l-${i} hosted exactly once`)
  // The agents run at their new homes before a hears the answers: wait for a's first one.
  await c.until(() => during > 0, "a's first move answered")
  t.ok(during > 0, 'tells went out as the moves began')
  const buffered = [...c.nodes.values()].reduce((sum, n) => sum + (n.metrics()['bufferedDuringMove'] ?? 0), 0)
  t.ok(buffered > 0, `some waited in a move's buffer (${buffered})`)
  for (let i = 0; i < N; i += 3) {
    // Asked from a, the sender: its ask comes after its own last tells (one fifo stream per sender and agent).
    const seqs = await a.ref(LoggerAgent, `l-${i}`).ask('seqs', {}, { timeout: 5000 })
    t.same(seqs, [...Array(seq).keys()], `l-${i}: all ${seq} messages, once each, in order`)
  }
})

t.test('graceful stop: the leaving node hands its agents, state included, to the others', async (t) => {
  const c = await MemoryCluster.started(t, 3)
  const a = c.nodes.get('a')!
  for (let i = 0; i < 30; i++) {
    await a.spawn(CounterAgent, { id: `s-${i}`, input: { i } })
    a.ref(CounterAgent, `s-${i}`).tell('add', { n: i + 1 })
  }
  await c.until(() => c.hosts('s-0').length === 1, 'spawned')
  const onB = [...Array(30).keys()].filter((i) => c.hosts(`s-${i}`)[0] === 'b')
  t.ok(onB.length > 0, `b hosts some agents (${onB.length})`)
  const left: string[] = []
  a.on('member-left', (m) => left.push(m.id))
  await c.nodes.get('b')!.stop()
  c.nodes.delete('b')
  await c.until(() => left.includes('b'), 'member-left on a')
  for (const i of onB) {
    t.equal(c.hosts(`s-${i}`).length, 1, `s-${i} runs again`)
    const r = await a.ref(CounterAgent, `s-${i}`).ask('get', {}, { timeout: 5000 })
    t.equal(r.total, i + 1, `s-${i} kept its state`)
    t.same(r.input, { i }, 'and its input')
  }
  t.notOk(a.members().some((m) => m.id === 'b' && m.status === 'dead'), 'left, not declared dead')
})

t.test('crash: lost agents restart where placement now puts them (by restart policy), and unacknowledged reliable messages follow them', async (t) => {
  const c = await MemoryCluster.started(t, 4)
  const a = c.nodes.get('a')!
  for (let i = 0; i < 40; i++) await a.spawn(LoggerAgent, { id: `k-${i}` })
  for (let i = 0; i < 40; i++) await a.spawn(EphemeralAgent, { id: `e-${i}` })
  const victims = [...Array(40).keys()].filter((i) => c.hosts(`k-${i}`, 'logger')[0] === 'c')
  const ephemeralOnC = [...Array(40).keys()].filter((i) => c.hosts(`e-${i}`, 'ephemeral')[0] === 'c')
  t.ok(victims.length > 0 && ephemeralOnC.length > 0, 'c hosts some of each')
  const downs: string[] = []
  a.on('member-down', (m) => downs.push(m.id))
  let seq = 0
  for (; seq < 50; seq++) for (const i of victims) a.ref(LoggerAgent, `k-${i}`).tell('log', { seq })
  c.crash('c')
  for (; seq < 100; seq++) for (const i of victims) a.ref(LoggerAgent, `k-${i}`).tell('log', { seq })
  await c.until(() => downs.includes('c'), 'member-down c')
  await c.until(() => victims.every((i) => c.hosts(`k-${i}`, 'logger').length === 1), 'restarted')
  for (const i of victims) {
    const seqs = await c.nodes.get('b')!.ref(LoggerAgent, `k-${i}`).ask('seqs', {}, { timeout: 5000 })
    t.ok(seqs.length > 0 && seqs.at(-1) === 99, `k-${i} restarted on ${c.hosts(`k-${i}`, 'logger')[0]} and got the messages after the crash`)
    // Across the old home (before the crash) and the new one: every seq handled exactly once.
    const counts = new Map<number, number>()
    for (const h of handled) {
      const [id, n] = h.split(':')
      if (id === `k-${i}`) counts.set(Number(n), (counts.get(Number(n)) ?? 0) + 1)
    }
    t.same([...counts.keys()].sort((x, y) => x - y), [...Array(100).keys()], `k-${i}: no message lost`)
    t.ok([...counts.values()].every((n) => n === 1), `k-${i}: none handled twice`)
  }
  const ephemeralElsewhere = [...Array(40).keys()].filter((i) => !ephemeralOnC.includes(i))
  t.equal(await a.ref(EphemeralAgent, `e-${ephemeralElsewhere[0]}`).ask('get', {}, { timeout: 5000 }), 1, 'ephemeral agents elsewhere still answer')
  for (const i of ephemeralOnC) {
    await t.rejects(a.ref(EphemeralAgent, `e-${i}`).ask('get', {}, { timeout: 5000 }), AgentNotFound, `e-${i} (restart: never) stays lost`)
  }
})

t.test('a node with the wrong secret, or of another cluster, never becomes a member', async (t) => {
  const c = new MemoryCluster(5)
  t.teardown(() => c.close())
  await c.add('a')
  await c.add('b', ['a'])
  await c.until(() => c.converged(), 'membership')
  const bad = await c.add('x', ['a', 'b'], {}, { secret: 'wrong' })
  const other = await c.add('y', ['a'], {}, { cluster: 'other' })
  await settle(1500)
  t.same(c.view('a'), ['a', 'b'])
  t.same(c.view('b'), ['a', 'b'])
  t.same(c.view('x'), ['x'], 'the impostor learned nobody')
  t.same(c.view('y'), ['y'])
  t.ok(bad && other)
})

t.test('spawning an id that already runs somewhere is refused (DuplicateAgentId), and a bad placement is PlacementFailed', async (t) => {
  const { DuplicateAgentId } = await import('@murmur/actor-core')
  const { PlacementFailed, capability, local } = await import('../src/index.js')
  const c = new MemoryCluster(6)
  t.teardown(() => c.close())
  await c.add('a')
  await c.add('b', ['a'])
  await c.until(() => c.converged(), 'membership')
  const a = c.nodes.get('a')!
  const b = c.nodes.get('b')!
  await a.spawn(CounterAgent, { id: 'only-one', placement: local() })
  a.ref(CounterAgent, 'only-one').tell('add', { n: 5 })
  await c.until(() => b.find('only-one')?.node === 'a', 'b learns where it runs')
  await t.rejects(b.spawn(CounterAgent, { id: 'only-one', placement: local() }), DuplicateAgentId)
  t.same(c.hosts('only-one'), ['a'], 'still one copy')
  t.equal((await b.ref(CounterAgent, 'only-one').ask('get', {}, { timeout: 5000 })).total, 5, 'state untouched')
  await t.rejects(a.spawn(CounterAgent, { id: 'gpu-1', placement: capability('gpu') }), PlacementFailed)
})

t.test('placement per class (static placement = capability) and the capability filter of agents()', async (t) => {
  const { GpuAgent } = await import('./helpers/agents.js')
  const c = new MemoryCluster(7)
  t.teardown(() => c.close())
  await c.add('a')
  await c.add('b', ['a'], { capabilities: ['gpu'] })
  await c.add('c', ['a'])
  await c.until(() => c.converged() && c.nodes.get('a')!.members().find((m) => m.id === 'b')?.capabilities.includes('gpu') === true, 'membership with metadata')
  for (let i = 0; i < 10; i++) await c.nodes.get('c')!.spawn(GpuAgent, { id: `g-${i}` })
  for (let i = 0; i < 10; i++) t.same(c.hosts(`g-${i}`, 'gpu'), ['b'], `g-${i} on the only gpu node`)
  await c.until(() => c.nodes.get('a')!.agents({ capability: 'gpu' }).length === 10, 'directory on a')
  t.equal(c.nodes.get('a')!.agents({ type: 'gpu' }).length, 10)
})

t.test('a sender that has not heard where an agent runs is forwarded there and its directory corrected', async (t) => {
  const { local } = await import('../src/index.js')
  const c = new MemoryCluster(8)
  t.teardown(() => c.close())
  // No periodic anti-entropy during the test, so only forwarding can teach c where the agent is.
  const quiet = { timings: { antiEntropy: 600_000 } }
  const a = await c.add('a', [], quiet)
  const b = await c.add('b', ['a'], quiet)
  const node = await c.add('c', ['a'], quiet)
  await Promise.all([b.joined(), node.joined()])
  await c.until(() => c.converged(), 'membership of 3')
  // An id whose rendezvous home among {a, b, c} is a, but which runs on b (local placement).
  const three = ['a', 'b', 'c'].map((id) => ({ id, capabilities: [], load: 0 }))
  let id = ''
  for (let i = 0; ; i++) if (rendezvousPick(placementKey({ type: 'counter', id: `x-${i}` }), three) === 'a') { id = `x-${i}`; break }
  // b's announcement of the new agent cannot reach c (a reaches both, and keeps them alive to
  // each other through its indirect probes).
  c.net.partition(['b'], ['c'])
  await b.spawn(CounterAgent, { id, placement: local() })
  await c.until(() => a.find(id)?.node === 'b', 'a knows it is on b')
  t.equal(node.find(id), undefined, 'c has not heard of it')
  const forwarded = a.metrics()['forwarded']!
  const corrections = a.metrics()['corrections']!
  // c routes by placement, to a; a forwards it to b and tells c where it is.
  node.ref(CounterAgent, id).tell('add', { n: 4 })
  await c.until(() => node.find(id)?.node === 'b', 'c corrected')
  t.ok(a.metrics()['forwarded']! > forwarded, 'a forwarded it')
  t.ok(a.metrics()['corrections']! > corrections, 'a sent the correction')
  const r = await a.ref(CounterAgent, id).ask('get', {}, { timeout: 5000 })
  t.equal(r.total, 4, 'the tell reached the agent on b, once')
  c.net.heal()
})

t.test('crash restart: a class with a persistence hook comes back with its saved state, others start fresh', async (t) => {
  const { SaverAgent } = await import('./helpers/agents.js')
  const c = await MemoryCluster.started(t, 9)
  const a = c.nodes.get('a')!
  for (let i = 0; i < 30; i++) {
    await a.spawn(SaverAgent, { id: `p-${i}` })
    await a.spawn(CounterAgent, { id: `q-${i}` })
    a.ref(SaverAgent, `p-${i}`).tell('add', { n: 10 + i })
    a.ref(CounterAgent, `q-${i}`).tell('add', { n: 10 + i })
  }
  await c.until(() => [...Array(30).keys()].every((i) => c.hosts(`p-${i}`, 'saver').length === 1), 'spawned')
  for (let i = 0; i < 30; i++) t.equal(await a.ref(SaverAgent, `p-${i}`).ask('total', {}, { timeout: 5000 }), 10 + i)
  const savers = [...Array(30).keys()].filter((i) => c.hosts(`p-${i}`, 'saver')[0] === 'c')
  const counters = [...Array(30).keys()].filter((i) => c.hosts(`q-${i}`)[0] === 'c')
  t.ok(savers.length > 0 && counters.length > 0, 'c hosts some of each')
  c.crash('c')
  await c.until(() => savers.every((i) => c.hosts(`p-${i}`, 'saver').length === 1) && counters.every((i) => c.hosts(`q-${i}`).length === 1), 'restarted')
  for (const i of savers) t.equal(await a.ref(SaverAgent, `p-${i}`).ask('total', {}, { timeout: 5000 }), 10 + i, `p-${i} restored from its saved state`)
  for (const i of counters) t.equal((await a.ref(CounterAgent, `q-${i}`).ask('get', {}, { timeout: 5000 })).total, 0, `q-${i} (no hook) starts fresh`)
})

t.test('the failure detector is pluggable: the node runs the factory it is given', async (t) => {
  const { swim } = await import('../src/index.js')
  const c = new MemoryCluster(10)
  t.teardown(() => c.close())
  const seen = { inputs: 0, made: 0 }
  const counting = (config = {}) => {
    const inner = swim(config)
    return (components: Parameters<ReturnType<typeof swim>>[0]) => {
      seen.made++
      const d = inner(components)
      return { name: 'counting-swim', members: () => d.members(), handle: (input: Parameters<typeof d.handle>[0]) => (seen.inputs++, d.handle(input)) }
    }
  }
  await c.add('a', [], { failureDetector: counting() })
  await c.add('b', ['a'], { failureDetector: counting({ probeInterval: 50 }) })
  await c.until(() => c.converged(), 'membership')
  t.equal(seen.made, 2, 'one detector per node, from the given factory')
  // Membership can converge within a handful of inputs: wait for more rather than race them.
  await c.until(() => seen.inputs > 10, 'more ticks and messages')
  t.ok(seen.inputs > 10, `it was fed ticks and messages (${seen.inputs})`)
})

t.test('a single node works alone: spawn, tell, ask, AgentNotFound, stop', async (t) => {
  const c = new MemoryCluster(11)
  t.teardown(() => c.close())
  const a = await c.add('a')
  const r = await a.spawn(CounterAgent, { id: 'solo' })
  r.tell('add', { n: 3 })
  t.equal((await r.ask('get', {}, { timeout: 5000 })).total, 3)
  await t.rejects(a.ref(CounterAgent, 'nobody').ask('get', {}, { timeout: 5000 }), AgentNotFound)
  t.same(a.members().map((m) => [m.id, m.status]), [['a', 'alive']])
  await a.stop()
  c.nodes.delete('a')
  t.pass('stopped without peers to hand off to')
})
