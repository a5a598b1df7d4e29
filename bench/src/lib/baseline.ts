/**
 * Baselines: a record names the record it is compared with (`baseline`), and its `ratio` is
 * `value / baselineValue`, both from the same run.
 *
 * @example
 * records.push(compareWith({ name: 'transport.best-effort', value, unit: 'msg/s' }, ctx.records, 'raw.batched'))
 */
import type { BenchRecord } from '../record.js'

/** `rec` with `baseline` set to `baselineName` and, when that record is in `records`, its value and the ratio. */
export function compareWith(rec: BenchRecord, records: readonly BenchRecord[], baselineName: string): BenchRecord {
  const base = records.find((r) => r.name === baselineName)
  const out: BenchRecord = { ...rec, baseline: baselineName }
  if (base !== undefined && Number.isFinite(base.value) && base.value !== 0) {
    out.baselineValue = base.value
    out.ratio = rec.value / base.value
  }
  return out
}

/**
 * Fills `baselineValue` and `ratio` of every record that names a `baseline` but lacks them, from
 * `records` themselves (so a baseline measured later in the run still counts). Returns new records.
 */
export function fillBaselines(records: readonly BenchRecord[]): BenchRecord[] {
  return records.map((r) => (r.baseline !== undefined && r.baselineValue === undefined ? compareWith(r, records, r.baseline) : r))
}
