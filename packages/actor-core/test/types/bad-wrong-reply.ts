import { Agent, type Handlers, type Payload } from '../../src/index.js'
import { Worker, type W } from './protocol.js'

export class WrongReply extends Agent<W> implements Handlers<W> {
  static protocol = Worker
  assign(_p: Payload<W, 'assign'>): void {}
  status(_p: Payload<W, 'status'>): void {}
  report(): { done: string } { return { done: 'no' } } // @error
}

export class WrongAsyncReply extends Agent<W> implements Handlers<W> {
  static protocol = Worker
  assign(_p: Payload<W, 'assign'>): void {}
  status(_p: Payload<W, 'status'>): void {}
  async report(): Promise<number> { return 1 } // @error
}
