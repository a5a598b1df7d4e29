/**
 * One suite in its own process: `node dist/suite-process.js <suite.js>`, started by `run.ts`.
 * Isolation is what lets the runner bound a suite in time even when it blocks its event loop
 * (a simulation in one long synchronous loop), kill everything the suite started (the suite's
 * process group), and give each suite a fresh heap (memory figures are not skewed by earlier ones).
 * It receives the run's context over IPC, runs the suite and sends back its records or its error.
 */
import { pathToFileURL } from 'node:url'
import type { BenchContext, BenchRecord, BenchSuite } from './record.js'
import { mayMatch, selects, type Selection } from './lib/select.js'
import { recordsOf } from './lib/partial.js'

export type SuiteRequest = { t: 'run'; quick: boolean; only: Selection; records: readonly BenchRecord[] }
export type SuiteReply =
  /** Loaded, now running: the suite's time limit starts here (process start-up under load is slow). */
  | { t: 'started'; name: string }
  | { t: 'skip'; name: string }
  | { t: 'done'; name: string; records: readonly unknown[] }
  /** `loading`: the suite's module failed to load (so its record names are unknown). */
  | { t: 'failed'; name: string; error: string; records: readonly unknown[]; loading?: boolean }

async function loadSuite(file: string): Promise<BenchSuite> {
  const mod = (await import(pathToFileURL(file).href)) as { suite?: BenchSuite }
  if (mod.suite === undefined || typeof mod.suite.run !== 'function') throw new Error(`${file} exports no \`suite\``)
  return mod.suite
}

async function serve(file: string, req: SuiteRequest): Promise<SuiteReply> {
  let name = file.split('/').pop()?.replace(/\.js$/, '') ?? file
  let suite: BenchSuite
  try {
    suite = await loadSuite(file)
  } catch (err) {
    return { t: 'failed', name, error: err instanceof Error ? (err.stack ?? err.message) : String(err), records: [], loading: true }
  }
  try {
    name = suite.name
    if (!mayMatch(req.only, suite.names)) return { t: 'skip', name }
    process.send?.({ t: 'started', name } satisfies SuiteReply)
    const ctx: BenchContext = { quick: req.quick, records: req.records, wants: (n) => selects(req.only, n) }
    return { t: 'done', name, records: await suite.run(ctx) }
  } catch (err) {
    return { t: 'failed', name, error: err instanceof Error ? (err.stack ?? err.message) : String(err), records: recordsOf(err) }
  }
}

const file = process.argv[2]
if (file !== undefined && process.send !== undefined) {
  process.once('disconnect', () => process.exit(1))
  process.once('message', (req: SuiteRequest) => {
    void serve(file, req).then((reply) => {
      // Exit right after the reply: timers or sockets a suite left open must not keep it alive.
      process.send?.(reply, () => process.exit(0))
    })
  })
}
