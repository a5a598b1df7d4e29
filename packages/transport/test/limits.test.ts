import t from 'tap'
import { FrameTooDeep, FrameTooManyItems, HoldBackFull, RateLimited, type InboundMessage, type Transport, type TransportError } from '../src/index.js'
import { decodeFrame, encodeFrame, FrameType } from '../src/frame.js'
import { ScanResult, scanCbor } from '../src/internal/cbor-scan.js'
import { burstOf, refill, take, tokenBucket } from '../src/rate-limit.js'
import { memoryWorld } from './helpers/worlds.js'
import { range, waitFor } from './helpers/wait.js'

/**
 * Limits per peer: how deep and how big a frame may be before it is decoded, how many bytes of a
 * peer's messages may wait here (behind a gap, or for their causes), how many messages a second
 * a peer may send. Each test fails if its limit is taken out.
 */

/** `depth` one-element arrays around 1 (`head` 0xa1: maps, 0xc6: tags). */
function nested(depth: number, head = 0x81): Uint8Array {
  const out: number[] = []
  for (let i = 0; i < depth; i++) out.push(head, ...(head === 0xa1 ? [0x01] : []))
  out.push(0x01)
  return new Uint8Array(out)
}

t.test('the CBOR scan measures depth and items without decoding', async (t) => {
  t.equal(scanCbor(nested(10), 10, 1e6), ScanResult.ok, 'depth 10 within 10')
  t.equal(scanCbor(nested(11), 10, 1e6), ScanResult.tooDeep, 'depth 11 over 10')
  t.equal(scanCbor(nested(11, 0xa1), 10, 1e6), ScanResult.tooDeep, 'maps nest too')
  t.equal(scanCbor(nested(11, 0xc6), 10, 1e6), ScanResult.tooDeep, 'tags nest too (cbor-x recurses into them)')
  t.equal(scanCbor(new Uint8Array([0x9f, 0x9f, 0x9f, 0xff, 0xff, 0xff]), 3, 100), ScanResult.ok, 'indefinite arrays: depth 3')
  t.equal(scanCbor(new Uint8Array([0x9f, 0x9f, 0x9f, 0xff, 0xff, 0xff]), 2, 100), ScanResult.tooDeep, 'indefinite arrays: over 2')
  // Siblings do not add up: 50 arrays side by side, each 5 deep, are 6 deep.
  t.equal(scanCbor(encodeFrame(range(50).map(() => [[[[[1]]]]])), 6, 1e6), ScanResult.ok, 'siblings are not depth')
  t.equal(scanCbor(encodeFrame(range(50).map(() => [[[[[1]]]]])), 5, 1e6), ScanResult.tooDeep)
  t.equal(scanCbor(encodeFrame(range(100)), 4, 101), ScanResult.ok, '101 items: the array and its 100')
  t.equal(scanCbor(encodeFrame(range(100)), 4, 100), ScanResult.tooManyItems)
  // Real frames: strings and byte strings are skipped by length, whatever bytes they hold.
  const payload = { to: 'worker-7', body: { taskId: 't1', data: new Uint8Array(300).fill(0x81), text: '\x81'.repeat(300) }, trace: [1, 2, 3] }
  const frame = encodeFrame([FrameType.data, 0, 2, 1, null, payload, 2, 2, 'k', [payload, payload]])
  t.equal(scanCbor(frame, 8, 1e6), ScanResult.ok, 'a data frame with nested objects passes')
  t.same(decodeFrame(frame, 1 << 20), [FrameType.data, 0, 2, 1, null, payload, 2, 2, 'k', [payload, payload]])
})

