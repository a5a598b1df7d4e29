import { fork, type ChildProcess } from 'node:child_process'

/** A node process started by {@link Children.start}. */
export interface Child {
  readonly name: string
  readonly process: ChildProcess
  /** Sends over the IPC channel; a no-op once the child is gone. */
  send(message: unknown): void
  /** Resolves with the exit code (or the signal's name) once the process has ended. */
  readonly exited: Promise<number | string>
}

/**
 * The child processes of one program (demo, example, test). Every child is ended when the parent
 * exits for any reason: normal exit, Ctrl-C, SIGTERM, an uncaught error. Children also end
 * themselves when their IPC channel closes (see `exitWithParent`), which covers a parent killed
 * with SIGKILL.
 */
export class Children {
  readonly #all = new Set<Child>()
  #handlersInstalled = false

  /** Forks `script` (an ES module path) with an IPC channel; stdout/stderr are inherited unless `quiet`. */
  start(name: string, script: string | URL, args: readonly string[], options: { env?: NodeJS.ProcessEnv; quiet?: boolean; onMessage?: (m: any) => void } = {}): Child {
    this.#installHandlers()
    const proc = fork(script, [...args], {
      env: { ...process.env, ...options.env },
      stdio: options.quiet ? ['ignore', 'ignore', 'pipe', 'ipc'] : ['ignore', 'inherit', 'inherit', 'ipc'],
      serialization: 'advanced',
    })
    let stderr = ''
    proc.stderr?.on('data', (d: Buffer) => {
      stderr = (stderr + d.toString()).slice(-4000)
    })
    const exited = new Promise<number | string>((resolve) => {
      proc.once('exit', (code, signal) => {
        this.#all.delete(child)
        if (code !== 0 && code !== null && options.quiet && stderr) process.stderr.write(`[${name}] ${stderr}`)
        resolve(code ?? signal ?? 'unknown')
      })
    })
    if (options.onMessage) proc.on('message', options.onMessage)
    const child: Child = {
      name,
      process: proc,
      send: (m) => {
        if (proc.connected) proc.send(m as never, (error) => void error)
      },
      exited,
    }
    this.#all.add(child)
    return child
  }

  get size(): number {
    return this.#all.size
  }

  list(): Child[] {
    return [...this.#all]
  }

  /** Kills every child still running and waits until each has exited. */
  async killAll(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const all = [...this.#all]
    for (const c of all) c.process.kill(signal)
    await Promise.all(all.map((c) => c.exited))
  }

  /**
   * Asks each child to stop (`{ cmd: 'stop' }`), and kills those still running after `graceMs`.
   */
  async stopAll(graceMs = 3000): Promise<void> {
    const all = [...this.#all]
    for (const c of all) c.send({ cmd: 'stop' })
    const timer = setTimeout(() => {
      for (const c of all) c.process.kill('SIGKILL')
    }, graceMs)
    await Promise.all(all.map((c) => c.exited))
    clearTimeout(timer)
  }

  #installHandlers(): void {
    if (this.#handlersInstalled) return
    this.#handlersInstalled = true
    // Synchronous on purpose: 'exit' handlers cannot await.
    process.once('exit', () => {
      for (const c of this.#all) c.process.kill('SIGKILL')
    })
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
      process.once(signal, () => {
        // Wait (briefly) until each is reaped, so nothing is left when we are gone.
        const cap = setTimeout(() => process.exit(130), 2000)
        void this.killAll().then(() => {
          clearTimeout(cap)
          process.exit(130)
        })
      })
    }
  }
}

/**
 * In a child: exit when the parent goes away (its IPC channel closes), so no node outlives the
 * program that started it, even one killed with SIGKILL.
 */
export function exitWithParent(onStop?: () => Promise<void>): void {
  process.on('disconnect', () => process.exit(0))
  process.on('message', (m: unknown) => {
    if ((m as { cmd?: unknown })?.cmd !== 'stop') return
    const done = () => process.exit(0)
    const timer = setTimeout(done, 2000)
    timer.unref()
    ;(onStop ? onStop() : Promise.resolve()).then(done, done)
  })
}

/** Resolves when `cond()` is true; rejects after `ms` with `what` in the message. */
export async function until(cond: () => boolean, what: string, ms = 20_000, every = 20): Promise<void> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, every))
  }
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms))
