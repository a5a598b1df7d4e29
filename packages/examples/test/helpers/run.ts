import { spawn } from 'node:child_process'
import { fileURLToPath } from 'node:url'

/** The package's built output (tests run after `build`, as turbo orders them). */
export const dist = (file: string) => fileURLToPath(new URL(`../../dist/${file}`, import.meta.url))

export interface Ran {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  ms: number
}

/**
 * Runs `node <file> ...args` to the end, killed after `timeoutMs`. The caller's teardown kills
 * it too (`kill`), so a failing test leaves nothing behind.
 */
export function runNode(file: string, args: readonly string[], options: { timeoutMs: number; env?: NodeJS.ProcessEnv; onKill?: (kill: () => void) => void }): Promise<Ran> {
  const t0 = Date.now()
  const child = spawn(process.execPath, [file, ...args], { env: { ...process.env, ...options.env }, stdio: ['ignore', 'pipe', 'pipe'] })
  const kill = () => child.kill('SIGKILL')
  options.onKill?.(kill)
  const timer = setTimeout(kill, options.timeoutMs)
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
  return new Promise((resolve) => {
    child.on('exit', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, ms: Date.now() - t0 })
    })
  })
}

/** True while a process with this pid exists. */
export function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

/** Waits (up to `ms`) until none of `pids` exists; returns those still alive. */
export async function survivors(pids: readonly number[], ms = 5000): Promise<number[]> {
  const end = Date.now() + ms
  while (pids.some(alive) && Date.now() < end) await new Promise((r) => setTimeout(r, 50))
  return pids.filter(alive)
}