t.test('decodeFrame refuses deep and huge frames with their own typed errors', async (t) => {
  const data = (inner: Uint8Array) => new Uint8Array([0x86, FrameType.data, 0x00, 0x02, 0x01, 0xf6, ...inner])
  for (const depth of [300, 10_000, 1_000_000]) {
    t.throws(() => decodeFrame(data(nested(depth)), 1 << 21), FrameTooDeep, `${depth} nested arrays: FrameTooDeep, not a stack overflow`)
  }
  t.throws(() => decodeFrame(data(nested(300, 0xc6)), 1 << 21), FrameTooDeep, 'nested tags')
  t.ok(Array.isArray(decodeFrame(data(nested(200)), 1 << 21)), '200 levels are within the default 256')
  t.throws(() => decodeFrame(data(nested(20)), 1 << 21, { maxDepth: 10, maxItems: 1e6 }), FrameTooDeep, 'the limit is configurable')
  const many = encodeFrame([FrameType.data, 0, 2, 1, null, range(5000)])
  t.throws(() => decodeFrame(many, 1 << 21, { maxDepth: 10, maxItems: 4096 }), FrameTooManyItems)
  t.ok(Array.isArray(decodeFrame(many, 1 << 21, { maxDepth: 10, maxItems: 8192 })))
  t.equal(new FrameTooDeep('x').code, 'FRAME_TOO_DEEP')
  t.equal(new FrameTooManyItems('x').code, 'FRAME_TOO_MANY_ITEMS')
})

t.test('token bucket: refills at its rate, up to its burst', async (t) => {
  const limit = { messagesPerSecond: 100, burst: 10 }
  const b = tokenBucket(limit, 0)
  t.equal(range(15).filter(() => take(b)).length, 10, 'a burst of 10')
  refill(b, limit, 50)
  t.equal(range(15).filter(() => take(b)).length, 5, '50 ms later: 5 more')
  refill(b, limit, 10_000)
  t.equal(b.tokens, 10, 'never more than the burst')
  t.equal(burstOf({ messagesPerSecond: 7 }), 7, 'default burst: one second')
})

interface Node {
  t: Transport
  got: InboundMessage[]
  errors: TransportError[]
}

function world(t: Tap.Test, seed: number) {
  const w = memoryWorld(seed)
  t.teardown(() => w.close())
  const start = async (init: Parameters<typeof w.node>[0]): Promise<Node> => {
    const n: Node = { t: w.node({ heartbeatInterval: 1e9, ...init }), got: [], errors: [] }
    n.t.onMessage((m) => n.got.push(m))
    n.t.on('error', (e) => n.errors.push(e.error))
    await n.t.start()
    return n
  }
  const connect = async (a: Node, b: Node): Promise<void> => {
    await a.t.connect(b.t.address)
    await waitFor(() => a.t.metrics().lanesOpen! >= 2 && b.t.metrics().lanesOpen! >= 2, 'lanes up')
  }
  /** Samples `f` every virtual millisecond at `node` until the test ends; returns the largest value. */
  const peak = (node: string, f: () => number): (() => number) => {
    const clock = w.net.clockFor(node)
    let max = 0
    let stopped = false
    const tick = (): void => {
      if (stopped) return
      max = Math.max(max, f())
      clock.setTimeout(tick, 1)
    }
    tick()
    t.teardown(() => {
      stopped = true
    })
    return () => max
  }
  return { w, start, connect, peak }
}

t.test('held messages are bounded by bytes: causal ones waiting for their causes are refused unacked, then resent', async (t) => {
  const { w, start, connect, peak } = world(t, 31)
  const BUDGET = 8 << 10
  const a = await start({ nodeId: 'a' })
  const b = await start({ nodeId: 'b' })
  const c = await start({ nodeId: 'c', maxHeldBytes: BUDGET })
  await connect(a, b)
  await connect(a, c)
  await connect(b, c)
  const held = peak('c', () => c.t.metrics().heldBytes!)
  // a → c is slow, so b's 1 KB reactions to a's messages all wait at c for a's message to c.
  w.net.setLinkFaults('a', 'c', { delay: [300, 300] })
  const big = 'x'.repeat(1000)
  b.t.onMessage((m) => {
    b.got.push(m)
    b.t.send('c', { saw: m.payload, big }, { guarantee: ['causal'], group: 'g' })
  })
  const N = 60
  for (const i of range(N)) {
    a.t.send('c', `a${i}`, { guarantee: ['causal'], group: 'g' })
    a.t.send('b', `a${i}`, { guarantee: ['causal'], group: 'g' })
  }
  await waitFor(() => c.got.length >= 2 * N, 'c got everything', 60_000)
  const order = c.got.map((m) => (typeof m.payload === 'string' ? m.payload : `saw ${(m.payload as { saw: string }).saw}`))
  t.equal(new Set(order).size, 2 * N, 'each message once')
  t.ok(range(N).every((i) => order.indexOf(`a${i}`) < order.indexOf(`saw a${i}`)), 'causal order held')
  t.ok(c.t.metrics().holdBackRefused! > 0, `${c.t.metrics().holdBackRefused} messages refused over the budget (without it all ${N} reactions would wait: ~${N} KB)`)
  t.ok(c.errors.some((e) => e instanceof HoldBackFull), 'reported as HoldBackFull')
  t.ok(held() <= BUDGET, `held bytes peaked at ${held()}, within ${BUDGET}`)
  t.ok(held() > BUDGET / 2, 'and the budget was used')
  t.equal(c.t.metrics().heldBytes, 0, 'nothing left held')
})

