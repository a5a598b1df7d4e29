import t from 'tap'
import { z } from 'zod'
import { ActorSystem, Agent, UnknownMessageType, message, protocol, type Cancellable, type Handlers } from '../src/index.js'
import { until } from './fixtures.js'

const P = protocol('ticker', {
  start: message(z.object({ every: z.number() })),
  once: message(z.object({ after: z.number() })),
  tick: message(z.object({ k: z.string() })),
  cancel: message(z.object({})),
  fail: message(z.object({})),
  count: message(z.object({}), { reply: z.number() }),
})
class Ticker extends Agent<typeof P> implements Handlers<typeof P> {
  static protocol = P
  ticks = 0
  timer: Cancellable | undefined
  start({ every }: { every: number }): void { this.timer = this.schedule('tick', { k: 'e' }, { every }) }
  once({ after }: { after: number }): void { this.schedule('tick', { k: 'o' }, { after }) }
  tick(): void { this.ticks++ }
  cancel(): void { this.timer?.cancel() }
  fail(): void { throw new Error('restart me') }
  count(): number { return this.ticks }
}

t.test('after fires once, every repeats, cancel stops it', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const a = system.spawn(Ticker)
  a.tell('once', { after: 10 })
  const agent = system.agentOf(a) as Ticker
  await until(() => agent.ticks === 1)
  await new Promise((r) => setTimeout(r, 30))
  t.equal(agent.ticks, 1, 'once')
  a.tell('start', { every: 5 })
  await until(() => agent.ticks >= 4)
  a.tell('cancel', {})
  await a.ask('count', {})
  const stopped = agent.ticks
  await new Promise((r) => setTimeout(r, 40))
  t.equal(await a.ask('count', {}), stopped, 'no ticks after cancel')
})

t.test('timers are cleared when the agent restarts and when it stops', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const a = system.spawn(Ticker)
  a.tell('start', { every: 5 })
  const first = system.agentOf(a) as Ticker
  await until(() => first.ticks >= 2)
  a.tell('fail', {})
  await new Promise((r) => setTimeout(r, 40))
  t.equal(await a.ask('count', {}), 0, 'the fresh instance gets no ticks from the old timer')
  a.tell('start', { every: 5 })
  const second = system.agentOf(a) as Ticker
  await until(() => second.ticks >= 1)
  const letters: unknown[] = []
  system.deadLetters.on((dl) => letters.push(dl))
  await system.stop(a)
  await new Promise((r) => setTimeout(r, 30))
  t.same(letters, [], 'no timer fires into a stopped agent')
})

t.test('scheduling an unknown type throws', async (t) => {
  const Q = protocol('sched-bad', { go: message(z.object({}), { reply: z.string() }) })
  class Bad extends Agent<typeof Q> implements Handlers<typeof Q> {
    static protocol = Q
    go(): string {
      try {
        this.schedule('nope' as 'go', {}, { after: 1 })
        return 'scheduled'
      } catch (e) {
        return e instanceof UnknownMessageType ? 'refused' : 'other'
      }
    }
  }
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  t.equal(await system.spawn(Bad).ask('go', {}), 'refused')
})
