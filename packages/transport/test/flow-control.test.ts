import t from 'tap'
import { Overloaded, type InboundMessage, type TransportEvents } from '../src/index.js'
import { memoryWorld } from './helpers/worlds.js'
import { range, waitFor } from './helpers/wait.js'

t.test('a slow link: best-effort dropped and counted, reliable bounded by Overloaded, ready() waits, nothing accepted lost', async (t) => {
  // 20 bytes per virtual ms leave a sender's buffer: far slower than the sender.
  const w = memoryWorld(31, { bandwidth: 20 })
  t.teardown(() => w.close())
  const limits = { highWaterMark: 32 << 10, lowWaterMark: 8 << 10, hardLimit: 128 << 10, reconnect: { giveUpAfter: 1e12 }, heartbeatInterval: 1e11 }
  const a = w.node({ nodeId: 'a', ...limits })
  const b = w.node({ nodeId: 'b', ...limits })
  const got: InboundMessage[] = []
  b.onMessage((m) => got.push(m))
  const events: Array<keyof TransportEvents> = []
  a.on('backpressure', () => events.push('backpressure'))
  a.on('drained', () => events.push('drained'))
  await a.start()
  await b.start()
  await a.connect(b.address)
  const payload = 'x'.repeat(64)

  let accepted = 0
  let overloaded: unknown
  let sawFalse = false
  try {
    for (const i of range(100_000)) {
      if (!a.send('b', { i, payload })) sawFalse = true
      accepted++
    }
  } catch (error) {
    overloaded = error
  }
  t.type(overloaded, Overloaded, 'a reliable send above the hard limit throws Overloaded')
  t.ok(sawFalse, 'send returned false above the high-water mark')
  t.ok(accepted < 100_000, `only ${accepted} accepted`)
  const cap = a.capacity('b')
  t.ok(cap.bufferedBytes <= limits.hardLimit + 1024, `buffered stays bounded (${cap.bufferedBytes} bytes)`)
  t.ok(cap.inFlight <= cap.window, 'in flight within the AIMD window')
  t.ok(events.includes('backpressure'), 'backpressure event')

  const dropped = a.metrics().bestEffortDropped!
  for (const i of range(100)) a.send('b', i, { guarantee: ['best-effort'] })
  t.equal(a.metrics().bestEffortDropped, dropped + 100, 'best-effort above the high-water mark is dropped and counted, not buffered')

  await t.rejects(a.ready('b', { deadline: 10 }), Overloaded, 'ready() past its deadline rejects Overloaded')
  await a.ready('b')
  t.ok(a.capacity('b').bufferedBytes < limits.lowWaterMark, 'ready() resolved under the low-water mark')
  t.ok(events.includes('drained'), 'drained event')
  await waitFor(() => got.length >= accepted, 'every accepted message delivered', 60_000)
  t.same(got.map((m) => (m.payload as { i: number }).i), range(accepted), 'exactly once, in order')
})

t.test('AIMD: the window halves on a retransmission timeout and grows back with acks', async (t) => {
  const w = memoryWorld(32)
  t.teardown(() => w.close())
  const a = w.node({ nodeId: 'a', reconnect: { giveUpAfter: 1e12 } })
  const b = w.node({ nodeId: 'b' })
  let n = 0
  b.onMessage(() => n++)
  await a.start()
  await b.start()
  await a.connect(b.address)
  await waitFor(() => a.metrics().lanesOpen === 2, 'both lanes up')
  const initial = a.capacity('b').window
  w.net.partition(['a'], ['b'])
  for (const i of range(100)) a.send('b', i)
  await waitFor(() => a.metrics().retransmitTimeouts! >= 2, 'timeouts while partitioned')
  const shrunk = a.capacity('b').window
  t.ok(shrunk <= initial / 4, `window halved per timeout: ${initial} → ${shrunk}`)
  w.net.heal()
  await waitFor(() => n === 100, 'delivered after heal', 60_000)
  for (const round of range(20)) {
    for (const i of range(500)) a.send('b', round * 500 + i)
    await waitFor(() => n === 100 + (round + 1) * 500, 'round delivered', 60_000)
  }
  t.ok(a.capacity('b').window > shrunk, `window grew additively: ${shrunk} → ${a.capacity('b').window}`)
})
