import t from 'tap'
import type { InboundMessage, Transport, TransportEvents, LinkFaults } from '../src/index.js'
import { memoryWorld } from './helpers/worlds.js'
import { waitFor, range } from './helpers/wait.js'
import type { NodeInit } from './helpers/worlds.js'

/**
 * Each guarantee under the faults the memory network injects. Every test also shows that the
 * fault really happened at the link level (frames dropped / duplicated / reordered, as the
 * network's trace or the receiver's counters say), so the mechanism under test is what saved
 * the day: without it the assertion on what the application saw would fail.
 */

interface Node {
  t: Transport
  got: InboundMessage[]
  downs: Array<TransportEvents['peer-down']>
}

function setup(t: Tap.Test, seed: number) {
  const w = memoryWorld(seed)
  t.teardown(() => w.close())
  const trace = { dropped: 0, duplicated: 0 }
  w.net.onTrace((e) => {
    if (e.kind === 'dropped') trace.dropped++
    if (e.kind === 'duplicated') trace.duplicated++
  })
  const start = async (init: NodeInit): Promise<Node> => {
    const n: Node = { t: w.node(init), got: [], downs: [] }
    n.t.onMessage((m) => n.got.push(m))
    n.t.on('peer-down', (d) => n.downs.push(d))
    await n.t.start()
    return n
  }
  /** Connect and wait until every lane has its link, before any fault is switched on. */
  const connect = async (a: Node, b: Node, lanes = 2): Promise<void> => {
    await a.t.connect(b.t.address)
    await waitFor(() => a.t.metrics().lanesOpen! >= lanes && b.t.metrics().lanesOpen! >= lanes, 'all lanes up')
  }
  const faults = (a: Node, b: Node, f: LinkFaults | undefined) => w.net.setLinkFaults(a.t.address, b.t.address, f)
  return { w, trace, start, connect, faults }
}

declare namespace Tap {
  type Test = import('tap').Test
}

const ints = (n: Node, filter: (m: InboundMessage) => boolean = () => true) =>
  n.got.filter(filter).map((m) => m.payload as number)

t.test('reliable+fifo: exactly once, in order, at 25% loss, 20% duplication and reordering', async (t) => {
  const { trace, start, connect, faults } = setup(t, 11)
  // Small frames, so that many frames cross the faulty link.
  const a = await start({ nodeId: 'a', maxBatch: 8 })
  const b = await start({ nodeId: 'b', maxBatch: 8 })
  await connect(a, b)
  faults(a, b, { drop: 0.25, duplicate: 0.2, reorder: 0.2, delay: [0, 5] })
  const N = 2000
  for (const i of range(N)) {
    a.t.send('b', i)
    if (i % 20 === 19) await new Promise((r) => setImmediate(r))
  }
  await waitFor(() => b.got.length >= N, 'all delivered', 60_000)
  t.same(ints(b), range(N), 'every message once, in order')
  t.ok(trace.dropped > 0, `frames were dropped (${trace.dropped}): retransmission was needed`)
  t.ok(trace.duplicated > 0, `frames were duplicated (${trace.duplicated})`)
  const m = b.t.metrics()
  t.ok(m.duplicatesDropped! > 0, `receiver dropped ${m.duplicatesDropped} duplicates: without de-duplication they would reach the app`)
  t.ok(m.heldBack! > 0, `receiver held back ${m.heldBack} early arrivals: without hold-back the order would break`)
  t.ok(a.t.metrics().retransmitted! > 0, 'sender retransmitted')
  t.ok(m.acksViaControl! > 0, 'acks with nothing to ride on went by the control lane')
})

t.test('ablation: the same loss with the retransmission timeout switched off loses messages for good (the test above would fail)', async (t) => {
  const { trace, start, connect, faults } = setup(t, 11)
  // No retransmission timeout, and no heartbeat timeout either (so no new link resends them).
  const off = { maxBatch: 8, retransmitTimeout: 1e12, heartbeatInterval: 1e9 }
  const a = await start({ nodeId: 'a', ...off })
  const b = await start({ nodeId: 'b', ...off })
  await connect(a, b)
  faults(a, b, { drop: 0.25 })
  const N = 2000
  for (const i of range(N)) {
    a.t.send('b', i)
    if (i % 20 === 19) await new Promise((r) => setImmediate(r))
  }
  await new Promise((r) => setTimeout(r, 2000))
  t.ok(trace.dropped > 0, `frames were dropped (${trace.dropped})`)
  t.ok(b.got.length < N, `only ${b.got.length} of ${N} delivered: without the timeout, a lost frame is never sent again`)
  t.equal(a.t.metrics().retransmitTimeouts, 0, 'no retransmission timeout fired')
  t.same(ints(b), range(b.got.length), 'what arrived is still in order (the hold-back queue is on): only delivery is incomplete')
})

