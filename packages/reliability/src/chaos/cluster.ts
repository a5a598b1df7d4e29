import { fork, type ChildProcess } from 'node:child_process'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { Command } from './node-process.js'

// From src/chaos (tests) and dist/chaos alike: the compiled node process.
const NODE_PROCESS = fileURLToPath(new URL('../../dist/chaos/node-process.js', import.meta.url))

/** A free TCP port on 127.0.0.1 (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port
      s.close(() => resolve(port))
    })
  })
}

/** A message a node process reports (see `node-process.ts`). */
export type Report = { t: string } & Record<string, unknown>

/**
 * Node processes on fixed ports of 127.0.0.1, each seeded with all the others, that can be
 * killed (SIGKILL) and started again on the same port.
 *
 * @example
 * const c = await ProcessCluster.create(['c0', 'c1', 'c2'], (name, r) => console.log(name, r))
 * await c.startAll()
 * c.kill('c1'); await c.start('c1')
 * c.close()
 */
export class ProcessCluster {
  readonly procs = new Map<string, ChildProcess>()
  /** Every process ever started, so `close` leaves none behind. */
  readonly #all = new Set<ChildProcess>()

  private constructor(
    readonly names: readonly string[],
    readonly ports: Record<string, number>,
    private readonly onReport: (name: string, report: Report) => void,
  ) {}

  static async create(names: readonly string[], onReport: (name: string, report: Report) => void): Promise<ProcessCluster> {
    const ports: Record<string, number> = {}
    for (const n of names) ports[n] = await freePort()
    return new ProcessCluster(names, ports, onReport)
  }

  /** Starts `name`; resolves once it listens and reported `up`. */
  start(name: string): Promise<void> {
    const seeds = this.names.filter((n) => n !== name).map((n) => this.ports[n]).join(',')
    this.kill(name)
    const child = fork(NODE_PROCESS, [name, String(this.ports[name]), seeds], { execArgv: [], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    this.procs.set(name, child)
    this.#all.add(child)
    child.once('exit', () => this.#all.delete(child))
    return new Promise((resolve) => {
      child.on('message', (m: Report) => {
        if (m.t === 'up') resolve()
        this.onReport(name, m)
      })
      child.once('exit', () => resolve())
    })
  }

  startAll(): Promise<void[]> {
    return Promise.all(this.names.map((n) => this.start(n)))
  }

  alive(name: string): boolean {
    const c = this.procs.get(name)
    return c !== undefined && c.exitCode === null && c.signalCode === null
  }

  send(name: string, command: Command): void {
    if (this.alive(name)) this.procs.get(name)?.send(command)
  }

  broadcast(command: Command): void {
    for (const n of this.names) this.send(n, command)
  }

  kill(name: string): boolean {
    if (!this.alive(name)) return false
    this.procs.get(name)?.kill('SIGKILL')
    return true
  }

  close(): void {
    for (const child of this.#all) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    this.#all.clear()
  }
}
