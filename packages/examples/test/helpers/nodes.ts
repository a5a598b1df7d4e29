import { spawn, type ChildProcess } from 'node:child_process'
import type { Test } from 'tap'
import { dist } from './run.js'

export interface CliNode {
  readonly process: ChildProcess
  readonly address: string
  readonly id: string
  output(): string
}

/**
 * Starts `murmur node …` as a child process and resolves once it listens. Killed in `t`'s
 * teardown (SIGKILL), whatever happens.
 */
export function startCliNode(t: Test, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<CliNode> {
  const child = spawn(process.execPath, [dist('cli.js'), 'node', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => {
    child.kill('SIGKILL')
  })
  let out = ''
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`node did not start: ${out}`)), 20_000)
    const onData = (d: Buffer) => {
      out += d.toString()
      const m = /murmur node (\S+) listening on (\S+);/.exec(out)
      if (m) {
        clearTimeout(timer)
        resolve({ process: child, id: m[1]!, address: m[2]!, output: () => out })
      }
    }
    child.stdout.on('data', onData)
    child.stderr.on('data', onData)
    child.on('exit', (code) => reject(new Error(`node exited (${code}): ${out}`)))
  })
}

/** A free port on 127.0.0.1 (bound then released). */
export async function freePort(): Promise<number> {
  const { createServer } = await import('node:net')
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.listen(0, '127.0.0.1', () => {
      const a = s.address()
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))))
    })
  })
}
