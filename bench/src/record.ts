/** One figure of `pnpm bench`. `ratio` = `value / baselineValue`, both measured in the same run. */
export interface BenchRecord {
  name: string
  /** NaN when the figure could not be measured here (then `note` says why); `null` in JSON. */
  value: number
  unit: string
  /**
   * Name of the record this one is compared with. A suite may set only `baseline`: the runner fills
   * `baselineValue` and `ratio` from the run's records after all suites ran.
   */
  baseline?: string
  baselineValue?: number
  ratio?: number
  /** Spread over rounds, where the figure is a median. */
  min?: number
  max?: number
  /** CPU use of the processes involved, percent of one core, where two processes take part. */
  cpu?: Record<string, number>
  note?: string
}

/**
 * A group of benchmarks, one file each under `src/suites/`. `run` returns its records; it may read
 * earlier records of the same run (`ctx.records`) to fill `baselineValue` / `ratio`.
 */
export interface BenchSuite {
  readonly name: string
  /**
   * Name prefixes of the records this suite produces (e.g. `['raw.']`, `['local.', 'xstate.send']`).
   * With `--only`, a suite none of whose prefixes can match is skipped without running. Omitted:
   * the suite always runs and only its records are filtered.
   */
  readonly names?: readonly string[]
  run(ctx: BenchContext): Promise<BenchRecord[]>
}

export interface BenchContext {
  readonly quick: boolean
  readonly records: readonly BenchRecord[]
  /**
   * Whether `--only` selects the record `name` (always true without `--only`). Suites skip the work
   * of unselected records; the runner drops unselected records anyway.
   */
  wants(name: string): boolean
}