t.test('reliable across a partition that heals and a link that breaks', async (t) => {
  const { w, start, connect } = setup(t, 12)
  // Virtual time runs far ahead of the test's real-time steps: the partition must not count as death.
  const a = await start({ nodeId: 'a', reconnect: { giveUpAfter: 1e12 } })
  const b = await start({ nodeId: 'b', reconnect: { giveUpAfter: 1e12 } })
  await connect(a, b)
  for (const i of range(300)) a.t.send('b', i)
  w.net.partition(['a'], ['b'])
  for (const i of range(300)) a.t.send('b', 300 + i)
  await new Promise((r) => setTimeout(r, 50))
  const during = b.got.length
  w.net.heal()
  await waitFor(() => b.got.length >= 600, 'delivered after heal', 60_000)
  w.net.partition(['a'], ['b'], { mode: 'disconnect' })
  for (const i of range(300)) a.t.send('b', 600 + i)
  w.net.heal()
  await waitFor(() => b.got.length >= 900, 'delivered after the links came back', 60_000)
  t.ok(during < 600, 'nothing crossed the partition')
  t.same(ints(b), range(900))
  t.ok(a.t.metrics().reconnects! > 0, 'the broken links were redialled')
  t.equal(a.downs.length, 0, 'no peer-down: the session survived')
})

t.test('fifo with parallelism > 1: per-key order under reordering', async (t) => {
  const { start, connect, faults } = setup(t, 13)
  const channels = { bulk: { parallelism: 3 } }
  const a = await start({ nodeId: 'a', channels })
  const b = await start({ nodeId: 'b', channels })
  await connect(a, b, 5)
  faults(a, b, { reorder: 0.3, drop: 0.1, delay: [0, 3] })
  const keys = ['x', 'y', 'z', 'w']
  for (const i of range(500)) for (const key of keys) a.t.send('b', i, { channel: 'bulk', key })
  await waitFor(() => b.got.length >= 2000, 'all delivered', 60_000)
  for (const key of keys) t.same(ints(b, (m) => m.key === key), range(500), `key ${key} in order`)
})

t.test('best-effort fifo: never out of order, late arrivals dropped', async (t) => {
  const { start, connect, faults } = setup(t, 14)
  // One message per frame, so the network reorders messages, not batches.
  const a = await start({ nodeId: 'a', maxBatch: 1 })
  const b = await start({ nodeId: 'b', maxBatch: 1 })
  await connect(a, b)
  faults(a, b, { reorder: 0.5, reorderWindow: 20 })
  for (const round of range(200)) {
    for (const i of range(5)) a.t.send('b', round * 5 + i, { guarantee: ['best-effort', 'fifo'] })
    await new Promise((r) => setImmediate(r))
  }
  await new Promise((r) => setTimeout(r, 200))
  const seen = ints(b)
  t.ok(seen.length > 0)
  t.ok(seen.every((v, i) => i === 0 || v > (seen[i - 1] as number)), 'strictly increasing')
  t.ok(b.t.metrics().staleDropped! > 0, `${b.t.metrics().staleDropped} late messages dropped: without the check they would be delivered out of order`)
})

t.test('monotonic: only newer values per key, stale ones dropped', async (t) => {
  const { start, connect, faults } = setup(t, 15)
  const a = await start({ nodeId: 'a', maxBatch: 1, channels: { state: { monotonic: true } } })
  const b = await start({ nodeId: 'b', maxBatch: 1, channels: { state: { monotonic: true } } })
  await connect(a, b, 3)
  faults(a, b, { reorder: 0.5, reorderWindow: 20, duplicate: 0.2 })
  for (const round of range(200)) {
    for (const key of ['p', 'q']) a.t.send('b', round, { channel: 'state', key, guarantee: ['best-effort'] })
    await new Promise((r) => setImmediate(r))
  }
  await new Promise((r) => setTimeout(r, 200))
  for (const key of ['p', 'q']) {
    const seen = ints(b, (m) => m.key === key)
    t.ok(seen.every((v, i) => i === 0 || v > (seen[i - 1] as number)), `${key}: each value newer than the last`)
  }
  t.ok(b.t.metrics().staleDropped! > 0, 'stale values were dropped')
})

t.test('causal: a message is never delivered before one that happened before it', async (t) => {
  const { w, start, connect } = setup(t, 16)
  const a = await start({ nodeId: 'a' })
  const b = await start({ nodeId: 'b' })
  const c = await start({ nodeId: 'c' })
  await connect(a, b)
  await connect(a, c)
  await connect(b, c)
  // a → c is slow: a's message to c arrives after b's reaction (caused by a's later message to b).
  w.net.setLinkFaults('a', 'c', { delay: [40, 40] })
  b.t.onMessage((m) => {
    b.got.push(m)
    b.t.send('c', `b saw ${m.payload}`, { guarantee: ['causal'], group: 'g' })
  })
  for (const i of range(20)) {
    a.t.send('c', `a${i}`, { guarantee: ['causal'], group: 'g' })
    a.t.send('b', `a${i}`, { guarantee: ['causal'], group: 'g' })
  }
  await waitFor(() => c.got.length >= 40, 'c got everything', 30_000)
  const order = c.got.map((m) => m.payload as string)
  for (const i of range(20)) {
    t.ok(order.indexOf(`a${i}`) < order.indexOf(`b saw a${i}`), `a${i} before b's reaction to it`)
  }
  t.ok(c.t.metrics().causalDelayed! > 0, `${c.t.metrics().causalDelayed} messages held back: without the hold-back queue b's reactions would overtake`)
  t.equal(c.t.metrics().causalHeldBack, 0, 'nothing left waiting')
})

