/**
 * `node bench/dist/run.js [--only <prefix>[,<prefix>…]] [--json <file>] [--quick] [--suite-timeout <s>]`
 *
 * Loads every `dist/suites/*.js` (each exports `suite: BenchSuite`), runs them one after the other in
 * a fixed order (raw, xstate, local, transport, remote, cluster, peers, then the rest by name), so
 * later suites see earlier records (`ctx.records`) as baselines. A failing or timed-out suite prints
 * its error and the run carries on; the exit code is then 1. Prints one table at the end and, with
 * `--json`, writes the records (an array of `BenchRecord`; NaN values become `null`).
 */
import { readdirSync, writeFileSync } from 'node:fs'
import { pathToFileURL, fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { parseArgs } from 'node:util'
import type { BenchRecord, BenchSuite, BenchContext } from './record.js'
import { fillBaselines } from './lib/baseline.js'
import { formatTable } from './lib/table.js'
import { killAllWorkers } from './lib/worker.js'
import { recordsOf } from './lib/partial.js'
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

async function loadSuite(file: string): Promise<BenchSuite> {
  const mod = (await import(pathToFileURL(file).href)) as { suite?: BenchSuite }
  if (mod.suite === undefined || typeof mod.suite.run !== 'function') throw new Error(`${file} exports no \`suite\``)
  return mod.suite
}

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  return Promise.race([
    p,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} timed out after ${ms / 1000} s`)), ms)
    }),
  ]).finally(() => clearTimeout(timer))
}

export interface RunOptions {
  readonly only: Selection
  readonly quick: boolean
  readonly suiteTimeoutMs: number
  readonly suitesDir: string
}

/** Runs the suites; returns the selected records (baselines filled) and the failures. */
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
    const label = file.replace(/\.js$/, '')
    let suite: BenchSuite
    try {
      suite = await loadSuite(join(opts.suitesDir, file))
    } catch (err) {
      failures.push(`${label}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
      log(`${label}: failed to load`)
      continue
    }
    if (!mayMatch(opts.only, suite.names)) continue
    const ctx: BenchContext = {
      quick: opts.quick,
      records: [...records],
      wants: (name) => selects(opts.only, name),
    }
    const t0 = Date.now()
    log(`${suite.name} …`)
    const keep = (out: readonly unknown[]): number => {
      const bad = out.filter((r) => !isRecord(r))
      if (bad.length > 0) failures.push(`${suite.name}: ${bad.length} malformed record(s): ${JSON.stringify(bad).slice(0, 300)}`)
      const kept = out.filter(isRecord).filter((r) => selects(opts.only, r.name))
      records.push(...kept)
      return kept.length
    }
    try {
      const n = keep(await withTimeout(suite.run(ctx), opts.suiteTimeoutMs, `suite ${suite.name}`))
      log(`${suite.name}: ${n} record(s) in ${((Date.now() - t0) / 1000).toFixed(1)} s`)
    } catch (err) {
      const n = keep(recordsOf(err))
      failures.push(`${suite.name}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`)
      log(`${suite.name}: FAILED after ${((Date.now() - t0) / 1000).toFixed(1)} s (${n} record(s) kept)`)
    }
    const leftovers = killAllWorkers()
    if (leftovers > 0) log(`${suite.name}: killed ${leftovers} leftover worker process(es)`)
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
