import type { Test } from 'tap'
import {
  AuthenticationFailed,
  ClusterMismatch,
  HandshakeTimeout,
  UnknownChannel,
  PeerUnknown,
  type InboundMessage,
  type Transport,
  type TransportEvents,
} from '../../src/index.js'
import { FrameType } from '../../src/frame.js'
import { parseWelcome } from '../../src/handshake.js'
import { rawDial, handshake } from '../helpers/raw.js'
import type { World, NodeInit } from '../helpers/worlds.js'
import { waitFor, range } from '../helpers/wait.js'

interface Node {
  t: Transport
  got: InboundMessage[]
  events: Array<{ type: keyof TransportEvents; data: unknown }>
}

async function start(w: World, init: NodeInit): Promise<Node> {
  const t = w.node(init)
  const node: Node = { t, got: [], events: [] }
  t.onMessage((m) => node.got.push(m))
  for (const type of ['peer-up', 'peer-down', 'backpressure', 'drained', 'error'] as const) {
    t.on(type, (data) => node.events.push({ type, data }))
  }
  await t.start()
  return node
}

const payloads = (n: Node, key?: string): unknown[] => n.got.filter((m) => key === undefined || m.key === key).map((m) => m.payload)

/**
 * The behaviour every Transport implementation must have. `makeWorld` gives a fresh place to
 * start nodes for each test.
 */
