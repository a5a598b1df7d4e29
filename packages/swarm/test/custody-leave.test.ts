// A sender leaves gracefully while the node it passed tells to still holds them (in a handler that
// has not returned, in a mailbox); then that node crashes. The leaving node handed custody of the
// tells to a member that stays, which sends them again to the agent's next home.
import t from 'tap'
import { z } from 'zod'
import { Agent, message, protocol, type Handlers, type Payload } from '@murmur/actor-core'
import { capability } from '../src/index.js'
import { MemoryCluster } from './helpers/cluster.js'

const Gate = protocol('gate', {
  step: message(z.object({ n: z.number() }), { guarantee: ['reliable', 'fifo'] }),
})

/** The first activation never finishes its first message (its node is about to crash); later ones log. */
class GateAgent extends Agent<typeof Gate> implements Handlers<typeof Gate> {
  static protocol = Gate
  static placement = capability('gate')
  static supervision = { restart: 'always' } as const
  static blocked = true
  static handled: number[] = []
  static started = 0
  async step({ n }: Payload<typeof Gate, 'step'>): Promise<void> {
    GateAgent.started++
    if (GateAgent.blocked) await new Promise(() => {})
    GateAgent.handled.push(n)
  }
}

t.test('a leaving sender hands custody of what a live node still holds to a member that stays', async (t) => {
  const c = new MemoryCluster(11)
  t.teardown(() => c.close())
  const agents = { agents: [GateAgent] }
  const a = await c.add('a', [], agents)
  await c.add('b', ['a'], { ...agents, capabilities: ['gate'] })
  await c.add('c', ['a'], { ...agents, capabilities: ['gate'] })
  await c.until(() => c.converged(), 'membership of 3')
  await a.spawn(GateAgent, { id: 'g' })
  const [x] = c.hosts('g', 'gate')
  t.ok(x === 'b' || x === 'c', `the agent runs on ${x}, a node with the capability`)
  const y = x === 'b' ? 'c' : 'b'
  for (let n = 1; n <= 3; n++) a.ref(GateAgent, 'g').tell('step', { n })
  // The first is in its handler, and the transport has every tell acknowledged by x: only custody holds them at a.
  await c.until(() => GateAgent.started === 1 && a.transport.capacity(x!).inFlight === 0, 'the tells acknowledged by the agent\'s node')
  await a.stop()
  c.nodes.delete('a')
  t.same(GateAgent.handled, [], 'nothing handled yet: the first is stuck in its handler, the others wait')
  GateAgent.blocked = false
  c.crash(x!)
  await c.until(() => GateAgent.handled.length >= 3, 'the tells handled at the next home', 30_000).catch(() => {})
  t.same(c.hosts('g', 'gate'), [y], `the agent restarted on ${y}`)
  t.same(GateAgent.handled, [1, 2, 3], 'all three handled there, once each, in order: the heir sent them again')
})
