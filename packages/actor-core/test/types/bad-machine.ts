import { setup } from 'xstate'
import { fromMachine } from '../../src/index.js'
import { Worker } from './protocol.js'

const m = setup({ types: { context: {} as { done: number } } }).createMachine({ context: { done: 0 } })
export const NoReply = fromMachine(Worker, m) // @error
export const WrongReply = fromMachine(Worker, m, { reply: { report: (s) => ({ done: String(s.context.done) }) } }) // @error