export function transportCompliance(t: Test, makeWorld: () => World): void {
  const world = (t: Test): World => {
    const w = makeWorld()
    t.teardown(() => w.close())
    return w
  }

  t.test('connect: handshake, peer-up on both sides, peers()', async (t) => {
    const w = world(t)
    const a = await start(w, { nodeId: 'a' })
    const b = await start(w, { nodeId: 'b' })
    const peer = await a.t.connect(b.t.address)
    t.equal(peer.nodeId, 'b')
    t.equal(peer.incarnation, b.t.incarnation)
    t.equal(peer.address, b.t.address)
    await waitFor(() => b.events.some((e) => e.type === 'peer-up'), 'peer-up at b')
    t.same(
      a.events.filter((e) => e.type === 'peer-up').map((e) => (e.data as { nodeId: string }).nodeId),
      ['b'],
    )
    t.same(b.t.peers().map((p) => p.nodeId), ['a'])
    const again = await a.t.connect(b.t.address)
    t.equal(again.nodeId, 'b', 'connecting twice returns the same peer')
    t.equal(a.events.filter((e) => e.type === 'peer-up').length, 1, 'and no second peer-up')
  })

  t.test('send/receive on every guarantee, in order, exactly once', async (t) => {
    const w = world(t)
    const a = await start(w, { nodeId: 'a' })
    const b = await start(w, { nodeId: 'b' })
    await a.t.connect(b.t.address)
    const guarantees = [['reliable', 'fifo'], ['reliable'], ['best-effort'], ['best-effort', 'fifo'], ['monotonic'], ['best-effort', 'monotonic'], ['reliable', 'causal']] as const
    for (const g of guarantees) for (const i of range(200)) a.t.send('b', { g: g.join('+'), i }, { guarantee: g, key: 'k' })
    await waitFor(() => b.got.length === guarantees.length * 200, 'all messages')
    for (const g of guarantees) {
      const mine = b.got.filter((m) => (m.payload as { g: string }).g === g.join('+'))
      t.same(mine.map((m) => (m.payload as { i: number }).i), range(200), `${g.join('+')} in order, once`)
      t.same(mine[0]?.guarantee, [...g].sort((x, y) => ORDER.indexOf(x) - ORDER.indexOf(y)).concat(g.includes('best-effort') || g.includes('reliable') ? [] : ['reliable']).sort((x, y) => ORDER.indexOf(x) - ORDER.indexOf(y)), 'guarantee travels')
      t.equal(mine[0]?.from.nodeId, 'a')
      t.equal(mine[0]?.key, 'k')
    }
    t.ok(a.t.metrics().framesSent < guarantees.length * 200, 'messages were coalesced into fewer frames')
  })

  t.test('both directions on one connection, replies', async (t) => {
    const w = world(t)
    const a = await start(w, { nodeId: 'a' })
    const b = await start(w, { nodeId: 'b' })
    b.t.onMessage((m) => b.t.send(m.from.nodeId, { echo: m.payload }))
    await a.t.connect(b.t.address)
    for (const i of range(50)) a.t.send('b', i)
    await waitFor(() => a.got.length === 50, 'echoes')
    t.same(a.got.map((m) => (m.payload as { echo: number }).echo), range(50))
  })

  t.test('channels and lanes: per-key order with parallelism > 1, unknown channel refused', async (t) => {
    const w = world(t)
    const channels = { bulk: { parallelism: 4 }, state: { monotonic: true } }
    const a = await start(w, { nodeId: 'a', channels })
    const b = await start(w, { nodeId: 'b', channels })
    await a.t.connect(b.t.address)
    const keys = range(16).map((k) => `key-${k}`)
    for (const i of range(100)) for (const key of keys) a.t.send('b', i, { channel: 'bulk', key })
    for (const i of range(10)) a.t.send('b', i, { channel: 'control' })
    await waitFor(() => b.got.length === 1610, 'all messages')
    for (const key of keys) t.same(payloads(b, key), range(100), `${key} in order`)
    t.same(b.got.filter((m) => m.channel === 'control').map((m) => m.payload), range(10), 'control channel')
    t.ok(a.t.metrics().links >= 1 + 4 + 1 + 1, 'one link per lane (control, bulk×4, default, state)')
    t.throws(() => a.t.send('b', 1, { channel: 'nope' }), UnknownChannel)
    t.throws(() => a.t.send('zed', 1), PeerUnknown)
  })

  t.test('wrong secret: refused on both sides, typed, counted, nothing delivered', async (t) => {
    const w = world(t)
    const a = await start(w, { nodeId: 'a', secret: 'wrong' })
    const b = await start(w, { nodeId: 'b' })
    await t.rejects(a.t.connect(b.t.address), AuthenticationFailed)
    await waitFor(() => b.t.metrics().handshakeFailures! >= 1, 'b counts the failure')
    t.equal(b.t.peers().length, 0)
    t.notOk(b.events.some((e) => e.type === 'peer-up'))
    t.ok(a.events.some((e) => e.type === 'error' && (e.data as { error: Error }).error instanceof AuthenticationFailed))
  })

  t.test('other cluster: ClusterMismatch', async (t) => {
    const w = world(t)
    const a = await start(w, { nodeId: 'a', cluster: 'other' })
    const b = await start(w, { nodeId: 'b' })
    await t.rejects(a.t.connect(b.t.address), ClusterMismatch)
    await waitFor(() => b.events.some((e) => e.type === 'error' && (e.data as { error: Error }).error instanceof ClusterMismatch), 'b reports it')
    t.equal(b.t.peers().length, 0)
  })

  t.test('replayed handshake is refused: the nonce is fresh', async (t) => {
    const w = world(t)
    // Virtual time runs ahead of this test's real-time steps: keep the handshake clock out of it.
    const b = await start(w, { nodeId: 'b', handshakeTimeout: 1e12, heartbeatInterval: 1e11, reconnect: { giveUpAfter: 1e12 } })
    // An honest dialer that knows the secret: record its HELLO and PROOF.
    const identity = { cluster: 'test', nodeId: 'm', incarnation: 7, address: 'm:1', secret: 'sesame' }
    const honest = await rawDial(w, 'm', b.t.address)
    await handshake(honest, identity)
    const [helloBytes, proofBytes] = honest.sent as [Uint8Array, Uint8Array]
    await waitFor(() => b.t.peers().length === 1, 'honest handshake accepted')
    honest.link.close()
    // The attacker replays both frames on a new link.
    const before = b.t.metrics().handshakeFailures!
    const replay = await rawDial(w, 'm', b.t.address)
    replay.link.send(helloBytes)
    await waitFor(() => replay.frames.length >= 1, 'welcome with a fresh nonce')
    t.notSame(parseWelcome(replay.frames[0]!).nonce, parseWelcome(honest.frames[0]!).nonce)
    replay.link.send(proofBytes)
    await waitFor(() => replay.closed(), 'replayed link closed')
    t.equal(replay.frames[1]?.[0], FrameType.reject)
    t.equal(replay.frames[1]?.[1], AuthenticationFailed.code)
    t.equal(b.t.metrics().handshakeFailures, before + 1)
  })

  t.test('handshake timeout: a socket that says nothing is closed with HandshakeTimeout, counted and logged', async (t) => {
    const w = world(t)
    const warnings: string[] = []
    const logger = { warn: (o: object) => warnings.push(String((o as { code?: unknown }).code)), info: () => {}, debug: () => {} }
    const b = await start(w, { nodeId: 'b', handshakeTimeout: 200, logger })
    const before = b.t.metrics().handshakeFailures!
    const silent = await rawDial(w, 'm', b.t.address)
    await waitFor(() => silent.closed(), 'the silent link is closed', 20_000)
    t.ok(b.events.some((e) => e.type === 'error' && (e.data as { error: Error }).error instanceof HandshakeTimeout), 'a HandshakeTimeout error event')
    t.equal(b.t.metrics().handshakeFailures, before + 1, 'counted')
    t.ok(warnings.includes(HandshakeTimeout.code), 'and logged as a warning with its code')
    t.same(b.t.peers(), [], 'it never became a peer')
  })

  t.test('heartbeats keep an idle link alive: pings go, no timeout, no new link', async (t) => {
    const w = world(t)
    const a = await start(w, { nodeId: 'a', heartbeatInterval: 50 })
    const b = await start(w, { nodeId: 'b', heartbeatInterval: 50 })
    await a.t.connect(b.t.address)
    await waitFor(() => a.t.metrics().lanesOpen === 2 && b.t.metrics().lanesOpen === 2, 'lanes')
    const opened = a.t.metrics().linksOpened! + b.t.metrics().linksOpened!
    const frames = a.t.metrics().framesSent!
    // Idle for at least 20 heartbeat intervals (on the memory network's clock, or the real one).
    await new Promise((r) => setTimeout(r, 1000))
    t.ok(a.t.metrics().framesSent! > frames + 4, `pings went while idle (${a.t.metrics().framesSent! - frames} frames)`)
    t.equal(a.t.metrics().heartbeatTimeouts! + b.t.metrics().heartbeatTimeouts!, 0, 'no heartbeat timeout')
    t.equal(a.t.metrics().linksOpened! + b.t.metrics().linksOpened!, opened, 'no link was re-opened')
    a.t.send('b', 'still here')
    await waitFor(() => payloads(b).includes('still here'), 'the link still carries messages')
  })

  t.test('simultaneous dial: both nodes connect at once and end with one link per lane', async (t) => {
    const w = world(t)
    const channels = { bulk: { parallelism: 2 } }
    const a = await start(w, { nodeId: 'a', channels })
    const b = await start(w, { nodeId: 'b', channels })
    const [pa, pb] = await Promise.all([a.t.connect(b.t.address), b.t.connect(a.t.address)])
    t.equal(pa.nodeId, 'b')
    t.equal(pb.nodeId, 'a')
    const lanes = 4 // control, default, bulk x 2
    await waitFor(() => a.t.metrics().links === lanes && b.t.metrics().links === lanes && a.t.metrics().lanesOpen === lanes, 'one link per lane on both sides')
    for (const i of range(50)) a.t.send('b', i, { channel: 'bulk', key: `k${i % 3}` })
    await waitFor(() => b.got.length === 50, 'messages flow on the surviving links')
    t.same(a.t.peers().map((p) => p.nodeId), ['b'])
  })

  t.test('chunking: a message over chunkSize arrives intact; small ones sent after it overtake it', async (t) => {
    const w = world(t)
    const limits = { chunkSize: 16 << 10, maxFrameSize: 64 << 10 }
    const a = await start(w, { nodeId: 'a', ...limits })
    const b = await start(w, { nodeId: 'b', ...limits })
    await a.t.connect(b.t.address)
    await waitFor(() => a.t.metrics().lanesOpen === 2, 'lanes')
    const big = 'x'.repeat(512 << 10)
    a.t.send('b', big, { guarantee: ['best-effort'] })
    await new Promise((r) => setImmediate(r))
    for (const i of range(5)) {
      a.t.send('b', i, { guarantee: ['best-effort'] })
      await new Promise((r) => setImmediate(r))
    }
    await waitFor(() => b.got.length === 6, 'all arrived')
    t.ok(a.t.metrics().chunksSent! >= 32, `sent as ${a.t.metrics().chunksSent} chunks`)
    t.equal(b.got.find((m) => typeof m.payload === 'string')?.payload, big, 'reassembled intact')
    t.ok(b.got.findIndex((m) => typeof m.payload === 'string') > 0, 'small messages overtook it')
  })

  t.test('peer-down hands back unacknowledged reliable messages', async (t) => {
    const w = world(t)
    const a = await start(w, { nodeId: 'a' })
    const b = await start(w, { nodeId: 'b' })
    await a.t.connect(b.t.address)
    a.t.send('b', 'delivered')
    await waitFor(() => b.got.length === 1, 'first delivered')
    await waitFor(() => a.t.capacity('b').inFlight === 0, 'acked')
    await a.t.disconnect('b')
    for (const i of range(5)) a.t.send('b', i, { key: 'k' })
    a.t.send('b', 'lost anyway', { guarantee: ['best-effort'] })
    a.t.forget('b')
    const down = a.events.find((e) => e.type === 'peer-down')?.data as TransportEvents['peer-down']
    t.ok(down, 'peer-down emitted')
    t.same(down.unacknowledged.map((u) => u.payload), range(5))
    t.same(down.unacknowledged[0], { channel: 'default', guarantee: ['reliable', 'fifo'], key: 'k', payload: 0 })
    t.equal(a.t.peers().length, 0)
  })

  t.test('disconnect mid-stream, reconnect: the reliable stream resumes exactly once, in order', async (t) => {
    const w = world(t)
    const a = await start(w, { nodeId: 'a' })
    const b = await start(w, { nodeId: 'b' })
    await a.t.connect(b.t.address)
    for (const i of range(500)) a.t.send('b', i)
    await waitFor(() => b.got.length > 0, 'some arrived')
    await a.t.disconnect('b')
    for (const i of range(500)) a.t.send('b', 500 + i)
    await a.t.connect(b.t.address)
    await waitFor(() => b.got.length >= 1000, 'all arrived')
    t.same(b.got.map((m) => m.payload), range(1000))
    t.equal(a.events.filter((e) => e.type === 'peer-up').length, 1, 'same session')
  })
}

const ORDER = ['best-effort', 'reliable', 'fifo', 'causal', 'monotonic', 'broadcast', 'atomic', 'gossip']
