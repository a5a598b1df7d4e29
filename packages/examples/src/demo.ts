/**
 * `pnpm demo`: three Murmur nodes (child processes on 127.0.0.1, a fresh random secret) index a
 * text corpus together. A coordinator agent leases tasks to six workers, two per node; half-way
 * the demo kills one node with SIGKILL; its leases go back to the queue and the job completes.
 * The result is checked against a one-process computation. Exit status 0 when it matches.
 *
 * Flags: --tasks-lines N (lines per task, default 12), --work-ms N (simulated work per task,
 * default 140), --no-kill (skip the crash).
 */
import { randomBytes } from 'node:crypto'
import { Children, type Child } from './internal/children.js'
import { createScreen, bar } from './demo/screen.js'
import type { JobEvent } from './demo/agents.js'
import { canonical, indexInOneProcess, loadCorpus, topWords } from './demo/wordcount.js'

interface Stats {
  node: string
  members: Array<{ id: string; status: string }>
  agents: number
  delivered: number
  sent: number
}

const args = process.argv.slice(2)
const flag = (name: string, fallback: number) => {
  const i = args.indexOf(name)
  const v = i >= 0 ? Number(args[i + 1]) : fallback
  if (!Number.isFinite(v) || v < 0) throw new Error(`${name} needs a non-negative number`)
  return v
}
const linesPerTask = flag('--task-lines', 12)
const workMs = flag('--work-ms', 140)
const kill = !args.includes('--no-kill')
const DEADLINE_MS = 90_000

const t0 = Date.now()
const screen = createScreen()
const children = new Children()
const secret = randomBytes(24).toString('hex')
const names = ['node-1', 'node-2', 'node-3']
const stats = new Map<string, Stats & { at: number; rate: number }>()
const nodes = new Map<string, Child>()
let progress: Extract<JobEvent, { kind: 'progress' }> | undefined
let finished: Extract<JobEvent, { kind: 'finished' }> | undefined
let killed: { node: string; at: number; done: number } | undefined
let failure: string | undefined

function onMessage(m: any): void {
  if (m?.kind === 'stats') {
    const prev = stats.get(m.node)
    const now = Date.now()
    const rate = prev ? ((m.delivered - prev.delivered) * 1000) / Math.max(1, now - prev.at) : 0
    stats.set(m.node, { ...m, at: now, rate: prev ? prev.rate * 0.5 + rate * 0.5 : rate })
  } else if (m?.kind === 'job') {
    const e = m.event as JobEvent
    if (e.kind === 'progress') progress = e
    else if (e.kind === 'finished') {
      finished = e
      if (progress) progress = { ...progress, done: e.total, inFlight: 0 }
    }
    else screen.log(`  ↺ ${e.tasks} task(s) of ${e.node} back in the queue (${e.reason})`)
  } else if (m?.kind === 'error') failure = m.message
}

function startNode(name: string, seeds: string): Promise<string> {
  // Resolves with `pid N, listening on host:port`.
  return new Promise((resolve, reject) => {
    const child = children.start(name, new URL('./demo/node-main.js', import.meta.url), [name, seeds], {
      env: { MURMUR_SECRET: secret },
      onMessage: (m: any) => {
        if (m?.kind === 'ready') resolve(`pid ${child.process.pid}, listening on ${m.address}`)
        onMessage(m)
      },
    })
    nodes.set(name, child)
    void child.exited.then((code) => reject(new Error(`${name} exited early (${code})`)))
  })
}

function liveNodes(): string[] {
  return names.filter((n) => !(killed && killed.node === n))
}

function plainSummary(): string {
  const members = stats.get('node-1')?.members ?? []
  const alive = members.filter((m) => m.status === 'alive').length
  const agents = names.map((n) => (killed?.node === n ? 'x' : String(stats.get(n)?.agents ?? 0))).join('/')
  const rate = liveNodes().reduce((a, n) => a + (stats.get(n)?.rate ?? 0), 0)
  return `  ${progress?.done ?? 0}/${progress?.total ?? '?'} tasks · ${alive} members alive · agents per node ${agents} · ${Math.round(rate)} msg/s · ${((Date.now() - t0) / 1000).toFixed(1)} s`
}