t.test('peer restart with a new incarnation ends the old session with its unacked messages', async (t) => {
  const { w, start, connect } = setup(t, 17)
  const a = await start({ nodeId: 'a', reconnect: { giveUpAfter: 1e9 } })
  const b = await start({ nodeId: 'b' })
  await connect(a, b)
  w.net.crash('b')
  for (const i of range(10)) a.t.send('b', i)
  w.net.restart('b')
  const b2 = await start({ nodeId: 'b' })
  t.not(b2.t.incarnation, b.t.incarnation)
  await b2.t.connect('a')
  await waitFor(() => a.downs.length === 1, 'old session ended')
  t.match(a.downs[0]?.reason, /incarnation/)
  t.same(a.downs[0]?.unacknowledged.map((u) => u.payload), range(10))
  t.equal(a.t.peers()[0]?.incarnation, b2.t.incarnation, 'new session with the new incarnation')
})

t.test('a crashed peer that never returns is declared gone after giveUpAfter', async (t) => {
  const { w, start, connect } = setup(t, 18)
  const a = await start({ nodeId: 'a', reconnect: { giveUpAfter: 3000 } })
  const b = await start({ nodeId: 'b' })
  await connect(a, b)
  w.net.crash('b')
  for (const i of range(10)) a.t.send('b', i)
  await waitFor(() => a.downs.length === 1, 'peer-down', 30_000)
  t.same(a.downs[0]?.unacknowledged.map((u) => u.payload), range(10))
  t.ok(a.t.metrics().reconnects! > 0, 'it tried to reconnect first')
})

t.test('a peer that forgot us comes back with the same incarnation: sessions restart on both sides, nothing stalls or is lost silently', async (t) => {
  const { start, connect } = setup(t, 19)
  const a = await start({ nodeId: 'a', reconnect: { giveUpAfter: 1e12, initialDelay: 5 } })
  const b = await start({ nodeId: 'b', reconnect: { giveUpAfter: 1e12, initialDelay: 5 } })
  await connect(a, b)
  for (const i of range(50)) a.t.send('b', i)
  await waitFor(() => b.got.length === 50 && a.t.capacity('b').inFlight === 0, 'first batch delivered and acked')

  // b forgets a (its failure detector said so), a does not: a's redial must not resume.
  b.t.forget('a')
  t.equal(b.downs.length, 1)
  for (const i of range(20)) a.t.send('b', 1000 + i) // into a's old session: b can no longer de-duplicate them
  await waitFor(() => a.downs.length === 1, 'a learns that b lost the session')
  t.match(a.downs[0]?.reason, /lost the session/)
  const handedBack = a.downs[0]!.unacknowledged.map((u) => u.payload as number)
  await waitFor(() => a.t.peers().length === 1 && b.t.peers().length === 1, 'fresh sessions on both sides')
  for (const i of range(100)) a.t.send('b', 2000 + i)
  await waitFor(() => b.got.filter((m) => (m.payload as number) >= 2000).length === 100, 'the new session delivers', 30_000)
  const seen = ints(b)
  t.same(seen.filter((v) => v >= 2000), range(100).map((i) => 2000 + i), 'new session: exactly once, in order')
  const gap = range(20).map((i) => 1000 + i)
  for (const v of gap) t.ok(seen.filter((x) => x === v).length + handedBack.filter((x) => x === v).length >= 1, `gap message ${v}: delivered or handed back, never silently lost`)
  t.ok(a.t.metrics().sessionResets! + b.t.metrics().sessionResets! >= 1)

  // Now the dialer forgets and the acceptor remembers: the acceptor's claim is refused, it resets.
  await waitFor(() => b.t.peers().length === 1, 'b has its session with a')
  a.t.forget('b')
  b.downs.length = 0
  for (const i of range(5)) b.t.send('a', i)
  await a.t.connect('b')
  await waitFor(() => b.downs.length === 1, 'b ends the session a no longer has')
  t.match(b.downs[0]?.reason, /lost the session/)
  t.same(b.downs[0]!.unacknowledged.map((u) => u.payload), range(5), "b's messages into the stale session are handed back")
  await waitFor(() => b.t.peers().length === 1, 'b has a fresh session')
  a.got.length = 0
  for (const i of range(30)) b.t.send('a', i)
  await waitFor(() => a.got.length >= 30, 'b → a works in the fresh session', 30_000)
  t.same(ints(a).slice(-30), range(30))
})
