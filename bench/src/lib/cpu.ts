/**
 * CPU use of benchmark processes, as percent of one core over a measured window (200 = two cores
 * busy). Node workers measure themselves with `process.cpuUsage()` (see `serveWorker`'s built-in
 * `cpu-mark` / `cpu-read` commands); other processes (Erlang nodes) are read from `/proc` on Linux.
 *
 * @example
 * const m = cpuMark()
 * await work()
 * const percent = cpuPercent(m)
 */
import { readFileSync } from 'node:fs'

/** A point to measure this process's CPU use from. */
export interface CpuMark {
  readonly usage: NodeJS.CpuUsage
  readonly at: bigint
}

export function cpuMark(): CpuMark {
  return { usage: process.cpuUsage(), at: process.hrtime.bigint() }
}

/** Percent of one core this process used since `mark` (user + system time over wall time). */
export function cpuPercent(mark: CpuMark): number {
  const used = process.cpuUsage(mark.usage)
  const wallUs = Number(process.hrtime.bigint() - mark.at) / 1000
  return wallUs <= 0 ? NaN : ((used.user + used.system) / wallUs) * 100
}

/** Clock ticks per second of `/proc/<pid>/stat` times; 100 on every Linux this runs on. */
const CLK_TCK = 100

/** User + system CPU seconds of any process by pid, from `/proc`; undefined where unreadable. */
export function procCpuSeconds(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8')
    // The command name (field 2) may contain spaces; the fixed fields start after its ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ')
    // fields[0] is field 3 (state), so utime (field 14) is fields[11] and stime fields[12].
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK
  } catch {
    return undefined
  }
}

/** A `/proc`-based mark of another process. */
export interface ProcCpuMark {
  readonly pid: number
  readonly seconds: number | undefined
  readonly at: bigint
}

export function procCpuMark(pid: number): ProcCpuMark {
  return { pid, seconds: procCpuSeconds(pid), at: process.hrtime.bigint() }
}

/** Percent of one core process `mark.pid` used since `mark`; NaN where `/proc` is not readable. */
export function procCpuPercent(mark: ProcCpuMark): number {
  const now = procCpuSeconds(mark.pid)
  if (now === undefined || mark.seconds === undefined) return NaN
  const wallS = Number(process.hrtime.bigint() - mark.at) / 1e9
  return wallS <= 0 ? NaN : ((now - mark.seconds) / wallS) * 100
}
