import t from 'tap'
import { MemoryCluster } from './helpers/cluster.js'
import { TallyAgent, MemberAgent } from './helpers/partition-agents.js'
import { NoQuorum, type TopologyOption } from '../src/index.js'

const AGENTS = [TallyAgent, MemberAgent]

/** Asks until the answer satisfies `done` (10 s at most), then returns the last answer. */
async function settled<R>(ask: () => Promise<R>, done: (r: R) => boolean): Promise<R> {
  const deadline = Date.now() + 10_000
  let r = await ask()
  while (!done(r) && Date.now() < deadline) {
    await new Promise((res) => setTimeout(res, 20))
    r = await ask()
  }
  return r
}

async function cluster(seed: number, n: number, topology: TopologyOption = 'auto', clusterSize?: number): Promise<{ c: MemoryCluster; ids: string[] }> {
  const c = new MemoryCluster(seed)
  const ids = Array.from({ length: n }, (_, i) => `n${i}`)
  for (const [i, id] of ids.entries()) await c.add(id, i === 0 ? [] : [ids[0]!], { agents: AGENTS, topology, ...(clusterSize !== undefined ? { clusterSize } : {}) })
  await c.until(() => c.converged(), 'membership')
  return { c, ids }
}

for (const topology of ['full-mesh', 'client-server', 'hyparview'] as const) {
  t.test(`${topology}: the same workload (reliable broadcast, agent tells and asks) on 6 nodes`, async (t) => {
    const { c, ids } = await cluster(40 + topology.length, 6, topology)
    t.teardown(() => c.close())
    const got = new Map<string, string[]>(ids.map((id) => [id, []]))
    for (const id of ids) c.nodes.get(id)!.on('broadcast', (b) => got.get(id)!.push(`${b.origin}:${String(b.payload)}`))
    // let the overlay form (HyParView joins through a contact, then shuffles)
    await c.until(() => ids.every((id) => c.nodes.get(id)!.partition().reachable.length === 6), 'views')
    await new Promise((r) => setTimeout(r, 200))
    const senders = ['n0', 'n3', 'n5']
    for (const s of senders) for (let k = 0; k < 10; k++) c.nodes.get(s)!.broadcast('t', k)
    const want = senders.flatMap((s) => Array.from({ length: 10 }, (_, k) => `${s}:${k}`)).sort()
    await c.until(() => ids.every((id) => got.get(id)!.length >= want.length), 'every broadcast everywhere', 20_000)
    for (const id of ids) t.same([...got.get(id)!].sort(), want, `${id} delivered each broadcast exactly once`)
    // agent traffic is routed by the directory, whatever the overlay
    const a = c.nodes.get('n0')!
    for (let i = 0; i < 12; i++) await a.spawn(TallyAgent, { id: `x-${i}` })
    for (const id of ids) for (let i = 0; i < 12; i++) c.nodes.get(id)!.ref(TallyAgent, `x-${i}`).tell('add', { tag: id })
    for (let i = 0; i < 12; i++) {
      const ask = () => c.nodes.get(ids[i % 6]!)!.ref(TallyAgent, `x-${i}`).ask('get', {}, { timeout: 5000 })
      const r = await settled(ask, (r) => r.tags.length >= ids.length)
      t.same(r.tags, [...ids].sort(), `x-${i} got one tell from each node`)
    }
  })
}

