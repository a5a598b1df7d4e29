import { ActorSystem } from '../../src/index.js'
import { WorkerAgent } from './good.js'

const w = new ActorSystem().spawn(WorkerAgent)
w.tell('assign', { taskId: 1, input: 'x' }) // @error
w.tell('status', {}) // @error
export const reply: Promise<{ done: string }> = w.ask('report', {}) // @error
