import t from 'tap'
import { FrameTooDeep, FrameTooManyItems, HoldBackFull, RateLimited, type InboundMessage, type Transport, type TransportError } from '../src/index.js'
import { decodeFrame, encodeFrame, FrameType } from '../src/frame.js'
import { ScanResult, scanCbor } from '../src/internal/cbor-scan.js'
import { burstOf, refill, take, tokenBucket } from '../src/rate-limit.js'
import { memoryWorld, uwsWorld } from './helpers/worlds.js'
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

/** Reference: depth and item count of the first CBOR item, by plain recursion (valid CBOR only). */
function reference(b: Uint8Array): { depth: number; items: number } {
  let pos = 0
  let items = 0
  const arg = (info: number): number => {
    if (info < 24) return info
    const size = 1 << (info - 24)
    let v = 0
    for (let i = 0; i < size; i++) v = v * 256 + (b[pos++] as number)
    return v
  }
  const item = (): number => {
    const head = b[pos++] as number
    items++
    const major = head >> 5
    const info = head & 31
    if (info === 31) {
      let depth = 0
      while (b[pos] !== 0xff) depth = Math.max(depth, item())
      pos++
      return depth + 1
    }
    const n = arg(info)
    if (major === 2 || major === 3) pos += n
    if (major === 4 || major === 5 || major === 6) {
      let depth = 0
      const count = major === 6 ? 1 : major === 5 ? 2 * n : n
      for (let i = 0; i < count; i++) depth = Math.max(depth, item())
      return count === 0 ? 0 : depth + 1
    }
    return 0
  }
  const depth = item()
  return { depth, items }
}

t.test('the CBOR scan agrees with a plain recursive walk on what cbor-x writes', async (t) => {
  let seed = 7
  const rand = (n: number): number => {
    seed = (seed * 1103515245 + 12345) & 0x7fffffff
    return seed % n
  }
  const value = (depth: number): unknown => {
    switch (depth > 6 ? rand(5) : rand(9)) {
      case 0:
        return rand(1e6) - 5e5
      case 1:
        return rand(1000) / 7
      case 2:
        return 'x'.repeat(rand(300))
      case 3:
        return new Uint8Array(rand(300)).fill(0x81)
      case 4:
        return [null, true, undefined, 2 ** 40, -(2 ** 40), new Date(0)][rand(6)]
      case 5:
        return range(rand(30)).map(() => value(depth + 1))
      case 6:
        return Object.fromEntries(range(rand(6)).map((i) => [`k${rand(4)}${i}`, value(depth + 1)]))
      case 7:
        return new Map(range(rand(4)).map(() => [value(depth + 1), value(depth + 1)]))
      default:
        return range(rand(4)).map(() => ({ a: value(depth + 1), b: rand(9) }))
    }
  }
  let checked = 0
  for (let i = 0; i < 2000; i++) {
    const bytes = encodeFrame([FrameType.data, 0, value(0)])
    const { depth, items } = reference(bytes)
    if (scanCbor(bytes, depth, items) !== ScanResult.ok) t.fail(`value ${i}: depth ${depth}, ${items} items refused`)
    else if (scanCbor(bytes, depth - 1, items) !== ScanResult.tooDeep) t.fail(`value ${i}: depth ${depth} passed a limit of ${depth - 1}`)
    else if (scanCbor(bytes, depth, items - 1) !== ScanResult.tooManyItems) t.fail(`value ${i}: ${items} items passed a limit of ${items - 1}`)
    else checked++
  }
  t.equal(checked, 2000, 'exact depth and item count on 2,000 random frames (records, maps, tags, indefinite-free)')
  // Indefinite-length containers, which cbor-x does not write but a peer may.
  const indefinite = new Uint8Array([0x82, 0x04, 0x9f, 0x01, 0xbf, 0x61, 0x61, 0x9f, 0x9f, 0xff, 0xff, 0xff, 0x02, 0xff])
  t.same(reference(indefinite), { depth: 5, items: 9 }, 'breaks are no items')
  t.equal(scanCbor(indefinite, 5, 9), ScanResult.ok)
  t.equal(scanCbor(indefinite, 4, 9), ScanResult.tooDeep)
  t.equal(scanCbor(indefinite, 5, 8), ScanResult.tooManyItems)
  // Odd input is the decoder's to reject, but it would build an open indefinite container's items first.
  const unclosed = new Uint8Array(1001)
  unclosed[0] = 0x9f
  t.equal(scanCbor(unclosed, 5, 1000), ScanResult.tooManyItems, 'an indefinite array of 1,000 items that never closes')
  unclosed[1000] = 0x1c
  t.equal(scanCbor(unclosed, 5, 999), ScanResult.tooManyItems, 'one that ends in a reserved head')
  t.equal(scanCbor(unclosed, 5, 1001), ScanResult.ok, 'within the limit: left to the decoder')
  t.throws(() => decodeFrame(unclosed, 1 << 20), { code: 'MALFORMED_FRAME' }, 'which rejects it')
  t.equal(scanCbor(new Uint8Array([0x9b, 0, 0, 0, 1, 0, 0, 0, 0]), 5, 1e6), ScanResult.tooManyItems, 'an array announcing 2^32 items')
  t.equal(scanCbor(new Uint8Array([0x9a, 0, 1]), 5, 1e6), ScanResult.tooManyItems, 'a count cut off by the end of the frame')
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

t.test('rate limit over real sockets: a flood is cut to the rate, another peer is untouched', async (t) => {
  const w = uwsWorld()
  t.teardown(() => w.close())
  const RATE = 5000
  const BURST = 1000
  const b = w.node({ nodeId: 'b', rateLimit: { messagesPerSecond: RATE, burst: BURST } })
  const flood = w.node({ nodeId: 'flood' })
  const c = w.node({ nodeId: 'c' })
  const got: InboundMessage[] = []
  b.onMessage((m) => got.push(m))
  await b.start()
  await flood.start()
  await c.start()
  await flood.connect(b.address)
  await c.connect(b.address)
  const started = performance.now()
  let sent = 0
  let cSent = 0
  while (performance.now() - started < 600) {
    for (const _ of range(2000)) if (flood.send('b', 'x', { guarantee: ['best-effort'] })) sent++
    for (const _ of range(5)) c.send('b', `c${cSent++}`)
    await new Promise((r) => setImmediate(r))
  }
  const fromC = () => got.filter((m) => m.from.nodeId === 'c').length
  await waitFor(() => fromC() >= cSent, 'c delivered', 30_000)
  const elapsed = performance.now() - started
  const fromFlood = got.filter((m) => m.from.nodeId === 'flood').length
  // The bucket runs on the transport's coarse clock (one reading per tick, 125 ms here): a tick's worth of slack.
  const allowed = (RATE * (elapsed + 125)) / 1000 + BURST
  t.ok(b.metrics().rateLimited! > 0, `${b.metrics().rateLimited} of the flood's ${sent} messages refused`)
  t.ok(fromFlood <= allowed, `flood: ${fromFlood} delivered in ${Math.round(elapsed)} ms (allowed ${Math.round(allowed)})`)
  t.same(got.filter((m) => m.from.nodeId === 'c').map((m) => m.payload), range(cSent).map((i) => `c${i}`), `c: all ${cSent} reliable messages delivered, in order`)
})
