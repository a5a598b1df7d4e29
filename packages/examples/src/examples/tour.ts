/**
 * The README's five-minute tour as one program: define an agent, start three nodes, spawn on one,
 * address it by id from every node, then stop the node that hosts it and see its state move.
 *
 * Run: pnpm --filter @murmur/examples run example:tour
 */
import { Swarm } from '@murmur/swarm'
import { GreeterAgent } from '../cli/sample-agents.js'
import { runIfMain } from '../internal/main.js'

// 1. An agent: a protocol (message types, their schemas and guarantees) and a class with a
//    handler per type. `GreeterAgent` is defined in `../cli/sample-agents.ts` (the CLI hosts it too).

export interface TourResult {
  /** Each node's ask, in turn: who asked, the reply, and where the greeter lived then. */
  readonly asks: ReadonlyArray<{ readonly asker: string; readonly text: string; readonly greeted: number; readonly home: string }>
  /** The greeter's home after its first home stopped, and the count it went on from. */
  readonly after: { readonly home: string; readonly greeted: number; readonly stopped: string }
}

export async function run(log: (line: string) => void = console.log): Promise<TourResult> {
  // 2. Three nodes: the second and third join through the first. Same secret, same agent classes.
  //    `start` resolves once a node listens; `joined` once the cluster has taken it in.
  const secret = process.env.MURMUR_SECRET ?? 'change-me'
  const a = await Swarm.start({ port: 0, secret, agents: [GreeterAgent] })
  const b = await Swarm.start({ port: 0, secret, seeds: [a.address], agents: [GreeterAgent] })
  const c = await Swarm.start({ port: 0, secret, seeds: [a.address], agents: [GreeterAgent] })
  const nodes = [a, b, c]
  try {
    await Promise.all(nodes.map((n) => n.joined({ timeout: 10_000 })))
    // 3. Spawn from node a; the cluster places it (rendezvous hashing) on a, b or c.
    await a.spawn(GreeterAgent, { id: 'greeter-1' })
    // 4. Address it by id from every node: wherever it lives, the message finds it.
    const asks = []
    for (const n of nodes) {
      const reply = await n.ref(GreeterAgent, 'greeter-1').ask('greet', { name: n.nodeId }, { timeout: 5000 })
      const home = n.find('greeter-1')?.node ?? '?'
      log(`${n.nodeId} asked: ${reply.text} (greeted ${reply.greeted}×), greeter-1 lives on ${home}`)
      asks.push({ asker: n.nodeId, ...reply, home })
    }
    // 5. Stop the node that hosts it: a graceful leave hands the greeter, with its state, to another.
    const host = nodes.find((n) => n.nodeId === a.find('greeter-1')?.node)
    if (host === undefined) throw new Error('greeter-1 has no home')
    await host.stop()
    const rest = nodes.filter((n) => n !== host)
    const reply = await (rest[0] as Swarm).ref(GreeterAgent, 'greeter-1').ask('greet', { name: 'again' }, { timeout: 5000 })
    const home = (rest[0] as Swarm).find('greeter-1')?.node ?? '?'
    log(`${host.nodeId} stopped; greeter-1 now lives on ${home} and has greeted ${reply.greeted}×`)
    return { asks, after: { home, greeted: reply.greeted, stopped: host.nodeId } }
  } finally {
    await Promise.all(nodes.map((n) => n.stop()))
  }
}

runIfMain(import.meta.url, async () => {
  await run()
  return 0
})
