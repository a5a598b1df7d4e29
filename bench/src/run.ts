/**
 * `node bench/dist/run.js [--only <prefix>[,<prefix>…]] [--json <file>] [--quick] [--suite-timeout <s>]`
 *
 * Runs every `dist/suites/*.js` (each exports `suite: BenchSuite`) one after the other, each in its own
 * process group (`suite-process.ts`), in a fixed order (raw, xstate, local, transport, remote, cluster,
 * peers, then the rest by name), so later suites see earlier records (`ctx.records`) as baselines. A
 * failing or timed-out suite prints its error, its processes are killed and the run carries on; the
 * exit code is then 1. Prints one table at the end and, with
 * `--json`, writes the records (an array of `BenchRecord`; NaN values become `null`).
 */
import { fork } from 'node:child_process'
import { readdirSync, writeFileSync } from 'node:fs'
import { pathToFileURL, fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { BenchRecord } from './record.js'
import type { SuiteReply, SuiteRequest } from './suite-process.js'
import { fillBaselines } from './lib/baseline.js'
import { formatTable } from './lib/table.js'
import { builtScript } from './lib/worker.js'
import { mayMatch, parseOnly, selects, type Selection } from './lib/select.js'

/** Suites run first in this order (by file name); the others follow alphabetically. */
export const SUITE_ORDER = ['raw', 'xstate', 'local', 'transport', 'remote', 'cluster', 'peers'] as const

export function orderSuiteFiles(files: readonly string[]): string[] {
  const rank = (f: string): number => {
    const i = (SUITE_ORDER as readonly string[]).indexOf(f.replace(/\.js$/, ''))
    return i === -1 ? SUITE_ORDER.length : i
  }
  return [...files].sort((a, b) => rank(a) - rank(b) || a.localeCompare(b))
}

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`)
}

function isRecord(r: unknown): r is BenchRecord {
  const o = r as BenchRecord
  return typeof o === 'object' && o !== null && typeof o.name === 'string' && typeof o.value === 'number' && typeof o.unit === 'string'
}

export interface RunOptions {
  readonly only: Selection
  readonly quick: boolean
  readonly suiteTimeoutMs: number
  readonly suitesDir: string
}

/** Kills a suite's process group: the suite process and every process it started. */
function killGroup(pid: number | undefined): void {
  if (pid === undefined) return
  try {
    process.kill(-pid, 'SIGKILL')
  } catch {
    // already gone
  }
}

const running = new Set<number>()
let signalsHooked = false

/** On Ctrl-C, kill the running suite's process group too (it is detached, so it would not get the signal). */
function hookSignals(): void {
  if (signalsHooked) return
  signalsHooked = true
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      for (const pid of running) killGroup(pid)
      process.exit(130)
    })
  }
}

type SuiteOutcome = Exclude<SuiteReply, { t: 'started' }>

/** How long a suite process may take to start and load its module (a loaded machine is slow). */
const LOAD_TIMEOUT_MS = 60_000

/** Runs one suite file in its own process group; its `run` is bounded by `timeoutMs`. */
function runSuiteProcess(file: string, req: SuiteRequest, timeoutMs: number): Promise<SuiteOutcome> {
  const entry = builtScript(fileURLToPath(new URL('./suite-process.js', import.meta.url)))
  const label = file.split('/').pop()?.replace(/\.js$/, '') ?? file
  hookSignals()
  return new Promise((resolve) => {
    // No inherited execArgv (a test runner's loaders); NODE_OPTIONS (e.g. a --require'd profiler) still reaches the suite.
    const child = fork(entry, [file], { detached: true, execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' })
    const pid = child.pid
    if (pid !== undefined) running.add(pid)
    let reply: SuiteOutcome | undefined
    const expire = (what: string): void => {
      reply ??= { t: 'failed', name: label, error: `suite ${label} ${what} (its processes were killed)`, records: [] }
      killGroup(pid)
    }
    let timer = setTimeout(() => expire(`did not load within ${LOAD_TIMEOUT_MS / 1000} s`), LOAD_TIMEOUT_MS)
    child.on('message', (m: SuiteReply) => {
      if (m.t !== 'started') {
        reply ??= m
        return
      }
      log(`${m.name} …`)
      clearTimeout(timer)
      timer = setTimeout(() => expire(`timed out after ${timeoutMs / 1000} s`), timeoutMs)
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      // Whatever the suite started and left running; profiled workers get time to write their profiles.
      if (process.env.MURMUR_BENCH_CPU_PROF) setTimeout(() => killGroup(pid), 5000)
      else killGroup(pid)
      if (pid !== undefined) running.delete(pid)
      resolve(reply ?? { t: 'failed', name: label, error: `suite process exited with ${code ?? signal} before reporting`, records: [] })
    })
    child.send({ ...req, only: req.only === undefined ? undefined : [...req.only] } satisfies SuiteRequest)
  })
}

/** Runs the suites one by one; returns the selected records (baselines filled) and the failures. */
export async function runBench(opts: RunOptions): Promise<{ records: BenchRecord[]; failures: string[] }> {
  const records: BenchRecord[] = []
  const failures: string[] = []
  let files: string[]
  try {
    files = orderSuiteFiles(readdirSync(opts.suitesDir).filter((f) => f.endsWith('.js')))
  } catch (err) {
    failures.push(`cannot list suites in ${opts.suitesDir}: ${String(err)}`)
    return { records, failures }
  }
  for (const file of files) {
    const t0 = Date.now()
    const reply = await runSuiteProcess(join(opts.suitesDir, file), { t: 'run', quick: opts.quick, only: opts.only, records: [...records] }, opts.suiteTimeoutMs)
    if (reply.t === 'skip') continue
    if (reply.t === 'failed' && reply.loading === true && !mayMatch(opts.only, [reply.name])) {
      // Under --only, a suite that cannot even load is only a failure if its file name is selected.
      log(`${reply.name}: not loaded (${reply.error.split('\n')[0]}); not selected by name, so not a failure`)
      continue
    }
    const seconds = ((Date.now() - t0) / 1000).toFixed(1)
    const bad = reply.records.filter((r) => !isRecord(r))
    if (bad.length > 0) failures.push(`${reply.name}: ${bad.length} malformed record(s): ${JSON.stringify(bad).slice(0, 300)}`)
    const kept = reply.records.filter(isRecord).filter((r) => selects(opts.only, r.name))
    records.push(...kept)
    if (reply.t === 'failed') {
      failures.push(`${reply.name}: ${reply.error}`)
      log(`${reply.name}: FAILED after ${seconds} s (${kept.length} record(s) kept)`)
    } else {
      log(`${reply.name}: ${kept.length} record(s) in ${seconds} s`)
    }
  }
  return { records: fillBaselines(records), failures }
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      only: { type: 'string' },
      json: { type: 'string' },
      quick: { type: 'boolean', default: false },
      'suite-timeout': { type: 'string' },
    },
    strict: true,
  })
  const quick = values.quick === true
  const timeoutS = values['suite-timeout'] === undefined ? (quick ? 45 : 600) : Number(values['suite-timeout'])
  if (!Number.isFinite(timeoutS) || timeoutS <= 0) throw new Error(`--suite-timeout: not a positive number of seconds`)
  const started = Date.now()
  const { records, failures } = await runBench({
    only: parseOnly(values.only),
    quick,
    suiteTimeoutMs: timeoutS * 1000,
    suitesDir: fileURLToPath(new URL('./suites/', import.meta.url)),
  })
  process.stdout.write(`${formatTable(records)}\n`)
  log(`${records.length} record(s) in ${((Date.now() - started) / 1000).toFixed(1)} s${quick ? ' (--quick)' : ''}`)
  if (values.json !== undefined) {
    writeFileSync(values.json, `${JSON.stringify(records, null, 2)}\n`)
    log(`wrote ${values.json}`)
  }
  for (const f of failures) process.stderr.write(`\n[bench] FAILED ${f}\n`)
  process.exitCode = failures.length > 0 ? 1 : 0
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  main()
    .catch((err: unknown) => {
      process.stderr.write(`[bench] ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`)
      process.exitCode = 2
    })
    // A timed-out suite may still hold timers or sockets: end the process deliberately.
    .finally(() => process.exit())
}
