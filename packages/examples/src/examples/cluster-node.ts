/**
 * One node of the `cluster` example, run as a child process. Arguments: <name> <seeds or ->;
 * secret in MURMUR_SECRET. Reports `ready` and `stats` to its parent over IPC; on `{ cmd: 'work' }`
 * it spawns greeters across the cluster and asks each one.
 */
import { Swarm } from '@murmur/swarm'
import { GreeterAgent } from '../cli/sample-agents.js'
import { exitWithParent } from '../internal/children.js'

const [name = 'node', seedArg = '-'] = process.argv.slice(2)
const secret = process.env.MURMUR_SECRET
if (!secret) throw new Error('MURMUR_SECRET is not set')
const send = (m: unknown) => {
  if (process.connected) process.send!(m)
}

const node = await Swarm.start({ port: 0, nodeId: name, seeds: seedArg === '-' ? [] : seedArg.split(','), secret, agents: [GreeterAgent] })
exitWithParent(() => node.stop())

process.on('message', (m: any) => {
  if (m?.cmd !== 'work') return
  void (async () => {
    const ids = Array.from({ length: m.agents as number }, (_, i) => `greeter-${String(i + 1).padStart(3, '0')}`)
    // A spawn whose target node is lost meanwhile fails; the next try places it among the living.
    const spawn = async (id: string, tries = 3): Promise<unknown> => node.spawn(GreeterAgent, { id }).catch((e: unknown) => (tries > 1 ? spawn(id, tries - 1) : Promise.reject(e)))
    await Promise.all(ids.map((id) => spawn(id)))
    const replies = await Promise.all(ids.map((id) => node.ref(GreeterAgent, id).ask('greet', { name }, { timeout: 10_000 }).then(() => 1, () => 0)))
    const perNode: Record<string, number> = {}
    for (const a of node.agents({ type: GreeterAgent.protocol.name })) perNode[a.node] = (perNode[a.node] ?? 0) + 1
    send({ kind: 'work-done', spawned: ids.length, answered: replies.reduce((a: number, b: number) => a + b, 0), perNode })
  })().catch((e: unknown) => send({ kind: 'error', message: String(e) }))
})

const timer = setInterval(() => {
  const ms = node.members()
  send({ kind: 'stats', node: name, alive: ms.filter((x) => x.status === 'alive').length, dead: ms.filter((x) => x.status === 'dead').length })
}, 250)
timer.unref()
send({ kind: 'ready', node: name, address: node.address })
