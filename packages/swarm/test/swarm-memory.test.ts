import t from 'tap'
import { AgentNotFound } from '@murmur/actor-core'
import { MemoryCluster } from './helpers/cluster.js'
import { CounterAgent, Counter } from './helpers/agents.js'

t.test('three nodes: join, spawn anywhere, tell and ask by id from every node', async (t) => {
  const c = new MemoryCluster(1)
  t.teardown(() => c.close())
  await c.add('a')
  await c.add('b', ['a'])
  await c.add('c', ['a'])
  await c.until(() => c.converged(), 'membership')
  const a = c.nodes.get('a')!
  for (let i = 0; i < 60; i++) await a.spawn(CounterAgent, { id: `w-${i}` })
  const spread = new Map<string, number>()
  for (let i = 0; i < 60; i++) {
    const h = c.hosts(`w-${i}`)
    t.equal(h.length, 1, `w-${i} runs on exactly one node`)
    spread.set(h[0]!, (spread.get(h[0]!) ?? 0) + 1)
  }
  t.equal(spread.size, 3, `agents spread over all nodes ${JSON.stringify([...spread])}`)
  for (const from of ['a', 'b', 'c']) {
    const n = c.nodes.get(from)!
    for (let i = 0; i < 60; i += 7) n.ref(CounterAgent, `w-${i}`).tell('add', { n: 1 })
  }
  for (const from of ['a', 'b', 'c']) {
    const n = c.nodes.get(from)!
    for (let i = 0; i < 60; i += 7) {
      const r = await n.ref(CounterAgent, `w-${i}`).ask('get', {}, { timeout: 5000 })
      t.ok(r.total >= 1)
    }
  }
  const last = await c.nodes.get('b')!.ref(Counter, 'w-0').ask('get', {}, { timeout: 5000 })
  t.equal(last.total, 3, 'one add from each node, each handled once')
  t.equal(c.nodes.get('c')!.find('w-0')?.node, c.hosts('w-0')[0], 'find() agrees with where it runs')
  await t.rejects(c.nodes.get('c')!.ref(CounterAgent, 'nobody').ask('get', {}, { timeout: 5000 }), AgentNotFound)
})
