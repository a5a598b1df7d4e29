import t from 'tap'
import { memoryPair } from './helpers/pair.js'
import { waitFor } from './helpers/wait.js'

/**
 * "Membership and acks travel on a control channel that bulk data can never block": bulk traffic
 * on a slow link fills the reliable window and goes past the high-water mark and the hard limit,
 * and control messages still go at once, are never dropped and never refused.
 */
t.test('bulk data past the window, the high-water mark and the hard limit does not hold back or refuse control messages', async (t) => {
  // 200 bytes per virtual ms: bulk backs up on the link.
  const flow = { highWaterMark: 64 << 10, lowWaterMark: 16 << 10, hardLimit: 4 << 20 }
  const { w, a, got } = await memoryPair(81, flow, { bandwidth: 200 })
  t.teardown(() => w.close())
  const chunk = 'b'.repeat(100)
  let accepted = 0
  // 12,000 reliable bulk messages in one go: more than the initial window (8,192 in flight) and
  // far over the high-water mark, then more until the hard limit refuses them.
  for (let i = 0; i < 12_000; i++) a.send('b', `${accepted++}:${chunk}`)
  t.ok(a.capacity('b').bufferedBytes > flow.highWaterMark, 'bulk is over the high-water mark')
  t.ok(a.send('b', 'probe', { channel: 'control', guarantee: ['best-effort'] }), 'a best-effort control message is accepted, not dropped at the high-water mark')
  a.send('b', 'membership', { channel: 'control' })
  await waitFor(() => got.some((m) => m.payload === 'membership') && got.some((m) => m.payload === 'probe'), 'control messages arrive', 20_000)
  const bulkBefore = got.filter((m) => m.channel === 'default').length
  t.ok(bulkBefore < 1024, `they arrived with ${bulkBefore} of ${accepted} bulk messages delivered: not held behind a full window`)
  let overloaded = false
  for (let i = 0; i < 100_000 && !overloaded; i++) {
    try {
      a.send('b', `${accepted}:${chunk}`)
      accepted++
    } catch (error) {
      overloaded = (error as { code?: string }).code === 'OVERLOADED'
      if (!overloaded) throw error
    }
  }
  t.ok(overloaded, `bulk reached the hard limit (${accepted} accepted before Overloaded)`)
  t.doesNotThrow(() => a.send('b', 'still', { channel: 'control' }), 'a reliable control message is not refused with Overloaded')
  await waitFor(() => got.some((m) => m.payload === 'still'), 'and arrives', 20_000)
  t.ok(got.filter((m) => m.channel === 'default').length < accepted, 'before the bulk completes')
  await waitFor(() => got.filter((m) => m.channel === 'default').length === accepted, 'and the bulk completes', 60_000)
})
