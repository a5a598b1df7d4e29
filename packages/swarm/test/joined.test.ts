import t from 'tap'
import { JoinTimeout, SwarmStopped } from '../src/index.js'
import { MemoryCluster } from './helpers/cluster.js'
import { CounterAgent } from './helpers/agents.js'

/**
 * `joined()`: `Swarm.start` resolves when a node listens, and a node that has not joined yet sees
 * only itself (placement) and knows no agent spawned elsewhere. `joined()` waits for a member's
 * answer: the member list and a directory synced with the member's.
 */

t.test('the first node has joined at once; a newcomer once a member answered, knowing members and agents', async (t) => {
  const c = new MemoryCluster(11)
  t.teardown(() => c.close())
  const a = await c.add('a')
  await a.joined()
  t.pass('a node without seeds is the cluster')
  for (let i = 0; i < 30; i++) await a.spawn(CounterAgent, { id: `w-${i}` })
  const b = await c.add('b', ['a'])
  let joinedEvent = ''
  b.on('joined', ({ via }) => (joinedEvent = via))
  await b.joined({ timeout: 10_000 })
  t.equal(joinedEvent, 'a', 'the joined event names the member that answered')
  t.ok(
    b.members().some((m) => m.id === 'a' && m.status === 'alive'),
    'the member that answered is alive in its view',
  )
  t.equal(b.agents({ type: 'counter' }).length, 30, 'its directory knows every agent spawned before it came')
  t.ok(['a', 'b'].includes(b.find('w-7')?.node ?? ''), 'and where each runs (on a, or on b if it moved there since)')
  const r = await b.ref(CounterAgent, 'w-7').ask('get', {}, { timeout: 5000 })
  t.equal(r.total, 0)
  await b.joined()
  t.pass('joined again resolves at once')
})

t.test('a node nobody answers: JoinTimeout, the abort reason, SwarmStopped', async (t) => {
  const c = new MemoryCluster(12)
  t.teardown(() => c.close())
  const lonely = await c.add('lonely', ['nobody-listens-here'])
  await t.rejects(lonely.joined({ timeout: 300 }), JoinTimeout, 'a timeout rejects with JoinTimeout')
  const ac = new AbortController()
  const aborted = lonely.joined({ signal: ac.signal })
  ac.abort(new Error('gave up'))
  await t.rejects(aborted, { message: 'gave up' }, "an abort rejects with the signal's reason")
  const waiting = lonely.joined()
  void lonely.stop()
  await t.rejects(waiting, SwarmStopped, 'a stop rejects the waiters')
  await t.rejects(lonely.joined(), SwarmStopped, 'and any later call')
})
