/**
 * How long to measure. Every suite sizes its rounds from this so that `--quick` runs the whole
 * bench in under a minute and a full run stays a few minutes.
 *
 * @example
 * const p = plan(ctx)
 * const s = await measureRounds(p, () => sendFor(p.roundMs))
 */
import type { BenchRecord } from '../record.js'

export interface Plan {
  /** Measured rounds per figure (the median is over these). */
  readonly rounds: number
  /** Warm-up rounds per figure, thrown away. */
  readonly warmup: number
  /** Wall time of one throughput round, ms. */
  readonly roundMs: number
  /** Samples of one latency round (one message in flight). */
  readonly rttSamples: number
}

export const FULL: Plan = { rounds: 5, warmup: 1, roundMs: 1000, rttSamples: 20_000 }
export const QUICK: Plan = { rounds: 3, warmup: 1, roundMs: 200, rttSamples: 3_000 }

export function plan(ctx: { readonly quick: boolean }): Plan {
  return ctx.quick ? QUICK : FULL
}

/** A record for a figure that could not be measured on this machine (value NaN, shown as skipped). */
export function skipped(name: string, unit: string, note: string): BenchRecord {
  return { name, value: NaN, unit, note }
}
