import t from 'tap'
import { busyPoll } from '../src/internal/uws/busy-poll.js'
import { uwsConnector } from '../src/uws-connector.js'
import { systemClock } from '../src/clock.js'
import { waitFor } from './helpers/wait.js'

/**
 * The busy poll keeps a `setImmediate` pending (so libuv polls without sleeping) for a window
 * after the last frame, and none after it: a quiet node must not burn a CPU, nor a closed one
 * stay alive. The clock is a parameter, so these tests step it by hand instead of racing it.
 */

const polling = (): boolean => process.getActiveResourcesInfo().includes('Immediate')
const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

t.test('polls for the window after the last touch, then stops', async (t) => {
  let ms = 1000
  let reads = 0
  const poll = busyPoll(50, () => (reads++, ms))
  t.notOk(polling(), 'nothing pending before the first touch')
  poll.touch()
  await turn()
  await turn()
  t.ok(reads >= 2, 'the loop looks at the clock while it polls')
  ms += 0.03
  poll.touch()
  ms += 0.03
  await turn()
  await turn()
  t.ok(polling(), '60 µs after the first touch, 30 after the second: still polling')
  ms += 0.051
  await turn()
  await turn()
  const after = reads
  await turn()
  await turn()
  t.equal(reads, after, 'a window after the last touch it stops')
  t.notOk(polling(), 'and leaves nothing pending')
  poll.touch()
  await turn()
  t.ok(reads > after, 'a touch after that starts it again')
  poll.stop()
  await turn()
  t.notOk(polling(), 'stop ends it inside the window')
  poll.touch()
  t.notOk(polling(), 'and for good')
})

t.test('a window of 0 never polls', async (t) => {
  const poll = busyPoll(0, () => t.fail('no clock read'))
  poll.touch()
  t.notOk(polling())
  poll.stop()
})

t.test('a uws connector polls after traffic and stops when quiet or closed', async (t) => {
  const connector = uwsConnector({ busyPollMicros: 2000 })({ clock: systemClock })
  t.teardown(() => connector.close())
  const got: Uint8Array[] = []
  const address = await connector.listen({ host: '127.0.0.1', port: 0 }, (link) => ({
    frame: (data) => link.send(data),
    drain: () => {},
    close: () => {},
  }))
  const link = await connector.dial(address, { frame: (d) => got.push(d), drain() {}, close() {} })
  // Quiet since the handshake (not a frame): wait out any window still running.
  await waitFor(() => !polling(), 'no window left from the handshake', 5000)
  link.send(new Uint8Array([1, 2, 3]))
  t.ok(polling(), 'a send starts polling at once')
  await waitFor(() => got.length === 1, 'the echo', 5000)
  t.same([...(got[0] as Uint8Array)], [1, 2, 3], 'the echo came back')
  await waitFor(() => !polling(), 'polling to stop', 5000)
  t.pass('quiet again: polling stopped by itself')
  link.send(new Uint8Array([4]))
  t.ok(polling())
  await connector.close()
  await waitFor(() => !polling(), 'polling to stop after close', 5000)
  t.pass('closing the connector stops it')
})
