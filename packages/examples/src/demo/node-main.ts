/**
 * One node of the demo, run as a child process by `demo.ts`. Talks to its parent over IPC:
 * `ready` once listening, `stats` every few hundred ms, the coordinator's job events on node 1.
 * Arguments: <name> <seeds comma-separated or ->; the secret comes in MURMUR_SECRET.
 */
import { Swarm, pinned } from '@murmur/swarm'
import { CoordinatorAgent, WorkerAgent, Coordinator } from './agents.js'
import { exitWithParent } from '../internal/children.js'

const [name = 'node', seedArg = '-'] = process.argv.slice(2)
const secret = process.env.MURMUR_SECRET
if (!secret) throw new Error('MURMUR_SECRET is not set')
const send = (m: unknown) => {
  if (process.connected) process.send!(m)
}

const node = await Swarm.start({
  port: 0,
  host: '127.0.0.1',
  nodeId: name,
  seeds: seedArg === '-' ? [] : seedArg.split(','),
  secret,
  agents: [CoordinatorAgent, WorkerAgent],
})
exitWithParent(() => node.stop())
CoordinatorAgent.outlet = (event) => send({ kind: 'job', event })

// The coordinator hears of lost nodes from its node: a plain message, like any other.
node.on('member-down', (m) => {
  if (node.system.hosts({ type: Coordinator.name, id: 'coordinator' })) node.ref(Coordinator, 'coordinator').tell('nodeDown', { node: m.id })
})

process.on('message', (m: any) => {
  if (m?.cmd === 'job') void startJob(m).catch((e: unknown) => send({ kind: 'error', message: String(e) }))
})

async function startJob(m: { workers: Array<{ id: string; node: string }>; linesPerTask: number; workMs: number }): Promise<void> {
  // Workers are spawned from here onto every node (remote spawn), pinned so the demo can show per-node work.
  await Promise.all(m.workers.map((w) => node.spawn(WorkerAgent, { id: w.id, input: { node: w.node }, placement: pinned(w.node) })))
  const c = await node.spawn(CoordinatorAgent, { id: 'coordinator', placement: pinned(node.nodeId) })
  c.tell('start', { workers: m.workers, linesPerTask: m.linesPerTask, workMs: m.workMs })
}

const every = setInterval(() => {
  const metrics = node.transport.metrics()
  send({
    kind: 'stats',
    node: node.nodeId,
    members: node.members().map((x) => ({ id: x.id, status: x.status })),
    agents: node.system.localAgents().length,
    delivered: metrics.messagesDelivered ?? 0,
    sent: metrics.messagesSent ?? 0,
  })
}, 250)
every.unref()
send({ kind: 'ready', node: node.nodeId, address: node.address })
