/**
 * Collects the measured rounds of several figures and turns them into records: the median value
 * with min and max, and the median CPU use of each process.
 *
 * @example
 * const c = createCollector()
 * for (const round of rounds) c.add('raw.batched', 'msg/s', rate, { 'uWS server': 90, 'ws client': 100 })
 * return c.records()
 */
import type { BenchRecord } from '../record.js'
import { summarize } from './stats.js'

export interface Collector {
  /** One measured round of figure `name`; `cpu` is percent of one core per process. */
  add(name: string, unit: string, value: number, cpu?: Readonly<Record<string, number>>): void
  /** One record per figure, in the order figures were first added. */
  records(): BenchRecord[]
}

export function createCollector(): Collector {
  const figures = new Map<string, { unit: string; values: number[]; cpu: Map<string, number[]> }>()
  return {
    add(name, unit, value, cpu) {
      let f = figures.get(name)
      if (f === undefined) figures.set(name, (f = { unit, values: [], cpu: new Map() }))
      f.values.push(value)
      for (const [proc, v] of Object.entries(cpu ?? {})) f.cpu.set(proc, [...(f.cpu.get(proc) ?? []), v])
    },
    records() {
      return [...figures].map(([name, f]) => {
        const s = summarize(f.values)
        const r: BenchRecord = { name, value: s.median, unit: f.unit, min: s.min, max: s.max }
        if (f.cpu.size > 0) r.cpu = Object.fromEntries([...f.cpu].map(([proc, vs]) => [proc, Math.round(summarize(vs).median * 10) / 10]))
        return r
      })
    },
  }
}
