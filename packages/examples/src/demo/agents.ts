import { z } from 'zod'
import { Agent, message, protocol, type Handlers, type Payload } from '@murmur/actor-core'
import { countWords, loadCorpus, mergeInto, splitIntoTasks, canonical, type Index, type Task } from './wordcount.js'

/**
 * The demo's two agent types. The coordinator leases tasks to workers (a few in flight per worker:
 * that window is the flow control), workers report progress best-effort and results reliably, and
 * a lost node's leases go back in the queue. Results are idempotent per task id: first one wins.
 */
export const Worker = protocol('worker', {
  assign: message(z.object({ taskId: z.string(), doc: z.string(), text: z.string(), workMs: z.number() }), { guarantee: ['reliable', 'fifo'] }),
})

const workerRef = z.object({ id: z.string(), node: z.string() })

export const Coordinator = protocol('coordinator', {
  start: message(z.object({ workers: z.array(workerRef), linesPerTask: z.number().int().positive(), workMs: z.number().nonnegative() })),
  progress: message(z.object({ taskId: z.string(), worker: z.string(), fraction: z.number() }), { guarantee: ['best-effort'] }),
  result: message(
    z.object({ taskId: z.string(), worker: z.string(), node: z.string(), doc: z.string(), counts: z.array(z.tuple([z.string(), z.number()])) }),
    { guarantee: ['reliable', 'fifo'] },
  ),
  nodeDown: message(z.object({ node: z.string() })),
  tick: message(z.object({})),
})

/** What the coordinator reports to the program that runs it (the demo prints it). */
export type JobEvent =
  | { kind: 'progress'; done: number; total: number; inFlight: number; reassigned: number; byNode: Record<string, number> }
  | { kind: 'reassigned'; node: string; tasks: number; reason: 'node-down' | 'lease-expired' }
  | { kind: 'finished'; index: Array<[string, number, string[]]>; total: number; duplicates: number; reassigned: number; byNode: Record<string, number>; ms: number }

/** Tasks a worker may hold at once (one running, one waiting in its mailbox). */
const WINDOW = 2
/** A lease not renewed by progress or a result for this long goes back in the queue. */
const LEASE_MS = 4000

interface Lease {
  readonly worker: string
  lastHeard: number
}

export class WorkerAgent extends Agent<typeof Worker, { node: string }> implements Handlers<typeof Worker> {
  static protocol = Worker

  async assign({ taskId, doc, text, workMs }: Payload<typeof Worker, 'assign'>): Promise<void> {
    const coordinator = this.ref(Coordinator, 'coordinator')
    // Stands for slow work (a model or tool call): the demo lasts long enough to watch and to crash.
    for (let step = 1; step <= 4; step++) {
      await new Promise((r) => setTimeout(r, workMs / 4))
      coordinator.tell('progress', { taskId, worker: this.id, fraction: step / 4 })
    }
    coordinator.tell('result', { taskId, worker: this.id, node: this.input.node, doc, counts: countWords(text).map(([w, n]) => [w, n] as [string, number]) })
  }
}

export class CoordinatorAgent extends Agent<typeof Coordinator> implements Handlers<typeof Coordinator> {
  static protocol = Coordinator
  /** How this process hears from the coordinator; the demo's node process sets it. */
  static outlet: (event: JobEvent) => void = () => {}

  tasks = new Map<string, Task>()
  queue: string[] = []
  leases = new Map<string, Lease>()
  done = new Set<string>()
  index: Index = new Map()
  workers = new Map<string, { node: string; alive: boolean; held: number }>()
  byNode: Record<string, number> = {}
  duplicates = 0
  reassigned = 0
  workMs = 0
  startedAt = 0

