// A node's actor system stopped while its swarm engine still runs (a crash in progress, or an
// application that stopped `node.system` itself): mail for an agent it hosted must not make it spin.
import t from 'tap'
import { pinned } from '../src/index.js'
import { CounterAgent } from './helpers/agents.js'
import { MemoryCluster } from './helpers/cluster.js'

t.test('a node whose actor system stopped does not restart an agent in a loop', async (t) => {
  const c = await MemoryCluster.started(t, 21, ['a', 'b'])
  const a = c.nodes.get('a')!
  const b = c.nodes.get('b')!
  await b.spawn(CounterAgent, { id: 'k', placement: pinned('a') })
  await c.until(() => c.hosts('k').join() === 'a', 'k runs on a')
  await a.system.stop({ drainTimeout: 0 })
  for (let n = 1; n <= 3; n++) b.ref(CounterAgent, 'k').tell('add', { n })
  // Before the fix, `a` restarted k, failed (its system is stopped), retried the mail parked for k
  // at once, and so on in one chain of microtasks (sim --swarm seed 3383): no timer fired again.
  const fired = await new Promise<boolean>((resolve) => setTimeout(() => resolve(true), 500))
  t.ok(fired, 'a timer still fires: the event loop is not starved')
  t.same(c.hosts('k'), [], 'k runs nowhere: the system of its node is stopped')
})
