import t from 'tap'
import type { InboundMessage, Transport, TransportEvents } from '../src/index.js'
import { Flag, encodeFrame, FrameType } from '../src/frame.js'
import { SentFrame, payloadOf } from '../src/internal/sent-frame.js'
import { push, reliableOut, unackedEntries, offsetOf } from '../src/reliable.js'
import { memoryWorld } from './helpers/worlds.js'
import { waitFor, range } from './helpers/wait.js'

/**
 * A reliable message that was written holds its frame's bytes in the out buffer instead of its
 * payload (see `internal/sent-frame.ts`): a retransmission and the peer-down hand-back must find
 * every payload again, by its sequence number, among best-effort and causal tuples of the frame.
 */

t.test('a kept frame gives back each reliable payload by seq, skipping best-effort and causal tuples', async (t) => {
  const stamp = { c: [1, 2] }
  const frame = [
    FrameType.data, 0,
    Flag.bestEffort, 7, null, 'best-effort seq 7 (must not answer for reliable seq 7)',
    Flag.reliable | Flag.fifo, 7, null, { n: 7, nested: [1, { deep: true }] },
    Flag.reliable | Flag.causal, 8, 'k', { n: 8 }, stamp,
    Flag.reliable, 9, null, null,
    Flag.reliable | Flag.tooLarge, 10, null, null,
  ]
  const sent = new SentFrame(encodeFrame(frame))
  t.same(sent.payload(7), { n: 7, nested: [1, { deep: true }] }, 'seq 7 is the reliable one, not the best-effort tuple with the same number')
  t.same(sent.payload(8), { n: 8 }, 'after a causal tuple (five wide) the offsets still line up')
  t.equal(sent.payload(9), null)
  t.equal(sent.payload(11), undefined, 'a seq the frame did not carry')
  t.equal(payloadOf(sent, 8), sent.payload(8))
  const own = { kept: 'as given' }
  t.equal(payloadOf(own, 1), own, 'a payload not yet written is the object the application gave')
})

t.test('unacked entries decode kept payloads back', async (t) => {
  const out = reliableOut()
  push(out, Flag.reliable, null, { a: 1 }, null)
  push(out, Flag.reliable, 'key', ['two'], null)
  push(out, Flag.reliable, null, 'three (not written yet)', null)
  const bytes = encodeFrame([FrameType.data, 0, Flag.reliable, 1, null, { a: 1 }, Flag.reliable, 2, 'key', ['two']])
  const sent = new SentFrame(bytes)
  out.buf[offsetOf(out, 1) + 3] = sent
  out.buf[offsetOf(out, 2) + 3] = sent
  t.same(unackedEntries(out), [
    [Flag.reliable, null, { a: 1 }, null],
    [Flag.reliable, 'key', ['two'], null],
    [Flag.reliable, null, 'three (not written yet)', null],
  ])
})

interface Node {
  t: Transport
  got: InboundMessage[]
  downs: Array<TransportEvents['peer-down']>
}

t.test('object payloads, mixed with best-effort and causal sends, survive loss and retransmission intact', async (t) => {
  const w = memoryWorld(41)
  t.teardown(() => w.close())
  let dropped = 0
  w.net.onTrace((e) => {
    if (e.kind === 'dropped') dropped++
  })
  const start = async (nodeId: string): Promise<Node> => {
    const n: Node = { t: w.node({ nodeId, maxBatch: 16 }), got: [], downs: [] }
    n.t.onMessage((m) => n.got.push(m))
    n.t.on('peer-down', (d) => n.downs.push(d))
    await n.t.start()
    return n
  }
  const a = await start('a')
  const b = await start('b')
  await a.t.connect(b.t.address)
  await waitFor(() => a.t.metrics().lanesOpen! >= 2 && b.t.metrics().lanesOpen! >= 2, 'all lanes up')
  w.net.setLinkFaults(a.t.address, b.t.address, { drop: 0.3, duplicate: 0.1, reorder: 0.2, delay: [0, 5] })
  const N = 600
  for (const i of range(N)) {
    const payload = { i, tags: ['x', i % 7], inner: { half: i / 2 } }
    if (i % 5 === 0) a.t.send('b', { bestEffort: i }, { guarantee: ['best-effort'] })
    a.t.send('b', payload, { guarantee: i % 3 === 0 ? ['causal'] : ['reliable', 'fifo'] })
    if (i % 10 === 9) await new Promise((r) => setImmediate(r))
  }
  const reliable = (): InboundMessage[] => b.got.filter((m) => typeof (m.payload as { i?: unknown }).i === 'number')
  await waitFor(() => reliable().length >= N, 'every reliable message delivered', 60_000)
  t.ok(dropped > 0 && a.t.metrics().retransmitted! > 0, `frames were dropped (${dropped}) and messages resent (${a.t.metrics().retransmitted}): the kept bytes were decoded for it`)
  const byI = new Map(reliable().map((m) => [(m.payload as { i: number }).i, m.payload]))
  t.equal(reliable().length, N, 'each exactly once')
  t.same(range(N).map((i) => byI.get(i)), range(N).map((i) => ({ i, tags: ['x', i % 7], inner: { half: i / 2 } })), 'each payload is the one sent with its seq')
})

t.test('written but unacknowledged messages are handed back at peer-down, decoded from their frame', async (t) => {
  const w = memoryWorld(42)
  t.teardown(() => w.close())
  const a: Node = { t: w.node({ nodeId: 'a' }), got: [], downs: [] }
  a.t.on('peer-down', (d) => a.downs.push(d))
  const b = w.node({ nodeId: 'b' })
  await a.t.start()
  await b.start()
  await a.t.connect(b.address)
  await waitFor(() => a.t.metrics().lanesOpen! >= 2, 'all lanes up')
  // Everything a writes from now on is lost: written (so kept as bytes), never acknowledged.
  w.net.setLinkFaults(a.t.address, b.address, { drop: 1 })
  const sentBefore = a.t.metrics().framesSent!
  for (const i of range(5)) a.t.send('b', { i, s: `m${i}` }, { guarantee: ['reliable', 'fifo'] })
  await waitFor(() => a.t.metrics().framesSent! > sentBefore, 'the messages were written')
  a.t.forget('b')
  await waitFor(() => a.downs.length > 0, 'peer-down')
  t.same(a.downs[0]!.unacknowledged.map((u) => u.payload), range(5).map((i) => ({ i, s: `m${i}` })))
  t.same(a.downs[0]!.unacknowledged.map((u) => u.guarantee), range(5).map(() => ['reliable', 'fifo']))
})
