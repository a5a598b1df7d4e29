/**
 * Formatting of bench records: a plain-text table for the terminal and a Markdown one for docs.
 *
 * @example
 * console.log(formatTable(records))
 * writeFileSync('x.md', formatTable(records, { markdown: true }))
 */
import type { BenchRecord } from '../record.js'

/**
 * A figure for people: thousands separators, fewer decimals as it grows, two significant digits
 * below 0.1, `—` for NaN/missing.
 */
export function formatNumber(v: number | null | undefined): string {
  if (v === undefined || v === null || Number.isNaN(v)) return '—'
  const a = Math.abs(v)
  if (a !== 0 && a < 0.1) return v.toPrecision(2)
  const digits = a >= 100 ? 0 : a >= 10 ? 1 : 2
  return v.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits })
}

/** `cpu` of a record as `server 98%, client 100%`. */
export function formatCpu(cpu: Readonly<Record<string, number>> | undefined): string {
  if (cpu === undefined) return ''
  return Object.entries(cpu)
    .map(([k, v]) => `${k} ${Number.isFinite(v) ? Math.round(v) : '?'}%`)
    .join(', ')
}

export const TABLE_COLUMNS = ['name', 'value', 'unit', 'baseline', 'ratio', 'min–max', 'cpu', 'note'] as const

function isNum(v: number | null | undefined): v is number {
  return typeof v === 'number' && !Number.isNaN(v)
}

/** The cells of one record, in `TABLE_COLUMNS` order. */
export function recordCells(r: BenchRecord): string[] {
  const missing = r.value === null || Number.isNaN(r.value)
  return [
    r.name,
    missing ? 'skipped' : formatNumber(r.value),
    r.unit,
    r.baseline ?? '',
    r.ratio === undefined || r.ratio === null ? '' : `${formatNumber(r.ratio)}×`,
    isNum(r.min) && isNum(r.max) ? `${formatNumber(r.min)}–${formatNumber(r.max)}` : '',
    formatCpu(r.cpu),
    r.note ?? '',
  ]
}

/** Records as an aligned text table (value and ratio right-aligned), or as Markdown. */
export function formatTable(records: readonly BenchRecord[], opts: { markdown?: boolean } = {}): string {
  const rows = records.map(recordCells)
  const header = [...TABLE_COLUMNS]
  const escape = (s: string): string => s.replaceAll('|', '\\|')
  if (opts.markdown === true) {
    const right = new Set([1, 4, 5])
    return [
      `| ${header.join(' | ')} |`,
      `| ${header.map((_, i) => (right.has(i) ? '---:' : '---')).join(' | ')} |`,
      ...rows.map((r) => `| ${r.map(escape).join(' | ')} |`),
    ].join('\n')
  }
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  const line = (cells: readonly string[]): string =>
    cells
      .map((c, i) => (i === 1 || i === 4 ? c.padStart(widths[i]!) : c.padEnd(widths[i]!)))
      .join('  ')
      .trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...rows.map(line)].join('\n')
}
