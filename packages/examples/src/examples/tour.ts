/**
 * The README's five-minute tour as one program: define an agent, start two nodes, spawn on one,
 * address it by id from the other.
 *
 * Run: pnpm --filter @murmur/examples run example:tour
 */
import { Swarm } from '@murmur/swarm'
import { GreeterAgent } from '../cli/sample-agents.js'
import { runIfMain } from '../internal/main.js'

// 1. An agent: a protocol (message types, their schemas and guarantees) and a class with a
//    handler per type. `GreeterAgent` is defined in `../cli/sample-agents.ts` (the CLI hosts it too).

export async function run(log: (line: string) => void = console.log): Promise<{ text: string; greeted: number; home: string; asker: string }> {
  // 2. Two nodes: the second joins through the first. Same secret, same agent classes.
  const secret = process.env.MURMUR_SECRET ?? 'change-me'
  const a = await Swarm.start({ port: 0, secret, agents: [GreeterAgent] })
  const b = await Swarm.start({ port: 0, secret, seeds: [a.address], agents: [GreeterAgent] })
  try {
    await new Promise<void>((resolve) => {
      const check = () => (b.members().filter((m) => m.status === 'alive').length === 2 ? resolve() : setTimeout(check, 20))
      check()
    })
    // 3. Spawn from node a; the cluster places it (rendezvous hashing), maybe on b.
    await a.spawn(GreeterAgent, { id: 'greeter-1' })
    // 4. Address it by id from node b: wherever it lives, the message finds it.
    const reply = await b.ref(GreeterAgent, 'greeter-1').ask('greet', { name: 'Ada' }, { timeout: 2000 })
    const home = b.find('greeter-1')?.node ?? a.find('greeter-1')?.node ?? '?'
    log(`${reply.text} (greeted ${reply.greeted}×) — greeter-1 lives on ${home}, asked from ${b.nodeId}`)
    return { ...reply, home, asker: b.nodeId }
  } finally {
    await Promise.all([a.stop(), b.stop()])
  }
}

runIfMain(import.meta.url, async () => {
  await run()
  return 0
})
