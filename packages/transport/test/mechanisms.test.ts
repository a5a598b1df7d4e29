import t from 'tap'
import { ack, classify, offsetOf, push, reliableIn, reliableOut, rewind, unackedEntries, STRIDE } from '../src/reliable.js'
import { CausalGroup, isStamp } from '../src/causal.js'
import { acceptNewer, hashKey, laneFor } from '../src/fifo.js'
import { LatestWins } from '../src/monotonic.js'
import { backoffDelay, defaultReconnect } from '../src/backoff.js'
import { growWindow, shrinkWindow, waterMark, MIN_WINDOW, MAX_WINDOW } from '../src/flow-control.js'
import { flagsOf, guaranteeOf } from '../src/guarantee.js'
import { Flag } from '../src/frame.js'

t.test('reliable: sequence numbers, cumulative ack, rewind, unacked entries', async (t) => {
  const out = reliableOut()
  for (const i of [0, 1, 2, 3, 4]) t.equal(push(out, Flag.reliable, null, i, null), i + 1)
  out.sent = 5
  t.equal(ack(out, 2), 2)
  t.equal(ack(out, 2), 0, 'an old ack is nothing')
  t.equal(ack(out, 9), -1, 'an ack for a message never sent is a violation')
  t.equal(out.buf[offsetOf(out, 3) + 3], 2, 'entry 3 holds payload 2')
  t.equal(rewind(out), 3, 'three go again')
  t.equal(out.sent, 2)
  t.same(unackedEntries(out).map((e) => e[2]), [2, 3, 4])
  // The dead prefix is compacted away.
  for (let i = 0; i < 10_000; i++) push(out, Flag.reliable, null, i, null)
  ack(out, out.nextSeq - 2)
  t.ok(out.buf.length <= 2 * STRIDE * 5000, 'buffer compacted')
  t.equal(unackedEntries(out).length, 1)
})

t.test('reliable receiver: deliver, hold, duplicate', async (t) => {
  const inb = reliableIn()
  t.equal(classify(inb, 1), 'deliver')
  inb.next = 2
  t.equal(classify(inb, 1), 'duplicate')
  t.equal(classify(inb, 4), 'hold')
  inb.held.set(4, [0, null, 'x', null])
  t.equal(classify(inb, 4), 'duplicate', 'a held message arriving again is a duplicate')
})

t.test('causal: point-to-point messages wait for what happened before them', async (t) => {
  const a = new CausalGroup('a')
  const b = new CausalGroup('b')
  const c = new CausalGroup('c')
  const toC = a.stamp('c') // m1: a → c
  const toB = a.stamp('b') // m2: a → b
  const delivered: string[] = []
  b.receive('a', toB, () => delivered.push('b:m2'))
  const reaction = b.stamp('c') // m3: b → c, after m2, so after m1
  t.ok(isStamp(reaction))
  c.receive('b', reaction, () => delivered.push('c:m3'))
  t.equal(c.heldBack, 1, 'm3 waits for m1')
  c.receive('a', toC, () => delivered.push('c:m1'))
  t.same(delivered, ['b:m2', 'c:m1', 'c:m3'])
  t.equal(c.heldBack, 0)
  t.equal(c.delayed, 1)
  // Concurrent messages do not wait for each other.
  const x = new CausalGroup('x')
  const y = new CausalGroup('y')
  const d = new CausalGroup('d')
  const got: string[] = []
  d.receive('y', y.stamp('d'), () => got.push('y'))
  d.receive('x', x.stamp('d'), () => got.push('x'))
  t.same(got, ['y', 'x'])
  t.notOk(isStamp(['a', 'b']))
})

t.test('causal: counts are per session, so what a dead session never delivered holds nothing back', async (t) => {
  let session = 's1'
  const sessionOf = () => session
  const a = new CausalGroup('a', sessionOf)
  const b = new CausalGroup('b', sessionOf)
  const c = new CausalGroup('c', sessionOf)
  const delivered: string[] = []
  b.receive('a', a.stamp('b'), () => delivered.push('m1'))
  a.stamp('b') // m2: accepted, then its session ends before it arrives (handed back to a's sender)
  session = 's2' // a and b meet again in a new session
  b.receive('a', a.stamp('b'), () => delivered.push('m3'))
  t.same(delivered, ['m1', 'm3'], 'm3 does not wait for m2, which the old session never delivered')
  // A third node's stamp that carries a count of the old session does not hold it back either.
  const fromC = c.stamp('b')
  b.receive('c', [...fromC, 'a', 'b#s1', 2], () => delivered.push('from-c'))
  t.same(delivered, ['m1', 'm3', 'from-c'])
  // But within the current session, order still holds: m5 waits for m4.
  const m4 = a.stamp('b')
  const m5 = a.stamp('b')
  b.receive('a', m5, () => delivered.push('m5'))
  t.equal(b.heldBack, 1, 'm5 held back')
  b.receive('a', m4, () => delivered.push('m4'))
  t.same(delivered.slice(-2), ['m4', 'm5'])
})

