import t from 'tap'
import { FrameTooLarge, type InboundMessage } from '../src/index.js'
import { memoryWorld } from './helpers/worlds.js'
import { memoryPair } from './helpers/pair.js'
import { range, waitFor } from './helpers/wait.js'

t.test('two nodes dialling each other at once end with one link per lane', async (t) => {
  for (const seed of [41, 42, 43, 44]) {
    const w = memoryWorld(seed)
    t.teardown(() => w.close())
    const channels = { bulk: { parallelism: 2 } }
    const a = w.node({ nodeId: 'a', channels })
    const b = w.node({ nodeId: 'b', channels })
    const got: InboundMessage[] = []
    b.onMessage((m) => got.push(m))
    await a.start()
    await b.start()
    const [pa, pb] = await Promise.all([a.connect('b'), b.connect('a')])
    t.equal(pa.nodeId, 'b')
    t.equal(pb.nodeId, 'a')
    const lanes = 1 + 1 + 2 // control, default, bulk×2
    await waitFor(() => a.metrics().lanesOpen === lanes && b.metrics().lanesOpen === lanes, 'every lane open')
    await waitFor(() => a.metrics().links === lanes && b.metrics().links === lanes, 'duplicates closed')
    t.equal(a.metrics().links, lanes, `seed ${seed}: a has one link per lane`)
    t.equal(b.metrics().links, lanes, `seed ${seed}: b has one link per lane`)
    t.ok(a.metrics().duplicateLinksClosed! + b.metrics().duplicateLinksClosed! > 0, `seed ${seed}: there were duplicates to resolve`)
    for (const i of range(100)) a.send('b', i, { channel: 'bulk', key: `k${i % 3}` })
    await waitFor(() => got.length === 100, 'messages flow')
    t.equal(a.peers().length, 1)
  }
})

t.test('chunking: a big message does not block its lane; too big is a typed error', async (t) => {
  const { w, a, errors, got } = await memoryPair(45, { maxFrameSize: 128 << 10, chunkSize: 32 << 10, maxMessageSize: 4 << 20 })
  t.teardown(() => w.close())
  const big = 'x'.repeat(1 << 20)
  a.send('b', big, { guarantee: ['best-effort'] })
  await new Promise((r) => setImmediate(r))
  for (const i of range(10)) {
    a.send('b', i, { guarantee: ['best-effort'] })
    await new Promise((r) => setImmediate(r))
  }
  await waitFor(() => got.length === 11, 'all arrived')
  t.ok(a.metrics().chunksSent! >= 32, `sent as ${a.metrics().chunksSent} chunks`)
  t.equal(got.find((m) => typeof m.payload === 'string')?.payload, big, 'reassembled intact')
  const bigAt = got.findIndex((m) => typeof m.payload === 'string')
  t.ok(bigAt > 0, `small messages sent after it overtook it (it arrived ${bigAt + 1}th): the lane was not blocked`)
  // Reliable big messages keep their order (the receiver holds later ones back).
  got.length = 0
  a.send('b', big)
  for (const i of range(5)) a.send('b', i)
  await waitFor(() => got.length === 6, 'reliable arrived')
  t.same(got.map((m) => (typeof m.payload === 'string' ? 'big' : m.payload)), ['big', 0, 1, 2, 3, 4])
  // Larger than maxMessageSize: refused with a typed error, the link goes on.
  a.send('b', 'y'.repeat(5 << 20), { guarantee: ['best-effort'] })
  await waitFor(() => errors.some((e) => e instanceof FrameTooLarge), 'FrameTooLarge')
  a.send('b', 'after', { guarantee: ['best-effort'] })
  await waitFor(() => got.some((m) => m.payload === 'after'), 'the lane still works')
})

t.test('heartbeats: a silent link is closed and redialled', async (t) => {
  const w = memoryWorld(46)
  t.teardown(() => w.close())
  const a = w.node({ nodeId: 'a', reconnect: { giveUpAfter: 1e12 } })
  const b = w.node({ nodeId: 'b', reconnect: { giveUpAfter: 1e12 } })
  const got: InboundMessage[] = []
  b.onMessage((m) => got.push(m))
  await a.start()
  await b.start()
  await a.connect('b')
  await waitFor(() => a.metrics().lanesOpen === 2, 'lanes')
  w.net.partition(['a'], ['b']) // frames vanish, links stay "up"
  // Whichever side's heartbeat deadline passes first closes the link; the other may then see the
  // close before its own deadline (autoRun paces virtual time by real turns), so one suffices.
  await waitFor(() => a.metrics().heartbeatTimeouts! + b.metrics().heartbeatTimeouts! > 0, 'a heartbeat timeout')
  w.net.heal()
  a.send('b', 'hello again')
  await waitFor(() => got.length === 1, 'redialled and delivered')
  t.ok(a.metrics().reconnects! > 0)
})