t.test('causal broadcast: a reply is never delivered before what it answers', async (t) => {
  const { c, ids } = await cluster(51, 5)
  t.teardown(() => c.close())
  const order = new Map<string, string[]>(ids.map((id) => [id, []]))
  for (const id of ids) {
    const n = c.nodes.get(id)!
    n.on('broadcast', (b) => {
      if (b.order !== 'causal') return
      order.get(id)!.push(String(b.payload))
      // n2 answers every question as soon as it sees it: the answer causally follows the question
      if (id === 'n2' && String(b.payload).startsWith('q')) n.broadcast('chat', `a${String(b.payload).slice(1)}`, { order: 'causal' })
    })
  }
  // slow the direct links from the asker so answers could overtake questions
  for (const id of ['n1', 'n3', 'n4']) c.net.setLinkFaults('n0', id, { delay: [30, 30] })
  for (let k = 0; k < 10; k++) c.nodes.get('n0')!.broadcast('chat', `q${k}`, { order: 'causal' })
  await c.until(() => ids.every((id) => order.get(id)!.length === 20), 'every question and answer everywhere', 20_000)
  for (const id of ids) {
    const seen = order.get(id)!
    for (let k = 0; k < 10; k++) t.ok(seen.indexOf(`q${k}`) < seen.indexOf(`a${k}`), `${id}: q${k} before a${k}`)
  }
})

t.test('gossip state: local reads, convergence, change events, and catching up after a partition', async (t) => {
  const { c, ids } = await cluster(61, 4)
  t.teardown(() => c.close())
  const changes: string[] = []
  c.nodes.get('n3')!.state('cfg').on('change', (ch) => changes.push(`${ch.key}=${String(ch.value)}`))
  for (const id of ids) c.nodes.get(id)!.state('cfg')
  c.nodes.get('n0')!.state('cfg').put('color', 'red')
  c.nodes.get('n1')!.state('cfg').put('size', 3)
  await c.until(() => ids.every((id) => JSON.stringify(c.nodes.get(id)!.state('cfg').entries()) === '{"color":"red","size":3}'), 'convergence')
  t.ok(changes.includes('color=red') && changes.includes('size=3'), 'change events on a remote replica')
  c.net.partition(['n0', 'n1'], ['n2', 'n3'])
  await c.until(() => c.view('n0').length === 2 && c.view('n3').length === 2, 'sides')
  c.nodes.get('n0')!.state('cfg').put('left', true)
  c.nodes.get('n3')!.state('cfg').put('right', true)
  c.nodes.get('n2')!.state('cfg').remove('size')
  await c.until(() => c.nodes.get('n1')!.state('cfg').has('left') && c.nodes.get('n2')!.state('cfg').has('right'), 'each side converges on its own')
  t.notOk(c.nodes.get('n0')!.state('cfg').has('right'), 'the other side\'s write has not crossed the cut')
  c.net.heal()
  await c.until(() => c.converged(), 'membership after heal', 30_000)
  const want = '{"color":"red","left":true,"right":true}'
  await c.until(() => ids.every((id) => JSON.stringify(c.nodes.get(id)!.state('cfg').entries()) === want), 'anti-entropy after the heal', 20_000)
  t.pass('every replica holds both sides\' writes')
})

t.test('atomic broadcast: one total order everywhere; NoQuorum on the minority', async (t) => {
  const { c, ids } = await cluster(71, 3)
  t.teardown(() => c.close())
  const logs = new Map<string, string[]>(ids.map((id) => [id, []]))
  for (const id of ids) c.nodes.get(id)!.atomic('ledger').on('deliver', (d) => logs.get(id)!.push(String(d.payload)))
  const publishes: Promise<number>[] = []
  for (let k = 0; k < 5; k++) for (const id of ids) publishes.push(c.nodes.get(id)!.atomic('ledger').publish(`${id}-${k}`))
  const indexes = await Promise.all(publishes)
  t.equal(new Set(indexes).size, 15, 'each message got its own position')
  await c.until(() => ids.every((id) => logs.get(id)!.length >= 15), 'deliveries')
  t.same(logs.get('n1'), logs.get('n0'), 'n1: the same order as n0')
  t.same(logs.get('n2'), logs.get('n0'), 'n2: the same order as n0')
  c.net.partition(['n0', 'n1'], ['n2'])
  await c.until(() => c.view('n2').length === 1, 'n2 alone')
  await t.rejects(c.nodes.get('n2')!.atomic('ledger').publish('lonely'), NoQuorum, 'no majority: refused')
  const i = await c.nodes.get('n0')!.atomic('ledger').publish('majority')
  t.ok(i > 15, 'the majority side keeps ordering')
})