t.test('a peer far over its rate limit is throttled; another peer still gets through', async (t) => {
  const { w, start, connect, peak } = world(t, 32)
  const RATE = 2000
  const BURST = 500
  const b = await start({ nodeId: 'b', rateLimit: { messagesPerSecond: RATE, burst: BURST }, maxHeldBytes: 64 << 10 })
  const flood = await start({ nodeId: 'flood' })
  const c = await start({ nodeId: 'c' })
  await connect(flood, b)
  await connect(c, b)
  const clock = w.net.clockFor('b')
  const held = peak('b', () => b.t.metrics().heldBytes!)
  const reliableHeld = peak('b', () => b.t.metrics().reliableHeld!)
  const t0 = clock.now()
  const fromFlood = () => b.got.filter((m) => m.from.nodeId === 'flood').length
  let floodSent = 0
  // The flood: best-effort as fast as the sender's flow control lets through, plus a reliable stream.
  for (const round of range(40)) {
    for (const _ of range(2000)) flood.t.send('b', 'x', { guarantee: ['best-effort'] })
    for (const _ of range(250)) flood.t.send('b', floodSent++)
    // The legitimate peer, well within the limit.
    if (round % 4 === 0) for (const i of range(20)) c.t.send('b', `c${(round / 4) * 20 + i}`)
    await new Promise((r) => setImmediate(r))
  }
  await waitFor(() => b.got.filter((m) => m.from.nodeId === 'c').length >= 200, 'c got through', 60_000)
  const fromC = b.got.filter((m) => m.from.nodeId === 'c').map((m) => m.payload)
  t.same(fromC, range(200).map((i) => `c${i}`), 'the other peer lost nothing, in order')
  t.ok(b.t.metrics().rateLimited! > 0, `${b.t.metrics().rateLimited} messages refused`)
  t.ok(b.errors.some((e) => e instanceof RateLimited), 'reported as RateLimited')
  // Reliable messages over the limit are not lost, only slowed down: left unacked, they are resent.
  const floodReliable = () => b.got.filter((m) => m.from.nodeId === 'flood' && typeof m.payload === 'number').map((m) => m.payload)
  await waitFor(() => floodReliable().length >= floodSent, 'flood reliable delivered', 90_000)
  t.same(floodReliable(), range(floodSent), 'the flood\'s reliable messages all arrived, in order, once')
  const elapsed = clock.now() - t0
  const allowed = (RATE * elapsed) / 1000 + BURST + RATE / 4
  t.ok(fromFlood() <= allowed, `flood: ${fromFlood()} messages delivered in ${elapsed} virtual ms (allowed ${Math.round(allowed)}; it sent ${80_000 + floodSent})`)
  t.ok(elapsed >= ((floodSent - BURST) * 1000) / RATE, `delivering its ${floodSent} reliable messages took ${elapsed} virtual ms, as the rate says`)
  t.ok(flood.t.metrics().retransmitTimeouts! > 0, `the flood's reliable stream was left unacked and timed out ${flood.t.metrics().retransmitTimeouts} times (its window halves each time)`)
  t.ok(held() <= 64 << 10, `held bytes peaked at ${held()} (reliable messages held: ${reliableHeld()} at most)`)
})
