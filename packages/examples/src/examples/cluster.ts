/**
 * A 20-node cluster on this machine, started and stopped by one command: 20 node processes
 * join through the first, agree on membership, host 100 agents placed by rendezvous hashing
 * and answer an ask each; then every node leaves and every process ends.
 *
 * Run: pnpm --filter @murmur/examples run example:cluster   (flags: --nodes N, --agents M)
 */
import { randomBytes } from 'node:crypto'
import { Children, until, type Child } from '../internal/children.js'
import { runIfMain } from '../internal/main.js'

/** Node processes started at once. */
const BATCH = 4

export interface ClusterOutcome {
  readonly nodes: number
  readonly pids: number[]
  readonly convergedMs: number
  readonly answered: number
  readonly spawned: number
  readonly perNode: Record<string, number>
  readonly stoppedMs: number
  readonly totalMs: number
}

export async function run(options: { nodes: number; agents: number }, log: (line: string) => void = console.log): Promise<ClusterOutcome> {
  const t0 = Date.now()
  const children = new Children()
  const secret = randomBytes(16).toString('hex')
  const alive = new Map<string, number>()
  const dead = new Map<string, number>()
  let work: { spawned: number; answered: number; perNode: Record<string, number> } | undefined
  let failure: string | undefined
  const names = Array.from({ length: options.nodes }, (_, i) => `node-${String(i + 1).padStart(2, '0')}`)
  const start = (name: string, seeds: string) =>
    new Promise<{ child: Child; address: string }>((resolve, reject) => {
      const child = children.start(name, new URL('./cluster-node.js', import.meta.url), [name, seeds], {
        env: { MURMUR_SECRET: secret },
        quiet: true,
        onMessage: (m: any) => {
          if (m?.kind === 'ready') resolve({ child, address: m.address })
          else if (m?.kind === 'stats') {
            alive.set(m.node, m.alive)
            dead.set(m.node, m.dead)
          }
          else if (m?.kind === 'work-done') work = m
          else if (m?.kind === 'error') failure = m.message
        },
      })
      void child.exited.then((code) => reject(new Error(`${name} exited early (${code})`)))
    })
  try {
    const first = await start(names[0]!, '-')
    // In batches: 20 processes booting at once on 2 cores stall each other's event loops for
    // seconds, long enough for the failure detector to suspect nodes that are merely starting.
    const rest: Array<{ child: Child; address: string }> = []
    for (let i = 1; i < names.length; i += BATCH) rest.push(...(await Promise.all(names.slice(i, i + BATCH).map((n) => start(n, first.address)))))
    const pids = [first, ...rest].map((c) => c.child.process.pid!)
    log(`${options.nodes} node processes up in ${Date.now() - t0} ms (first on ${first.address})`)
    await until(() => names.every((n) => alive.get(n) === options.nodes), `all ${options.nodes} nodes to see ${options.nodes} members`, 60_000, 50).catch((e: unknown) => {
      throw new Error(`${e instanceof Error ? e.message : String(e)}; members alive (dead) as each node sees them: ${names.map((n) => `${alive.get(n) ?? 0}(${dead.get(n) ?? 0})`).join(' ')}`)
    })
    const convergedMs = Date.now() - t0
    log(`every node sees ${options.nodes} members alive after ${convergedMs} ms`)

    first.child.send({ cmd: 'work', agents: options.agents })
    await until(() => work !== undefined || failure !== undefined, 'the agents to answer', 60_000, 20)
    if (failure) throw new Error(failure)
    const w = work!
    const counts = Object.values(w.perNode)
    log(`${w.answered}/${w.spawned} agents answered; spread over ${counts.length} nodes (min ${Math.min(...counts)}, max ${Math.max(...counts)} per node)`)

    const s0 = Date.now()
    await children.stopAll(5000)
    const stoppedMs = Date.now() - s0
    log(`all ${options.nodes} nodes left and exited in ${stoppedMs} ms`)
    return { nodes: options.nodes, pids, convergedMs, answered: w.answered, spawned: w.spawned, perNode: w.perNode, stoppedMs, totalMs: Date.now() - t0 }
  } finally {
    await children.killAll()
  }
}

function flag(name: string, fallback: number): number {
  const i = process.argv.indexOf(name)
  const v = i >= 0 ? Number(process.argv[i + 1]) : fallback
  if (!Number.isInteger(v) || v < 1) throw new Error(`${name} needs a positive integer`)
  return v
}

runIfMain(import.meta.url, async () => {
  const nodes = flag('--nodes', 20)
  const agents = flag('--agents', 100)
  console.log(`A ${nodes}-node Murmur cluster on 127.0.0.1\n`)
  const o = await run({ nodes, agents })
  const ok = o.answered === o.spawned
  console.log(ok ? `\n✓ ${nodes} nodes, ${agents} agents, all answered; ${(o.totalMs / 1000).toFixed(1)} s in all` : '\n✗ some agents did not answer')
  return ok ? 0 : 1
})
