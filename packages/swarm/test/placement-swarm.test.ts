import t from 'tap'
import { MemoryCluster } from './helpers/cluster.js'
import { CounterAgent } from './helpers/agents.js'
import { leastLoaded, local } from '../src/index.js'

/**
 * `least-loaded` through a running cluster: each node's load (its agent count) travels with its
 * membership gossip, and spawns go to the nodes with the fewest agents. Also as the node-wide
 * `placement` option of `Swarm.start`, which a spawn without its own placement follows.
 */

t.test('least-loaded spawns avoid the node whose gossiped load is high, per spawn and node-wide', async (t) => {
  const c = new MemoryCluster(21)
  t.teardown(() => c.close())
  const a = await c.add('a', [], { placement: leastLoaded() })
  const b = await c.add('b', ['a'])
  const cc = await c.add('c', ['a'])
  await Promise.all([b.joined(), cc.joined()])
  await c.until(() => c.converged(), 'membership of 3')
  for (let i = 0; i < 20; i++) await b.spawn(CounterAgent, { id: `heavy-${i}`, placement: local() })
  await c.until(() => a.members().find((m) => m.id === 'b')?.load === 20, "b's load (20) gossiped to a")
  await c.until(() => cc.members().find((m) => m.id === 'b')?.load === 20, "and to c")
  // Node-wide: a was started with `placement: leastLoaded()`.
  for (let i = 0; i < 8; i++) await a.spawn(CounterAgent, { id: `light-${i}` })
  // Per spawn, from b, which was started with the default (rendezvous).
  for (let i = 0; i < 8; i++) await b.spawn(CounterAgent, { id: `chosen-${i}`, placement: leastLoaded() })
  const homes = (prefix: string) => [...Array(8).keys()].map((i) => c.hosts(`${prefix}-${i}`)[0])
  t.notOk(homes('light').includes('b'), `node-wide least-loaded: none on b (${homes('light').join(',')})`)
  t.notOk(homes('chosen').includes('b'), `per spawn: none on b (${homes('chosen').join(',')})`)
  t.ok(new Set([...homes('light'), ...homes('chosen')]).size === 2, 'both a and c took some')
})
