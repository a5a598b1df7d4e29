import type { SeedResult } from './run-seed.js'
import { TOLERATED } from './checker.js'

/** Counts of a batch of seeds, for the CLI and the docs. */
export interface SimSummary {
  seeds: number
  /** Seeds that broke a rule (a tolerated one counts only when the run is strict). */
  failed: number
  /** Seeds with a violation of a rule the documented guarantees allow (`TOLERATED`), failed or not. */
  tolerated: number
  /** Seeds failing each rule, keyed `rule` or `rule/kind`. */
  byRule: Record<string, number>
  /** Failing seeds once the `ignored` kinds are left out (known bugs). */
  failedExceptIgnored: number
  firstFailures: Array<{ seed: number; rule: string; message: string }>
  /** Up to 20 failing seeds per rule (known-bug kinds included), to replay with `--seed`. */
  seedsByRule: Record<string, number[]>
  ms: number
  messages: number
  atomicDelivered: number
}

export function emptySummary(): SimSummary {
  return { seeds: 0, failed: 0, tolerated: 0, byRule: {}, failedExceptIgnored: 0, firstFailures: [], seedsByRule: {}, ms: 0, messages: 0, atomicDelivered: 0 }
}

export function addResult(sum: SimSummary, r: SeedResult, ignoredKinds: readonly string[], strict = false): void {
  sum.seeds++
  sum.messages += r.stats.sent ?? 0
  sum.atomicDelivered += r.stats.atomicDelivered ?? 0
  if (r.violations.length === 0) return
  if (r.violations.some((v) => TOLERATED.has(v.rule))) sum.tolerated++
  const failing = strict ? r.violations : r.violations.filter((v) => !TOLERATED.has(v.rule))
  const rules = new Set(r.violations.map((v) => (v.kind === undefined ? v.rule : `${v.rule}/${v.kind}`)))
  for (const rule of rules) {
    sum.byRule[rule] = (sum.byRule[rule] ?? 0) + 1
    const seeds = (sum.seedsByRule[rule] ??= [])
    if (seeds.length < 20) seeds.push(r.seed)
  }
  if (failing.length === 0) return
  sum.failed++
  if (failing.some((v) => v.kind === undefined || !ignoredKinds.includes(v.kind))) sum.failedExceptIgnored++
  const v = failing[0]
  if (v && sum.firstFailures.length < 10) sum.firstFailures.push({ seed: r.seed, rule: v.rule, message: v.message })
}

export function mergeSummary(into: SimSummary, other: SimSummary): void {
  into.seeds += other.seeds
  into.failed += other.failed
  into.tolerated += other.tolerated
  into.failedExceptIgnored += other.failedExceptIgnored
  into.messages += other.messages
  into.atomicDelivered += other.atomicDelivered
  for (const [k, n] of Object.entries(other.byRule)) into.byRule[k] = (into.byRule[k] ?? 0) + n
  for (const [k, seeds] of Object.entries(other.seedsByRule)) into.seedsByRule[k] = [...(into.seedsByRule[k] ?? []), ...seeds].slice(0, 20)
  into.firstFailures.push(...other.firstFailures.slice(0, Math.max(0, 10 - into.firstFailures.length)))
}
