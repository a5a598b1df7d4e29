/**
 * The local runtime of `@murmur/actor-core` in one process (issue 2):
 *
 * - `xstate.send`: an xstate v5 actor receiving events that increment a counter (msg/s), the baseline.
 * - `local.tell`: an agent receiving the same number of messages that increment a field (msg/s),
 *   sent in batches of 10,000 from outside any agent, each batch handled before the next;
 *   baseline `xstate.send`.
 * - `local.ask`: request/response round trips to one agent, 1,000 in flight (asks/s).
 * - `local.spawn`: agents spawned per second into a fresh system.
 * - `local.memory-per-agent`: heap bytes per idle agent, in a child process with `--expose-gc`
 *   (1,000,000 agents; 200,000 with `--quick`): heap after gc with the agents minus before.
 *
 * Rounds alternate between xstate and Murmur so a noisy moment spreads over both.
 */
import { fileURLToPath } from 'node:url'
import { ActorSystem, Agent, message, protocol, type Handlers } from '@murmur/actor-core'
import { assign, createActor, setup } from 'xstate'
import { z } from 'zod'
import { createCollector } from '../lib/collect.js'
import { cpuMark, cpuPercent } from '../lib/cpu.js'
import { plan, skipped } from '../lib/plan.js'
import { spawnTracked } from '../lib/worker.js'
import type { BenchContext, BenchRecord, BenchSuite } from '../record.js'

const BATCH = 10_000
const IN_FLIGHT = 1_000

const Counter = protocol('bench-counter', {
  inc: message(z.object({})),
  get: message(z.object({}), { reply: z.number() }),
})

class CounterAgent extends Agent<typeof Counter> implements Handlers<typeof Counter> {
  static protocol = Counter
  n = 0
  inc(): void {
    this.n++
  }
  get(): number {
    return this.n
  }
}

const counterMachine = setup({
  types: { context: {} as { n: number }, events: {} as { type: 'inc' } },
}).createMachine({
  context: { n: 0 },
  on: { inc: { actions: assign({ n: ({ context }) => context.n + 1 }) } },
})

const turn = (): Promise<void> => new Promise((resolve) => setImmediate(resolve))

/** Runs `batch` (which sends BATCH messages) until `ms` have passed; returns messages per second. */
async function rate(ms: number, batch: () => void): Promise<{ perSecond: number; sent: number }> {
  const start = performance.now()
  let sent = 0
  while (performance.now() - start < ms) {
    batch()
    sent += BATCH
    await turn() // the batch is handled by now: counted in the time
  }
  return { perSecond: (sent / (performance.now() - start)) * 1000, sent }
}

/** `rate`, then checks that the receiver handled every message it was sent. */
async function countedRate(ms: number, batch: () => void, handled: () => number | Promise<number>, who: string): Promise<number> {
  const r = await rate(ms, batch)
  const n = await handled()
  if (n !== r.sent) throw new Error(`${who} handled ${n} of ${r.sent}`)
  return r.perSecond
}

async function xstateSend(ms: number): Promise<number> {
  const actor = createActor(counterMachine).start()
  const event = { type: 'inc' } as const
  try {
    return await countedRate(ms, () => {
      for (let i = 0; i < BATCH; i++) actor.send(event)
    }, () => actor.getSnapshot().context.n, 'xstate')
  } finally {
    actor.stop()
  }
}

async function localTell(ms: number): Promise<number> {
  const system = new ActorSystem()
  const ref = system.spawn(CounterAgent)
  const payload = {}
  try {
    return await countedRate(ms, () => {
      for (let i = 0; i < BATCH; i++) ref.tell('inc', payload)
    }, () => ref.ask('get', {}), 'murmur')
  } finally {
    await system.stop()
  }
}

async function localAsk(ms: number): Promise<number> {
  const system = new ActorSystem()
  const ref = system.spawn(CounterAgent)
  const payload = {}
  const start = performance.now()
  let done = 0
  const window: Promise<number>[] = new Array<Promise<number>>(IN_FLIGHT)
  while (performance.now() - start < ms) {
    for (let i = 0; i < IN_FLIGHT; i++) window[i] = ref.ask('get', payload)
    await Promise.all(window)
    done += IN_FLIGHT
  }
  const perSecond = (done / (performance.now() - start)) * 1000
  await system.stop()
  return perSecond
}

