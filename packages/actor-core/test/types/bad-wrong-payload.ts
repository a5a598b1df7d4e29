import { ActorSystem, Agent, type Handlers, type Payload, type Reply } from '../../src/index.js'
import { Worker, type W } from './protocol.js'

export class WrongPayload extends Agent<W> implements Handlers<W> {
  static protocol = Worker
  assign(_p: { taskId: number }): void {} // @error
  status(_p: Payload<W, 'status'>): void {}
  report(): Reply<W, 'report'> { return { done: 0 } }
}

// a payload that asks for more than the schema gives is refused too (strict, not bivariant)
class ExtraField extends Agent<W> {
  static protocol = Worker
  assign(_p: Payload<W, 'assign'> & { extra: string }): void {}
  status(_p: Payload<W, 'status'>): void {}
  report(): Reply<W, 'report'> { return { done: 0 } }
}
new ActorSystem().spawn(ExtraField) // @error
