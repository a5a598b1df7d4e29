#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { ProcessCluster, type Report } from './chaos/cluster.js'

/**
 * `pnpm soak [--minutes 10] [--nodes 5] [--rate 400] [--every 30]`: a cluster of node processes
 * on 127.0.0.1 under a steady reliable workload (`rate` tells per second from each node to 50
 * agents spread over the cluster), sampling every node's heap every `every` seconds. Prints a
 * table of heap over time, then whether every tell sent was handled once the load stopped.
 */
const { values } = parseArgs({
  options: {
    minutes: { type: 'string', default: '10' },
    nodes: { type: 'string', default: '5' },
    rate: { type: 'string', default: '400' },
    every: { type: 'string', default: '30' },
  },
})
const names = Array.from({ length: Number(values.nodes) }, (_, i) => `s${i}`)
const agents = Array.from({ length: 50 }, (_, i) => `soak${i}`)
const stats = new Map<string, Report>()
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms))
const mib = (n: unknown): string => ((n as number) / 2 ** 20).toFixed(1)

const cluster = await ProcessCluster.create(names, (name, r) => {
  if (r.t === 'stats') stats.set(name, r)
  if (r.t === 'error') console.error(name, r.message)
})
process.on('SIGINT', () => {
  cluster.close()
  process.exit(130)
})
async function sample(): Promise<Map<string, Report>> {
  stats.clear()
  cluster.broadcast({ cmd: 'stats' })
  const end = Date.now() + 5000
  while (stats.size < names.length && Date.now() < end) await sleep(20)
  return new Map(stats)
}
try {
  await cluster.startAll()
  await sleep(3000)
  cluster.send('s0', { cmd: 'spawn', ids: agents })
  await sleep(3000)
  const perTick = Math.max(1, Math.round(Number(values.rate) / 50))
  cluster.broadcast({ cmd: 'work', agents, every: 20, burst: perTick, record: false })
  const started = Date.now()
  const until = started + Number(values.minutes) * 60_000
  console.log(`soak: ${names.length} nodes, ${perTick * 50} tells/s per node, ${values.minutes} min; heap used (MiB) per node`)
  console.log(['   t(s)', ...names.map((n) => n.padStart(7)), '  handled'].join(' '))
  while (Date.now() < until) {
    await sleep(Math.min(Number(values.every) * 1000, until - Date.now()))
    const s = await sample()
    const handled = [...s.values()].reduce((n, r) => n + (r.handled as number), 0)
    console.log([String(Math.round((Date.now() - started) / 1000)).padStart(7), ...names.map((n) => mib(s.get(n)?.heapUsed ?? 0).padStart(7)), String(handled).padStart(9)].join(' '))
  }
  cluster.broadcast({ cmd: 'stop-work' })
  await sleep(10_000)
  const s = await sample()
  const sent = [...s.values()].reduce((n, r) => n + (r.sent as number), 0)
  const handled = [...s.values()].reduce((n, r) => n + (r.handled as number), 0)
  console.log(`after the load: ${sent} tells sent, ${handled} handled${sent === handled ? ' (all)' : ` (${sent - handled} missing)`}; rss per node (MiB): ${names.map((n) => mib(s.get(n)?.rss ?? 0)).join(', ')}`)
  process.exitCode = sent === handled ? 0 : 1
} finally {
  cluster.close()
}
