/**
 * A suite that measured some figures and then failed throws `PartialResults`: the runner keeps its
 * `records`, prints the error, and the run exits non-zero.
 *
 * @example
 * if (errors.length > 0) throw new PartialResults(errors.join('\n'), records)
 */
import type { BenchRecord } from '../record.js'

export class PartialResults extends Error {
  override readonly name = 'PartialResults'
  constructor(
    message: string,
    readonly records: readonly BenchRecord[],
  ) {
    super(message)
  }
}

/** The records an error carries (`PartialResults` or any error with a `records` array). */
export function recordsOf(err: unknown): readonly unknown[] {
  const r = (err as { records?: unknown } | null)?.records
  return Array.isArray(r) ? r : []
}