async function localSpawn(count: number): Promise<number> {
  const system = new ActorSystem()
  const start = performance.now()
  for (let i = 0; i < count; i++) system.spawn(CounterAgent)
  const perSecond = (count / (performance.now() - start)) * 1000
  await system.stop()
  return perSecond
}

/** In the child (`--expose-gc`): heap bytes per idle agent. */
async function memoryPerAgent(count: number): Promise<number> {
  const gc = (globalThis as { gc?: () => void }).gc
  if (gc === undefined) throw new Error('run with --expose-gc')
  const system = new ActorSystem()
  system.spawn(CounterAgent) // classes, maps and code paths warmed before the baseline
  await turn()
  gc()
  gc()
  const before = process.memoryUsage().heapUsed
  const refs = []
  for (let i = 0; i < count; i++) refs.push(system.spawn(CounterAgent))
  refs.length = 0 // the refs are the caller's, not the agents' cost
  await turn()
  gc()
  gc()
  const after = process.memoryUsage().heapUsed
  if (system.localAgents().length !== count + 1) throw new Error('agents missing')
  return (after - before) / count
}

function memoryInChild(count: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child = spawnTracked(process.execPath, ['--expose-gc', '--max-old-space-size=4096', fileURLToPath(import.meta.url), MEMORY_FLAG, String(count)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    })
    let out = ''
    child.stdout!.on('data', (d: Buffer) => (out += d.toString()))
    child.once('error', reject)
    child.once('exit', (code) => {
      const bytes = Number(out.trim())
      if (code === 0 && Number.isFinite(bytes)) resolve(bytes)
      else reject(new Error(`memory child exited ${code}: ${out}`))
    })
  })
}

const MEMORY_FLAG = '--murmur-local-memory'

export const suite: BenchSuite = {
  name: 'local',
  names: ['local.', 'xstate.send'],
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const p = plan(ctx)
    const out = createCollector()
    const wants = (n: string): boolean => ctx.wants(n)
    // the CPU share of this process shows when the machine was busy with something else
    const measure = async (name: string, unit: string, keep: boolean, fn: () => Promise<number>): Promise<void> => {
      const mark = cpuMark()
      const value = await fn()
      if (keep) out.add(name, unit, value, { bench: cpuPercent(mark) })
    }
    for (let round = 0; round < p.warmup + p.rounds; round++) {
      const keep = round >= p.warmup
      if (wants('xstate.send') || wants('local.tell')) {
        await measure('xstate.send', 'msg/s', keep, () => xstateSend(p.roundMs))
        await measure('local.tell', 'msg/s', keep, () => localTell(p.roundMs))
      }
      if (wants('local.ask')) await measure('local.ask', 'asks/s', keep, () => localAsk(p.roundMs))
      if (wants('local.spawn')) await measure('local.spawn', 'agents/s', keep, () => localSpawn(ctx.quick ? 50_000 : 200_000))
    }
    const records = out.records()
    const tell = records.find((r) => r.name === 'local.tell')
    const xstate = records.find((r) => r.name === 'xstate.send')
    if (tell !== undefined && xstate !== undefined) {
      tell.baseline = 'xstate.send'
      tell.baselineValue = xstate.value
      tell.ratio = tell.value / xstate.value
    }
    if (wants('local.memory-per-agent')) {
      const count = ctx.quick ? 200_000 : 1_000_000
      try {
        const bytes = await memoryInChild(count)
        records.push({ name: 'local.memory-per-agent', value: Math.round(bytes), unit: 'B', note: `${count.toLocaleString('en')} idle agents` })
      } catch (error) {
        records.push(skipped('local.memory-per-agent', 'B', String(error)))
      }
    }
    return records
  },
}

if (process.argv[2] === MEMORY_FLAG) {
  memoryPerAgent(Number(process.argv[3])).then(
    (bytes) => process.stdout.write(`${bytes}\n`),
    (error: unknown) => {
      process.stderr.write(`${String(error)}\n`)
      process.exitCode = 1
    },
  )
}
