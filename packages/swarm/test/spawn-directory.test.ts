import t from 'tap'
import { MemoryCluster } from './helpers/cluster.js'
import { pinned } from '../src/index.js'
import { CounterAgent } from './helpers/agents.js'

// The new home answers the activation before its directory gossip reaches the spawning node; a
// tell right after `spawn` resolves used to be routed by placement (here: nowhere) and fail.
t.test('a remote spawn resolves only once the spawning node knows where the agent went', async (t) => {
  const c = await MemoryCluster.started(t, 5)
  const a = c.nodes.get('a')!
  for (let i = 0; i < 20; i++) {
    const id = `p-${i}`
    const target = i % 2 === 0 ? 'b' : 'c'
    const ref = await a.spawn(CounterAgent, { id, placement: pinned(target) })
    t.equal(a.find(id)?.node, target, `${id}: a's directory has it on ${target} when spawn resolves`)
    ref.tell('add', { n: 2 })
    const r = await ref.ask('get', {}, { timeout: 5000 })
    t.equal(r.total, 2, `${id}: the tell sent right after spawn was handled`)
  }
})
