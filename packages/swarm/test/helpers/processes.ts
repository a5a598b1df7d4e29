import { fork, type ChildProcess } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { mkdtempSync, readFileSync, existsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

const FIXTURE = fileURLToPath(new URL('../fixtures/node.mjs', import.meta.url))

export interface NodeEvent {
  event: string
  id: string
  at: number
}

/** A swarm node in a child process, driven over IPC. */
export class NodeProcess {
  readonly events: NodeEvent[] = []
  address = ''
  #re = 0
  readonly #waiting = new Map<number, { resolve: (v: any) => void; reject: (e: Error) => void }>()
  exited = false

  constructor(
    readonly nodeId: string,
    readonly child: ChildProcess,
    readonly log: string,
  ) {
    child.on('message', (m: any) => {
      if (m.event) this.events.push(m)
      if (m.re !== undefined) {
        const w = this.#waiting.get(m.re)
        this.#waiting.delete(m.re)
        if (m.error) w?.reject(new Error(`${nodeId}: ${m.error}`))
        else w?.resolve(m.result)
      }
    })
    child.on('exit', () => {
      this.exited = true
      for (const w of this.#waiting.values()) w.reject(new Error(`${nodeId} exited`))
      this.#waiting.clear()
    })
  }

  call<T = any>(cmd: string, args: Record<string, unknown> = {}, ms = 60_000): Promise<T> {
    const re = ++this.#re
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(re)
        reject(new Error(`${this.nodeId}: ${cmd} timed out`))
      }, ms)
      this.#waiting.set(re, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (e) => (clearTimeout(timer), reject(e)),
      })
      this.child.send({ cmd, re, ...args })
    })
  }

  kill9(): number {
    const at = Date.now()
    this.child.kill('SIGKILL')
    return at
  }

  /** Lines `id seq` this node's agents handled (survives kill -9: written synchronously). */
  handled(): string[] {
    return existsSync(this.log) ? readFileSync(this.log, 'utf8').split('\n').filter(Boolean) : []
  }
}

/** Starts and tracks node processes; `closeAll` (in teardown) kills whatever is left. */
export class ProcessCluster {
  readonly nodes = new Map<string, NodeProcess>()
  readonly dir = mkdtempSync(join(tmpdir(), 'murmur-swarm-'))
  readonly others: ChildProcess[] = []

  async start(nodeId: string, seeds: string[], opts: { secret?: string; cluster?: string } = {}): Promise<NodeProcess> {
    const log = join(this.dir, `${nodeId}.log`)
    const args = { nodeId, port: 0, seeds, secret: opts.secret ?? 'process-secret', cluster: opts.cluster ?? 'test', log }
    const child = fork(FIXTURE, [JSON.stringify(args)], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
    const node = new NodeProcess(nodeId, child, log)
    this.nodes.set(nodeId, node)
    node.address = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`${nodeId} did not start`)), 20_000)
      child.on('message', (m: any) => {
        if (m.ready) {
          clearTimeout(timer)
          resolve(m.address)
        }
      })
      child.on('exit', (code) => reject(new Error(`${nodeId} exited with ${code}`)))
    })
    return node
  }

  /** Waits (bounded) until `cond` holds. */
  async until(cond: () => boolean | Promise<boolean>, what: string, ms = 30_000): Promise<void> {
    const end = Date.now() + ms
    while (!(await cond())) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 50))
    }
  }

  async converged(ids: string[]): Promise<boolean> {
    const want = [...ids].sort().join(',')
    const views = await Promise.all(ids.map((id) => this.nodes.get(id)!.call<string[]>('members')))
    return views.every((v) => [...v].sort().join(',') === want)
  }

  closeAll(): void {
    for (const n of this.nodes.values()) if (!n.exited) n.child.kill('SIGKILL')
    for (const c of this.others) c.kill('SIGKILL')
  }
}
