import { ActorSystem, Agent, type Handlers, type Payload } from '../../src/index.js'
import { Worker, type W } from './protocol.js'

export class NoReport extends Agent<W> implements Handlers<W> { // @error
  static protocol = Worker
  assign(_p: Payload<W, 'assign'>): void {}
  status(_p: Payload<W, 'status'>): void {}
}

// also refused by spawn, even without `implements`
class NoReportLoose extends Agent<W> {
  static protocol = Worker
  assign(_p: Payload<W, 'assign'>): void {}
  status(_p: Payload<W, 'status'>): void {}
}
new ActorSystem().spawn(NoReportLoose) // @error