t.test('causal: when a session ends, what waited only on it is handled, in causal order', async (t) => {
  // Session ids as the transport makes them: `incarnation:epoch` of each end, ordered.
  const sessions = new Map([['a|c', 'i1:1.i3:1'], ['c|d', 'i3:2.i4:1'], ['a|b', 'i1:2.i2:1'], ['a|d', 'i1:3.i4:2']])
  const sessionOf = (me: string) => (peer: string) => sessions.get([me, peer].sort().join('|'))
  const a = new CausalGroup('a', sessionOf('a'), 'i1:')
  const c = new CausalGroup('c', sessionOf('c'), 'i3:')
  const d = new CausalGroup('d', sessionOf('d'), 'i4:')
  const got: string[] = []
  d.stamp('c') // x: d → c, still on the way
  a.receive('d', d.stamp('a'), () => got.push('a:y')) // y: d → a, after x
  const m1 = a.stamp('c') // after x
  const m2 = a.stamp('c') // after m1
  c.receive('a', m2, () => got.push('c:m2'))
  c.receive('a', m1, () => got.push('c:m1'))
  t.equal(c.heldBack, 2, 'both wait for x')
  sessions.delete('a|c')
  c.end('a', 'i1:1.i3:1') // their session ends: m1 and m2 were acked, so nobody hands them back
  t.equal(c.heldBack, 2, 'x may still come')
  sessions.delete('c|d')
  c.end('d', 'i3:2.i4:1') // x went back to d's sender: nothing will meet it
  t.same(got, ['a:y', 'c:m1', 'c:m2'], 'released, m1 before m2 though m2 arrived first')
  t.equal(c.heldBack, 0)
})

t.test('causal: a session not open yet is waited for; a predecessor incarnation\'s is not', async (t) => {
  let open: string | undefined
  const c = new CausalGroup('c', (peer) => (peer === 'a' ? open : undefined), 'i3:')
  const got: string[] = []
  c.receive('b', ['a', 'c#i3:1.i9:1', 1], () => got.push('after-a1'))
  t.equal(c.heldBack, 1, 'a session of this incarnation that has not opened here yet: wait')
  c.receive('b', ['a', 'c#i2:1.i9:1', 1], () => got.push('old'))
  t.same(got, ['old'], "a count about the previous incarnation's session never holds back")
  c.end('a', 'i3:7.i8:1') // a's previous incarnation (i8) goes: a's next one (i9) may be opening
  t.equal(c.heldBack, 1, 'still waits for the session with the new incarnation of a')
  open = 'i3:1.i9:1'
  c.recheck()
  t.equal(c.heldBack, 1, 'still waits for a1 once the session opens')
  c.receive('a', [], () => got.push('a1'))
  t.same(got, ['old', 'a1', 'after-a1'])
})

t.test('fifo and monotonic helpers', async (t) => {
  t.equal(hashKey('abc'), hashKey('abc'))
  t.equal(laneFor(undefined, 4), 0)
  t.equal(laneFor('k', 1), 0)
  const lanes = new Set(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'].map((k) => laneFor(k, 4)))
  t.ok(lanes.size > 1, 'keys spread over lanes')
  t.ok(acceptNewer(1, 2))
  t.notOk(acceptNewer(2, 2))
  const latest = new LatestWins(2)
  t.ok(latest.accept('p', 5))
  t.notOk(latest.accept('p', 4), 'stale dropped')
  t.ok(latest.accept('q', 1))
  t.ok(latest.accept('r', 1))
  t.ok(latest.accept('p', 1), 'the oldest key was forgotten (bounded memory)')
})

t.test('backoff grows, is capped, has jitter', async (t) => {
  const o = { ...defaultReconnect, initialDelay: 100, maxDelay: 1000 }
  t.equal(backoffDelay(0, o, () => 0), 50)
  t.equal(backoffDelay(0, o, () => 1), 100)
  t.equal(backoffDelay(3, o, () => 1), 800)
  t.equal(backoffDelay(20, o, () => 1), 1000)
  t.not(backoffDelay(2, o, () => 0.1), backoffDelay(2, o, () => 0.9), 'jitter')
})

t.test('AIMD window and water marks', async (t) => {
  t.equal(shrinkWindow(1000), 500)
  t.equal(shrinkWindow(MIN_WINDOW), MIN_WINDOW)
  t.ok(growWindow(1000, 1000) > 1000)
  t.equal(growWindow(MAX_WINDOW, 1000), MAX_WINDOW)
  const limits = { highWaterMark: 100, lowWaterMark: 10, hardLimit: 1000 }
  t.equal(waterMark(101, false, limits), 'backpressure')
  t.equal(waterMark(50, true, limits), undefined, 'hysteresis')
  t.equal(waterMark(9, true, limits), 'drained')
})

t.test('guarantee flags', async (t) => {
  t.ok(flagsOf(['fifo'], false) & Flag.reliable, 'reliable unless best-effort')
  t.notOk(flagsOf(['best-effort'], false) & Flag.reliable)
  t.ok(flagsOf(['best-effort', 'causal'], false) & Flag.reliable, 'causal is always reliable')
  t.ok(flagsOf(['best-effort'], true) & Flag.monotonic, 'monotonic channel')
  t.same(guaranteeOf(flagsOf(['reliable', 'fifo'], false)), ['reliable', 'fifo'])
  t.equal(guaranteeOf(6), guaranteeOf(6), 'one array per value')
})
