/**
 * One node process of the chaos test and the soak: a Swarm node over uWebSockets.js on 127.0.0.1,
 * driven by its parent over IPC (`fork`). argv: nodeId, port, comma-separated seed ports. It
 * reports what it sends and handles (`send`, `deliver`), its final view (`final`) and its memory
 * (`stats`). Commands: spawn, work, stop-work, cut, final, stats.
 */
import { Swarm } from '@murmur/swarm'
import { createTransport, interposable, uwsConnector } from '@murmur/transport'
import { Tally, TallyAgent } from '../workload/agents.js'

export type Command =
  | { cmd: 'spawn'; ids: string[] }
  | { cmd: 'work'; agents: string[]; every: number; burst: number; record?: boolean }
  | { cmd: 'stop-work' }
  | { cmd: 'cut'; peers: string[]; ports: Record<string, number>; ms: number }
  | { cmd: 'final'; agents: string[] }
  | { cmd: 'stats' }

const [nodeId = 'node', port = '0', seedPorts = ''] = process.argv.slice(2)
const inc = `${nodeId}@${process.pid}`
const seeds = seedPorts.split(',').filter(Boolean).map((p) => `127.0.0.1:${p}`)
const report = (e: object): void => {
  process.send?.(e)
}
let handled = 0
let sent = 0
let record = true
TallyAgent.onHandled = (id, stream, seq) => {
  handled++
  if (record) report({ t: 'deliver', id: `${stream}#${seq}`, agent: id, node: inc, stream, seq })
}
// The uws transport with the interposition hook, so that the driver can cut links between chosen nodes.
const { factory, interposer } = interposable(uwsConnector({ maxPayloadLength: (1 << 20) + 1024 }))
const transport = createTransport({ nodeId, cluster: 'murmur', secret: 'chaos-secret', host: '127.0.0.1', port: Number(port), connector: factory, channels: { default: { parallelism: 1 } }, maxBatch: 1024 })
const node = await Swarm.start({ port: Number(port), nodeId, secret: 'chaos-secret', seeds, agents: [TallyAgent], transport })
let seq = 0
let timer: NodeJS.Timeout | undefined
const cuts = new Map<string, NodeJS.Timeout>()

async function onCommand(m: Command): Promise<void> {
  switch (m.cmd) {
    case 'spawn':
      for (const id of m.ids) await node.spawn(TallyAgent, { id }).catch(() => {})
      return report({ t: 'spawned' })
    case 'work':
      clearInterval(timer)
      record = m.record ?? true
      timer = setInterval(() => {
        for (let i = 0; i < m.burst; i++) {
          const agent = m.agents[Math.floor(Math.random() * m.agents.length)] as string
          const stream = `${inc}>${agent}`
          const s = ++seq
          try {
            node.ref(Tally, agent).tell('add', { stream, seq: s })
            sent++
            if (record) report({ t: 'send', id: `${stream}#${s}`, from: inc, agent, stream, seq: s })
          } catch {
            // refused at the sender (Overloaded, no route): not accepted, not recorded
          }
        }
      }, m.every)
      return
    case 'stop-work':
      clearInterval(timer)
      return report({ t: 'stopped-work' })
    case 'cut':
      // Through the interposition hook: the links this node dialled toward the peer go silent for
      // `ms` (the driver cuts both sides); heartbeats, failure detection and redials find out.
      for (const peer of m.peers) {
        const address = `127.0.0.1:${m.ports[peer]}`
        interposer.cut(address)
        clearTimeout(cuts.get(peer))
        cuts.set(peer, setTimeout(() => interposer.heal(address), m.ms))
      }
      return
    case 'final': {
      const hosting = m.agents.filter((id) => node.system.hosts({ type: 'tally', id }))
      const directory = JSON.stringify(node.agents({ type: 'tally' }).map((a) => `${a.id}=${a.node}`).sort())
      const members = node.members().filter((x) => x.status === 'alive').map((x) => x.id).sort()
      return report({ t: 'final', node: inc, hosting, directory, members })
    }
    case 'stats': {
      const mem = process.memoryUsage()
      return report({ t: 'stats', node: inc, heapUsed: mem.heapUsed, rss: mem.rss, handled, sent, transport: node.transport.metrics() })
    }
  }
}

process.on('message', (m: Command) => {
  onCommand(m).catch((error: unknown) => report({ t: 'error', message: String(error) }))
})
report({ t: 'up', node: inc })
