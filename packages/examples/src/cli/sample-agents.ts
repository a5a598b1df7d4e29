/**
 * A module of agent classes for `murmur node --agents`: every exported class with a static
 * `protocol` is hosted. Used by the README's tour and the CLI tests.
 *
 *   murmur node --port 7000 --agents packages/examples/dist/cli/sample-agents.js
 */
import { z } from 'zod'
import { Agent, message, protocol, type Handlers, type Payload } from '@murmur/actor-core'

export const Greeter = protocol('greeter', {
  greet: message(z.object({ name: z.string() }), { reply: z.object({ text: z.string(), greeted: z.number() }) }),
})

export class GreeterAgent extends Agent<typeof Greeter> implements Handlers<typeof Greeter> {
  static protocol = Greeter
  greeted = 0
  greet({ name }: Payload<typeof Greeter, 'greet'>) {
    this.greeted++
    return { text: `hello, ${name}`, greeted: this.greeted }
  }
}

export const Counter = protocol('counter', {
  add: message(z.object({ n: z.number() })),
  get: message(z.object({}), { reply: z.number() }),
})

export class CounterAgent extends Agent<typeof Counter> implements Handlers<typeof Counter> {
  static protocol = Counter
  total = 0
  add({ n }: Payload<typeof Counter, 'add'>) {
    this.total += n
  }
  get() {
    return this.total
  }
}
