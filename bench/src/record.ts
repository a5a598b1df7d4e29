/** One figure of `pnpm bench`. `ratio` = `value / baselineValue`, both measured in the same run. */
export interface BenchRecord {
  name: string
  value: number
  unit: string
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
  run(ctx: BenchContext): Promise<BenchRecord[]>
}

export interface BenchContext {
  readonly quick: boolean
  readonly records: readonly BenchRecord[]
}
