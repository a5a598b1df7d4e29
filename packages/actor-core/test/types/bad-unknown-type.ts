import { ActorSystem } from '../../src/index.js'
import { WorkerAgent } from './good.js'

const system = new ActorSystem()
const w = system.spawn(WorkerAgent)
w.tell('nope', {}) // @error
export const p = system.ref(WorkerAgent, 'x').ask('alsoNope', {}) // @error
