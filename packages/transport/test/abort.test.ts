import t from 'tap'
import { Aborted, NotStarted, PeerUnknown, PeerUnreachable, Overloaded } from '../src/index.js'
import { memoryWorld, uwsWorld } from './helpers/worlds.js'

t.test('AbortSignal and lifecycle errors', async (t) => {
  const w = memoryWorld(61, { bandwidth: 1 })
  t.teardown(() => w.close())
  const a = w.node({ nodeId: 'a', highWaterMark: 1024, lowWaterMark: 256, reconnect: { giveUpAfter: 1e12 } })
  const b = w.node({ nodeId: 'b' })
  await t.rejects(a.connect('b'), NotStarted, 'connect before start')
  await a.start()
  await b.start()
  await t.rejects(a.connect('b', { signal: AbortSignal.abort() }), Aborted, 'connect with an aborted signal')
  await t.rejects(a.connect('nobody'), PeerUnreachable, 'nothing listens there')
  await t.rejects(a.ready('b'), PeerUnknown)
  await a.connect('b')
  for (let i = 0; i < 100; i++) a.send('b', 'x'.repeat(100))
  const controller = new AbortController()
  const waiting = a.ready('b', { signal: controller.signal })
  controller.abort()
  await t.rejects(waiting, Aborted, 'ready() aborted')
  await t.rejects(a.ready('b', { deadline: 1 }), Overloaded, 'ready() past its deadline')
  await a.stop()
  await t.rejects(a.connect('b'), NotStarted, 'connect after stop')
  t.throws(() => a.send('b', 1), PeerUnknown, 'no sessions after stop')
})

t.test('uws: connect to a closed port is PeerUnreachable, stop() twice is fine', async (t) => {
  const w = uwsWorld()
  t.teardown(() => w.close())
  const a = w.node({ nodeId: 'a' })
  const b = w.node({ nodeId: 'b' })
  await a.start()
  await b.start()
  const address = b.address
  await b.stop()
  await b.stop()
  await t.rejects(a.connect(address), PeerUnreachable)
})
