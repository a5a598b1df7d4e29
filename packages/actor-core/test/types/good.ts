import { ActorSystem, Agent, type Handlers, type Payload, type Reply } from '../../src/index.js'
import { Worker, type W } from './protocol.js'

export class WorkerAgent extends Agent<W> implements Handlers<W> {
  static protocol = Worker
  done = 0
  async assign({ taskId }: Payload<W, 'assign'>): Promise<void> {
    if (taskId.length > 0) this.done++
  }
  status(_p: Payload<W, 'status'>): void {}
  report(): Reply<W, 'report'> {
    return { done: this.done }
  }
}

export async function use(): Promise<number> {
  const system = new ActorSystem()
  const w = system.spawn(WorkerAgent, { id: 'w1' })
  w.tell('assign', { taskId: 't1', input: 'x' })
  w.tell('status', { progress: 0.5 })
  const r = await system.ref(WorkerAgent, 'w1').ask('report', {}, { timeout: 100 })
  const n: number = r.done
  const byProtocol = system.ref(Worker, 'w2')
  byProtocol.tell('status', { progress: 1 })
  return n
}

// an xstate agent: replies for the request/response types are required and typed
import { setup } from 'xstate'
import { fromMachine } from '../../src/index.js'
const m = setup({ types: { context: {} as { done: number } } }).createMachine({ context: { done: 0 } })
export class MachineWorker extends fromMachine(Worker, m, { reply: { report: (s) => ({ done: s.context.done }) } }) {}
export const mw = new ActorSystem().spawn(MachineWorker)
