/**
 * Shared helpers for bench suites. See each module's TSDoc:
 * - `stats.ts`: `median`, `percentile`, `summarize`, `measureRounds`, `latencies`
 * - `plan.ts`: `plan(ctx)` (rounds, round length, samples for quick/full), `skipped(...)`
 * - `worker.ts` (parent side): `startWorker`, `runWorker`, `withWorkers`, `spawnTracked`,
 *   `killAllWorkers`, `freePort`
 * - `serve.ts` (child side, import it from worker scripts only): `serveWorker`
 * - `cpu.ts`: `cpuMark` / `cpuPercent` (this process), `procCpuMark` / `procCpuPercent` (any pid)
 * - `baseline.ts`: `compareWith`, `fillBaselines`
 * - `table.ts`: `formatTable`, `formatNumber`, `formatCpu`
 * - `select.ts`: `--only` prefix matching
 * - `collect.ts`: `createCollector` (rounds of several figures → records with median, min–max, cpu)
 * - `raw-pair.ts`: `startRawPair` (the raw uWS/ws pair, to interleave raw rounds with yours)
 * - `worker-pair.ts`: `startWorkerPair`, `withPairCpu` (a receiver + sender pair of one suite module)
 * - `partial.ts`: `PartialResults` (throw it to fail a suite but keep what it measured)
 * - `member.ts`: `untilMember` (a two-process suite's sender waits for its receiver to join)
 */
export * from './stats.js'
export * from './plan.js'
export * from './worker.js'
export * from './cpu.js'
export * from './baseline.js'
export * from './table.js'
export * from './select.js'
export * from './collect.js'
export * from './raw-pair.js'
export * from './worker-pair.js'
export * from './partial.js'
export * from './member.js'
export type { BenchRecord, BenchSuite, BenchContext } from '../record.js'