  start({ workers, linesPerTask, workMs }: Payload<typeof Coordinator, 'start'>): void {
    this.startedAt = Date.now()
    this.workMs = workMs
    for (const t of splitIntoTasks(loadCorpus(), linesPerTask)) this.tasks.set(t.taskId, t)
    this.queue = [...this.tasks.keys()]
    for (const w of workers) this.workers.set(w.id, { node: w.node, alive: true, held: 0 })
    this.schedule('tick', {}, { every: 500 })
    this.#fill()
  }

  progress({ taskId, worker }: Payload<typeof Coordinator, 'progress'>): void {
    const lease = this.leases.get(taskId)
    if (lease?.worker === worker) lease.lastHeard = Date.now()
  }

  result({ taskId, worker, node, doc, counts }: Payload<typeof Coordinator, 'result'>): void {
    const lease = this.leases.get(taskId)
    if (lease?.worker === worker) {
      this.leases.delete(taskId)
      this.#release(worker)
    }
    if (this.done.has(taskId)) {
      this.duplicates++
    } else {
      this.done.add(taskId)
      this.queue = this.queue.filter((id) => id !== taskId)
      if (lease && lease.worker !== worker) {
        this.leases.delete(taskId)
        this.#release(lease.worker)
      }
      mergeInto(this.index, doc, counts)
      this.byNode[node] = (this.byNode[node] ?? 0) + 1
    }
    this.#fill()
    this.#report()
  }

  nodeDown({ node }: Payload<typeof Coordinator, 'nodeDown'>): void {
    const lost = new Set<string>()
    for (const [id, w] of this.workers) {
      if (w.node === node && w.alive) {
        w.alive = false
        lost.add(id)
      }
    }
    if (lost.size === 0) return
    const back = this.#requeue((lease) => lost.has(lease.worker))
    CoordinatorAgent.outlet({ kind: 'reassigned', node, tasks: back, reason: 'node-down' })
    this.#fill()
  }

  tick(): void {
    const now = Date.now()
    const back = this.#requeue((lease) => now - lease.lastHeard > LEASE_MS + this.workMs)
    if (back > 0) CoordinatorAgent.outlet({ kind: 'reassigned', node: '?', tasks: back, reason: 'lease-expired' })
    this.#fill()
    this.#report()
  }

  /** Puts the leases that match back at the front of the queue; returns how many. */
  #requeue(match: (lease: Lease) => boolean): number {
    const back: string[] = []
    for (const [taskId, lease] of this.leases) {
      if (!match(lease)) continue
      this.leases.delete(taskId)
      this.#release(lease.worker)
      back.push(taskId)
    }
    this.queue.unshift(...back)
    this.reassigned += back.length
    return back.length
  }

  #release(worker: string): void {
    const w = this.workers.get(worker)
    if (w && w.held > 0) w.held--
  }

  /** Hands out queued tasks to live workers with room in their window, round robin. */
  #fill(): void {
    let progress = true
    while (this.queue.length > 0 && progress) {
      progress = false
      for (const [id, w] of this.workers) {
        if (!w.alive || w.held >= WINDOW) continue
        const taskId = this.queue.shift()
        if (taskId === undefined) break
        const task = this.tasks.get(taskId)!
        w.held++
        this.leases.set(taskId, { worker: id, lastHeard: Date.now() })
        this.ref(Worker, id).tell('assign', { taskId, doc: task.doc, text: task.text, workMs: this.workMs })
        progress = true
      }
    }
  }

  #report(): void {
    const total = this.tasks.size
    if (total === 0) return
    if (this.done.size === total) {
      if (this.startedAt === 0) return
      CoordinatorAgent.outlet({
        kind: 'finished',
        index: canonical(this.index),
        total,
        duplicates: this.duplicates,
        reassigned: this.reassigned,
        byNode: this.byNode,
        ms: Date.now() - this.startedAt,
      })
      this.startedAt = 0 // report once
      this.stop()
      return
    }
    CoordinatorAgent.outlet({ kind: 'progress', done: this.done.size, total, inFlight: this.leases.size, reassigned: this.reassigned, byNode: this.byNode })
  }
}
