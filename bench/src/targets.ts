/**
 * The targets of the issues (7, 2, 3, 4), checked against one run's records. A target is an
 * absolute bound (`≥ 2,000,000 msg/s`) or a bound relative to another figure of the same run
 * (`≥ 0.35 × raw.batched`, `≤ 1.6 × raw.rtt-p50`).
 */
import type { BenchRecord } from './record.js'
import { formatNumber } from './lib/table.js'

export interface Target {
  readonly figure: string
  /** `min`: the figure must be at least the bound; `max`: at most. */
  readonly kind: 'min' | 'max'
  readonly bound: number
  /** Absolute targets: the unit of `bound` (the figure's record must use the same). */
  readonly unit?: string
  /** Relative targets: the bound is `bound × <of>` (a figure of the same run). */
  readonly of?: string
}

/** `figure ≥ bound unit` (`min`) or `≤` (`max`); with `of` instead of a unit: `bound × of`. */
function target(kind: 'min' | 'max', figure: string, bound: number, unitOrOf: { unit: string } | { of: string }): Target {
  return { figure, kind, bound, ...unitOrOf }
}
const min = (figure: string, bound: number, unitOrOf: { unit: string } | { of: string }): Target => target('min', figure, bound, unitOrOf)
const max = (figure: string, bound: number, unitOrOf: { unit: string } | { of: string }): Target => target('max', figure, bound, unitOrOf)

export const TARGETS: readonly Target[] = [
  min('remote.tell.best-effort', 2_000_000, { unit: 'msg/s' }),
  min('remote.tell.best-effort', 0.35, { of: 'raw.batched' }),
  min('remote.tell.best-effort', 20, { of: 'peer.moleculer.emit' }),
  min('remote.tell.best-effort', 3, { of: 'peer.erlang.send' }),
  min('remote.tell.reliable', 1_000_000, { unit: 'msg/s' }),
  min('remote.tell.reliable', 1.5, { of: 'peer.erlang.send' }),
  max('remote.ask.p50', 1.6, { of: 'raw.rtt-p50' }),
  max('remote.ask.p50', 1.6, { of: 'remote.rtt-p50' }),
  max('remote.ask.p99', 200, { unit: 'µs' }),
  min('remote.ask.throughput', 300_000, { unit: 'asks/s' }),
  min('remote.ask.throughput', 8, { of: 'peer.moleculer.call' }),
  min('remote.ask.throughput', 2, { of: 'peer.erlang.inflight' }),
  min('local.tell', 10_000_000, { unit: 'msg/s' }),
  min('local.tell', 5, { of: 'xstate.send' }),
  min('local.ask', 1_000_000, { unit: 'asks/s' }),
  max('local.memory-per-agent', 1024, { unit: 'B' }),
  max('cluster.failure-detection', 2000, { unit: 'ms' }),
  max('cluster.rebalance', 2000, { unit: 'ms' }),
  min('large.stream', 0.6, { of: 'raw.ws-bytes' }),
  min('transport.best-effort', 2_000_000, { unit: 'msg/s' }),
  min('transport.best-effort', 0.35, { of: 'raw.batched' }),
  min('transport.reliable', 1_000_000, { unit: 'msg/s' }),
  min('transport.reliable', 0.35, { of: 'raw.batched' }),
  max('transport.rtt-p50', 1.3, { of: 'raw.rtt-p50' }),
]

export type Verdict = 'met' | 'not met' | 'missing' | 'unit differs'

export interface Checked {
  readonly target: Target
  /** `≥ 0.35 × raw.batched` */
  readonly text: string
  /** The figure (absolute targets) or its ratio to the other figure (relative ones). */
  readonly measured: number | undefined
  readonly verdict: Verdict
}

/** Whether a record's unit matches a target's: equal, both bytes, or both counts per second. */
export function sameUnit(a: string, b: string): boolean {
  const bytes = (u: string): boolean => u === 'B' || u === 'bytes'
  const rate = (u: string): boolean => u.endsWith('/s') && !u.startsWith('B/')
  return a === b || (bytes(a) && bytes(b)) || (rate(a) && rate(b))
}

function valueOf(records: readonly BenchRecord[], name: string): number | undefined {
  const v = records.find((r) => r.name === name)?.value
  return v === undefined || v === null || Number.isNaN(v) ? undefined : v
}

/** Checks one target against the records of a run (pure). */
export function checkTarget(t: Target, records: readonly BenchRecord[]): Checked {
  const sign = t.kind === 'min' ? '≥' : '≤'
  const text = t.of === undefined ? `${sign} ${formatNumber(t.bound)} ${t.unit ?? ''}`.trimEnd() : `${sign} ${t.bound} × ${t.of}`
  const v = valueOf(records, t.figure)
  const base = t.of === undefined ? 1 : valueOf(records, t.of)
  if (v === undefined || base === undefined || base === 0) return { target: t, text, measured: undefined, verdict: 'missing' }
  const measured = t.of === undefined ? v : v / base
  const unit = records.find((r) => r.name === t.figure)?.unit ?? ''
  if (t.unit !== undefined && !sameUnit(unit, t.unit)) return { target: t, text, measured, verdict: 'unit differs' }
  const ok = t.kind === 'min' ? measured >= t.bound : measured <= t.bound
  return { target: t, text, measured, verdict: ok ? 'met' : 'not met' }
}

export function checkTargets(records: readonly BenchRecord[], targets: readonly Target[] = TARGETS): Checked[] {
  return targets.map((t) => checkTarget(t, records))
}