t.test('atomic broadcast follows the cluster: a late node and a restarted one join and deliver the whole log; a crashed one is removed', async (t) => {
  const { c, ids } = await cluster(73, 3)
  t.teardown(() => c.close())
  const logs = new Map<string, string[]>()
  const open = (id: string) => {
    const log = c.nodes.get(id)!.atomic('ledger')
    if (!logs.has(id)) log.on('deliver', (d) => logs.get(id)!.push(String(d.payload)))
    logs.set(id, logs.get(id) ?? [])
    return log
  }
  for (const id of ids) open(id)
  for (let k = 0; k < 6; k++) await open(ids[k % 3]!).publish(`early-${k}`)
  const members = () => [...open('n0').members]
  // A node that joins the cluster and opens the channel afterwards.
  await c.add('n3', ['n0'], { agents: AGENTS })
  await c.until(() => c.converged(), 'n3 in the membership')
  open('n3')
  await c.until(() => members().some((m) => m.startsWith('n3#')), 'n3 in the config')
  await c.until(() => logs.get('n3')!.length >= 6, 'n3 caught up')
  t.same(logs.get('n3')!.slice(0, 6), logs.get('n0')!.slice(0, 6), 'n3 delivered the log from the first message, in the same order')
  // A node that crashes and comes back: its log is gone, so it is a new member.
  const before = members().find((m) => m.startsWith('n2#'))!
  c.crash('n2')
  logs.delete('n2')
  c.net.restart('n2')
  await c.add('n2', ['n0'], { agents: AGENTS })
  await c.until(() => c.converged(), 'n2 back in the membership')
  open('n2')
  await c.until(() => members().some((m) => m.startsWith('n2#') && m !== before), 'n2 in the config under its new incarnation')
  t.notOk(members().includes(before), `its old incarnation (${before}) left the config`)
  await c.until(() => logs.get('n2')!.length >= 6, 'n2 caught up')
  t.same(logs.get('n2')!.slice(0, 6), logs.get('n0')!.slice(0, 6), 'the restarted n2 delivered the whole log again, in the same order')
  t.equal(members().length, 4)
  // Two members crash, one after the other: each is removed, so the other two keep ordering.
  c.crash('n1')
  await c.until(() => members().length === 3, 'n1 removed', 20_000)
  c.crash('n3')
  await c.until(() => members().length === 2, 'n3 removed', 20_000)
  const i = await open('n2').publish('after-two-crashes')
  await c.until(() => logs.get('n0')!.includes('after-two-crashes'), 'delivered on n0')
  t.equal(logs.get('n0')!.indexOf('after-two-crashes') + 1, logs.get('n0')!.length, `ordered at ${i} with 2 of the 4 members gone`)
  t.same(logs.get('n2'), logs.get('n0')!.slice(-logs.get('n2')!.length), 'n2 and n0 agree')
})

t.test('groups: members across the cluster; a group broadcast reaches members only', async (t) => {
  const { c, ids } = await cluster(81, 4)
  t.teardown(() => c.close())
  const a = c.nodes.get('n0')!
  for (let i = 0; i < 8; i++) await a.spawn(MemberAgent, { id: `m-${i}` })
  const inGroup = [0, 2, 4, 6].map((i) => `m-${i}`)
  // Only n0 touches the group API: the nodes hosting members must still learn them.
  for (const id of inGroup) a.group('evens').join(a.ref(MemberAgent, id))
  await new Promise((r) => setTimeout(r, 1500))
  t.ok(new Set(inGroup.map((m) => c.hosts(m, 'member')[0])).size >= 2, 'members live on several nodes')
  a.group('evens').broadcast('note', { text: 'hello evens' })
  for (let i = 0; i < 8; i++) {
    const id = `m-${i}`
    if (inGroup.includes(id)) {
      const notes = await settled(() => a.ref(MemberAgent, id).ask('notes', {}, { timeout: 5000 }), (n) => n.length > 0)
      t.same(notes, ['hello evens'], `${id} (member) got it once`)
    } else t.same(await a.ref(MemberAgent, id).ask('notes', {}, { timeout: 5000 }), [], `${id} (not a member) did not`)
  }
  t.same(c.nodes.get('n3')!.group('evens').members().map((m) => m.id).sort(), inGroup, 'members() on another node')
  c.nodes.get('n1')!.group('evens').leave(a.ref(MemberAgent, 'm-0'))
  await c.until(() => ids.every((id) => c.nodes.get(id)!.group('evens').members().length === 3), 'leave spreads')
  t.pass('a leave spreads everywhere')
})

