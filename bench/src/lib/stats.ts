/**
 * Statistics for benchmark rounds: medians with their spread, and percentiles of latency samples.
 *
 * @example
 * const s = await measureRounds({ rounds: 5, warmup: 1 }, async () => msgPerSecond())
 * records.push({ name: 'raw.batched', value: s.median, unit: 'msg/s', min: s.min, max: s.max })
 */

/** The median of a round series with its spread. `values` are in the order they were measured. */
export interface Summary {
  readonly median: number
  readonly min: number
  readonly max: number
  readonly values: readonly number[]
}

/** Median of `values` (mean of the two middle ones for an even count); NaN for none. */
export function median(values: readonly number[]): number {
  if (values.length === 0) return NaN
  const s = [...values].sort((a, b) => a - b)
  const mid = s.length >> 1
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2
}

/**
 * The `p`-th percentile (0..100) of `sorted`, which must be sorted ascending; nearest-rank method,
 * so the result is always one of the samples. NaN for no samples.
 *
 * @example percentile(Float64Array.from(samples).sort(), 99)
 */
export function percentile(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length
  if (n === 0) return NaN
  const rank = Math.ceil((Math.min(100, Math.max(0, p)) / 100) * n)
  return sorted[Math.min(n - 1, Math.max(0, rank - 1))]!
}

/** Median, min and max of `values`, NaN ones left out (a round that failed to measure). */
export function summarize(values: readonly number[]): Summary {
  const ok = values.filter((v) => !Number.isNaN(v))
  return {
    median: median(ok),
    min: ok.length === 0 ? NaN : Math.min(...ok),
    max: ok.length === 0 ? NaN : Math.max(...ok),
    values,
  }
}

export interface RoundsOptions {
  /** Measured rounds (the median is over these). */
  readonly rounds: number
  /** Rounds run first and thrown away (JIT warm-up, connection set-up). Default 0. */
  readonly warmup?: number
  /** Stop starting new rounds after this many ms (at least one measured round always runs). */
  readonly maxMs?: number
}

/**
 * Runs `round(i)` `warmup` + `rounds` times in sequence (never in parallel, so rounds do not compete
 * for the 2 cores) and summarizes the measured ones. `i` counts from 0 over all rounds, warm-up
 * included; `measured` says whether the round counts.
 */
export async function measureRounds(
  opts: RoundsOptions,
  round: (i: number, measured: boolean) => Promise<number>,
): Promise<Summary> {
  const warmup = opts.warmup ?? 0
  const end = opts.maxMs === undefined ? Infinity : Date.now() + opts.maxMs
  const values: number[] = []
  for (let i = 0; i < warmup + opts.rounds; i++) {
    const measured = i >= warmup
    if (measured && values.length > 0 && Date.now() > end) break
    const v = await round(i, measured)
    if (measured) values.push(v)
  }
  return summarize(values)
}

/** Sorts latency samples (any unit) and returns their p50 and p99 and the count. */
export function latencies(samples: ArrayLike<number>): { p50: number; p99: number; count: number } {
  const sorted = Float64Array.from(samples).sort()
  return { p50: percentile(sorted, 50), p99: percentile(sorted, 99), count: sorted.length }
}