function summary(): string[] {
  const lines: string[] = []
  const done = progress?.done ?? 0
  const total = progress?.total ?? 1
  lines.push(`  ${bar(done / total)}  ${done}/${progress?.total ?? '?'} tasks, ${progress?.inFlight ?? 0} in flight`)
  const members = stats.get('node-1')?.members ?? []
  lines.push(`  members (as node-1 sees them): ${members.map((m) => `${m.id} ${m.status}`).join(', ') || 'joining…'}`)
  const per = names.map((n) => {
    const s = stats.get(n)
    const gone = killed?.node === n
    return `${n}: ${gone ? 'killed' : `${s?.agents ?? 0} agents, ${Math.round(s?.rate ?? 0)} msg/s`}, ${progress?.byNode[n] ?? 0} tasks done`
  })
  lines.push(...per.map((p) => `    ${p}`))
  const rate = liveNodes().reduce((a, n) => a + (stats.get(n)?.rate ?? 0), 0)
  lines.push(`  ${Math.round(rate)} msg/s delivered in total · ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return lines
}

async function waitFor(cond: () => boolean, what: string, ms: number): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (failure) throw new Error(failure)
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    screen.live(summary(), plainSummary())
    await new Promise((r) => setTimeout(r, 100))
  }
}

async function main(): Promise<number> {
  const timer = setTimeout(() => {
    failure = `the demo did not finish within ${DEADLINE_MS / 1000} s`
  }, DEADLINE_MS)
  timer.unref()
  console.log(`Murmur demo: 3 nodes on 127.0.0.1 index ${loadCorpus().length} chapters; one node is killed half-way.\n`)
  const first = await startNode('node-1', '-')
  screen.log(`  node-1: ${first}`)
  const seed = first.split(' ').pop()!
  const others = await Promise.all(names.slice(1).map((n) => startNode(n, seed)))
  others.forEach((a, i) => screen.log(`  ${names[i + 1]}: ${a}, joined through ${seed}`))
  await waitFor(() => names.every((n) => (stats.get(n)?.members ?? []).filter((m) => m.status === 'alive').length === 3), 'all three nodes to see each other', 20_000)
  screen.log(`  cluster formed: 3 members, in ${Date.now() - t0} ms`)

  const workers = names.flatMap((n) => [1, 2].map((i) => ({ id: `${n}/worker-${i}`, node: n })))
  nodes.get('node-1')!.send({ cmd: 'job', workers, linesPerTask, workMs })
  screen.log(`  job started: the coordinator (on node-1) leases tasks to 6 workers, 2 per node`)

  await waitFor(() => finished !== undefined || (kill && (progress?.done ?? 0) >= (progress?.total ?? Infinity) / 2), 'half of the job', 60_000)
  if (kill && !finished) {
    killed = { node: 'node-3', at: Date.now(), done: progress!.done }
    nodes.get('node-3')!.process.kill('SIGKILL')
    screen.log(`  ✗ killed node-3 with SIGKILL at ${progress!.done}/${progress!.total} tasks`)
  }
  await waitFor(() => finished !== undefined, 'the job to finish', 60_000)
  screen.live(summary(), plainSummary(), true)
  screen.end()

  const f = finished!
  const reference = canonical(indexInOneProcess(loadCorpus()))
  const same = JSON.stringify(reference) === JSON.stringify(f.index)
  const words = f.index.reduce((a, [, n]) => a + n, 0)
  const top = topWords(new Map(f.index.map(([w, count, docs]) => [w, { count, docs }])), 5)
  console.log('')
  console.log(`  result: ${f.index.length} distinct words, ${words} words in all; top: ${top.map(([w, n]) => `${w} ${n}`).join(', ')}`)
  console.log(`  tasks per node: ${Object.entries(f.byNode).map(([n, c]) => `${n} ${c}`).join(', ')}; ${f.reassigned} re-assigned, ${f.duplicates} duplicate result(s) ignored`)
  console.log(same ? `  ✓ matches the single-process computation (${reference.length} words, counts and documents)` : '  ✗ DOES NOT match the single-process computation')
  console.log(`  done in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
  return same ? 0 : 1
}

let code = 1
try {
  code = await main()
} catch (e) {
  screen.end()
  console.error(`\ndemo failed: ${e instanceof Error ? e.message : String(e)}`)
} finally {
  await children.stopAll(2000)
}
process.exit(code)