t.test('auto picks the topology by the expected cluster size', async (t) => {
  for (const [size, kind] of [[8, 'full-mesh'], [20, 'client-server'], [600, 'hyparview']] as const) {
    const { c, ids } = await cluster(90 + size, 7, 'auto', size)
    await c.until(() => ids.every((id) => c.nodes.get(id)!.overlay().neighbors.length > 0), 'overlay links')
    await new Promise((r) => setTimeout(r, 300))
    const o = c.nodes.get('n6')!.overlay()
    t.equal(o.kind, kind, `${size} nodes expected: ${kind}`)
    if (kind === 'full-mesh') t.equal(o.neighbors.length, 6, 'full mesh: every other node')
    if (kind === 'client-server') t.same([...o.neighbors].sort(), ['n0', 'n1', 'n2', 'n3', 'n4'], 'a client links to the 5 servers only (⌈√20⌉, the lowest ids)')
    if (kind === 'hyparview') t.ok(o.neighbors.length <= 5, `hyparview: a small active view (${o.neighbors.length})`)
    await c.close()
  }
})

t.test('bad input: malformed service messages are dropped and counted; nothing accepted is lost', async (t) => {
  const { c, ids } = await cluster(101, 3)
  t.teardown(() => c.close())
  const [a, b] = [c.nodes.get('n0')!, c.nodes.get('n1')!]
  const got: unknown[] = []
  b.on('broadcast', (e) => got.push(e.payload))
  b.state('s').put('kept', 1)
  await c.until(() => a.state('s').get('kept') === 1, 'state before')
  const garbage: unknown[] = [
    { k: 'x', s: 'cf', m: null },
    { k: 'x', s: 'cf', m: { type: 1, id: [] } },
    { k: 'x', s: 'ov', m: 'nonsense' },
    { k: 'x', s: 'ov', m: { l: 'pt', m: { t: 'gossip' } } },
    { k: 'x', s: 'st:s', m: { t: 'delta', delta: 5 } },
    { k: 'x', s: 'st:s', m: { t: 'delta', delta: { kept: { wrong: true } } } },
    { k: 'x', s: 'at:none', m: { t: 'append' } },
    { k: 'x', s: 'unknown-service', m: {} },
    { k: 'x', s: 42 },
  ]
  const before = b.metrics()['badInput'] ?? 0
  for (const g of garbage) a.transport.send('n1', g, { channel: 'control', guarantee: ['reliable'] })
  await c.until(() => (b.metrics()['badInput'] ?? 0) - before >= 5, 'malformed messages counted')
  t.ok((b.metrics()['badInput'] ?? 0) - before >= 5, `counted as bad input (${(b.metrics()['badInput'] ?? 0) - before})`)
  t.equal(b.state('s').get('kept'), 1, 'replicated state kept')
  a.broadcast('after', 'still works')
  await c.until(() => got.includes('still works'), 'a broadcast after the garbage')
  b.state('s').put('later', 2)
  await c.until(() => ids.every((id) => c.nodes.get(id)!.state('s').get('later') === 2), 'state after the garbage')
  t.pass('broadcast and state still work')
})
