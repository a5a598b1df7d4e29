import t from 'tap'
import { FrameTooLarge } from '../src/index.js'
import { memoryPair } from './helpers/pair.js'
import { range, waitFor } from './helpers/wait.js'

const limits = { maxFrameSize: 64 << 10, chunkSize: 16 << 10, maxMessageSize: 256 << 10 }

const pair = (seed: number) => memoryPair(seed, limits)

t.test('a reliable message over maxMessageSize is dropped and reported; the ones after it still arrive, in order', async (t) => {
  const { w, a, b, errors, got } = await pair(71)
  t.teardown(() => w.close())
  a.send('b', 'before')
  a.send('b', 'z'.repeat(300 << 10)) // accepted: its size is known only when it is encoded
  for (const i of range(5)) a.send('b', i)
  await waitFor(() => got.length === 6, 'the messages after it arrived')
  t.same(got.map((m) => m.payload), ['before', 0, 1, 2, 3, 4], 'everything but the oversized one, in order')
  t.ok(errors.some((e) => e instanceof FrameTooLarge), 'the sender reports FrameTooLarge')
  t.equal(a.metrics().tooLargeDropped, 1, 'counted at the sender')
  await waitFor(() => b.metrics().tooLargeReceived === 1, 'its placeholder counted at the receiver')
  await waitFor(() => a.capacity('b').inFlight === 0, 'and acknowledged: nothing is retransmitted for ever')
  const timeouts = a.metrics().retransmitTimeouts
  await new Promise((r) => setTimeout(r, 300))
  t.equal(a.metrics().retransmitTimeouts, timeouts, 'no retransmission timeouts after it')
  // Across a reconnect nothing of it comes back either, and the stream goes on.
  await a.disconnect('b')
  await a.connect('b')
  a.send('b', 'after reconnect')
  await waitFor(() => got.some((m) => m.payload === 'after reconnect'), 'the lane works after a reconnect')
  t.equal(got.filter((m) => typeof m.payload === 'string' && m.payload.length > 1000).length, 0, 'the oversized payload was never delivered')
})

t.test('many messages that together exceed maxMessageSize in one turn are split over several frames, none dropped', async (t) => {
  const { w, a, errors, got } = await pair(72)
  t.teardown(() => w.close())
  const medium = 'm'.repeat(40 << 10)
  for (const i of range(20)) a.send('b', `${i}:${medium}`) // 800 KiB in one turn, over 256 KiB
  await waitFor(() => got.length === 20, 'all 20 arrived')
  t.same(got.map((m) => (m.payload as string).split(':')[0]), range(20).map(String), 'in order')
  t.equal(a.metrics().tooLargeDropped, 0, 'nothing dropped')
  t.equal(errors.filter((e) => e instanceof FrameTooLarge).length, 0, 'no error')
})

t.test('a causal message over maxMessageSize does not hold back what causally follows it', async (t) => {
  const { w, a, got } = await pair(73)
  t.teardown(() => w.close())
  a.send('b', 'c1', { guarantee: ['reliable', 'causal'] })
  a.send('b', 'y'.repeat(300 << 10), { guarantee: ['reliable', 'causal'] })
  a.send('b', 'c3', { guarantee: ['reliable', 'causal'] })
  await waitFor(() => got.length === 2, 'c1 and c3 arrived')
  t.same(got.map((m) => m.payload), ['c1', 'c3'])
})
