import t from 'tap'
import { z } from 'zod'
import {
  ActorSystem, Agent, DEFAULT_SUPERVISION, HandlerFailed, MurmurError, decide, fromJSON, message, protocol, resolveSupervision,
  type Handlers, type InspectionEvent, type Payload, type SupervisionOptions,
} from '../src/index.js'
import { CounterAgent, until } from './fixtures.js'

t.test('decide (pure): policies, window, backoff', async (t) => {
  const p = resolveSupervision({ restart: 'on-failure', maxRestarts: 2, within: 1000, backoff: { initial: 10, factor: 3, max: 50 } })
  const d1 = decide(p, 'failure', [], 5000)
  t.same(d1, { action: 'restart', delay: 10, history: [5000] })
  const d2 = decide(p, 'failure', [5000], 5100)
  t.same(d2, { action: 'restart', delay: 30, history: [5000, 5100] })
  t.same(decide(p, 'failure', [5000, 5100], 5200), { action: 'stop', reason: 'max-restarts' })
  t.same(decide(p, 'failure', [3000, 3100], 5200), { action: 'restart', delay: 10, history: [5200] }, 'old restarts leave the window')
  t.same(decide(p, 'self-stop', [], 0), { action: 'stop', reason: 'policy' }, 'on-failure does not restart a self-stop')
  t.same(decide(resolveSupervision({ restart: 'always' }), 'self-stop', [], 0).action, 'restart')
  t.same(decide(resolveSupervision({ restart: 'never' }), 'failure', [], 0), { action: 'stop', reason: 'policy' })
  const capped = resolveSupervision({ maxRestarts: 100, backoff: { initial: 10, factor: 2, max: 50 } })
  t.equal((decide(capped, 'failure', [1, 2, 3, 4, 5, 6], 7) as { delay: number }).delay, 50, 'capped at max')
  t.equal(DEFAULT_SUPERVISION.restart, 'on-failure')
})

t.test('a failing handler rejects its ask with a serializable error; on-failure restarts with fresh state; the mailbox survives', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const c = system.spawn(CounterAgent)
  c.tell('add', { n: 5 })
  const failing = c.ask('boom', { why: 'kaput' })
  c.tell('add', { n: 1 }) // queued behind the failure: handled by the new instance
  const err = await failing.catch((e: unknown) => e)
  t.ok(err instanceof HandlerFailed)
  t.equal((err as HandlerFailed).message, 'kaput')
  t.equal((err as HandlerFailed).details?.['name'], 'Error')
  t.ok((err as HandlerFailed).cause instanceof Error, 'original error as cause')
  const wire = JSON.parse(JSON.stringify(err)) as Parameters<typeof fromJSON>[0]
  t.same(wire, { name: 'HandlerFailed', code: 'HANDLER_FAILED', message: 'kaput', details: { name: 'Error' } })
  t.ok(fromJSON(wire) instanceof HandlerFailed)
  t.equal(await c.ask('get', {}), 1, 'restarted: fresh state, later message kept')
})

t.test('a MurmurError thrown by a handler reaches the asker as is', async (t) => {
  class Quota extends MurmurError { constructor() { super('QUOTA', 'over quota') } }
  const P = protocol('quota', { use: message(z.object({}), { reply: z.number() }) })
  class Q extends Agent<typeof P> implements Handlers<typeof P> {
    static protocol = P
    use(): number { throw new Quota() }
  }
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const err = await system.spawn(Q).ask('use', {}).catch((e: unknown) => e)
  t.ok(err instanceof Quota)
  t.equal((err as MurmurError).code, 'QUOTA')
})

let flakies = 0
function flaky(supervision: SupervisionOptions, log: string[]) {
  const P = protocol(`flaky-${++flakies}`, {
    fail: message(z.object({})),
    quit: message(z.object({})),
    ping: message(z.object({}), { reply: z.number() }),
  })
  return class Flaky extends Agent<typeof P> implements Handlers<typeof P> {
    static protocol = P
    static supervision = supervision
    pings = 0
    override onStart(): void { log.push('start') }
    override onRestart(e: unknown): void { log.push(`restart:${e instanceof Error ? e.message : 'stop'}`) }
    override onStop(): void { log.push('stop') }
    fail(): void { throw new Error('x') }
    quit(): void { this.stop() }
    ping(): number { return ++this.pings }
  }
}

t.test('never: the agent stops on failure', async (t) => {
  const log: string[] = []
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const f = system.spawn(flaky({ restart: 'never' }, log))
  f.tell('fail', {})
  await until(() => log.includes('stop'))
  t.notOk(system.hosts(f.address))
  t.same(log, ['start', 'stop'])
})

t.test('on-failure: max restarts within the window, then stop', async (t) => {
  const log: string[] = []
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const events: InspectionEvent[] = []
  system.inspect((e) => events.push(e))
  const f = system.spawn(flaky({ restart: 'on-failure', maxRestarts: 2, within: 60_000 }, log))
  for (let i = 0; i < 3; i++) f.tell('fail', {})
  await until(() => log.includes('stop'))
  t.same(log, ['start', 'restart:x', 'start', 'restart:x', 'start', 'stop'])
  t.same(events.filter((e) => e.type === 'restarted').map((e) => (e as { attempt: number }).attempt), [1, 2])
  const stopped = events.find((e) => e.type === 'stopped')
  t.equal(stopped?.type === 'stopped' && stopped.reason, 'max-restarts')
})

t.test('on-failure does not restart a self-stop; always does', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const log1: string[] = []
  const a = system.spawn(flaky({ restart: 'on-failure' }, log1))
  a.tell('quit', {})
  await until(() => log1.includes('stop'))
  t.notOk(system.hosts(a.address))
  const log2: string[] = []
  const b = system.spawn(flaky({ restart: 'always' }, log2))
  t.equal(await b.ask('ping', {}), 1)
  b.tell('quit', {})
  t.equal(await b.ask('ping', {}), 1, 'restarted with fresh state')
  t.same(log2, ['start', 'restart:stop', 'start'])
  await system.stop(b)
  t.notOk(system.hosts(b.address), 'an outside stop is final even under always')
})

t.test('exponential backoff delays restarts', async (t) => {
  const log: string[] = []
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const f = system.spawn(flaky({ restart: 'on-failure', maxRestarts: 5, backoff: { initial: 40, factor: 2 } }, log))
  const t0 = Date.now()
  f.tell('fail', {})
  t.equal(await f.ask('ping', {}), 1)
  const first = Date.now() - t0
  t.ok(first >= 35, `first restart after ~40 ms (${first})`)
  const t1 = Date.now()
  f.tell('fail', {})
  t.equal(await f.ask('ping', {}), 1)
  const second = Date.now() - t1
  t.ok(second >= 75, `second restart after ~80 ms (${second})`)
})

t.test('a failing onStart is supervised like a handler', async (t) => {
  let starts = 0
  const P = protocol('badstart', { ping: message(z.object({}), { reply: z.number() }) })
  class BadStart extends Agent<typeof P> implements Handlers<typeof P> {
    static protocol = P
    override onStart(): void { if (++starts < 3) throw new Error('not yet') }
    ping(): number { return starts }
  }
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  t.equal(await system.spawn(BadStart).ask('ping', {}), 3)
})

function family(strategy: 'one-for-one' | 'all-for-one') {
  const P = protocol(`parent-${strategy}`, { start: message(z.object({}), { reply: z.array(z.string()) }) })
  return class Parent extends Agent<typeof P> implements Handlers<typeof P> {
    static protocol = P
    static supervision = { strategy }
    start(): string[] {
      return ['a', 'b', 'c'].map((k) => this.spawn(CounterAgent, { id: `${strategy}-${k}` }).id)
    }
  }
}

for (const strategy of ['one-for-one', 'all-for-one'] as const) {
  t.test(`parent/child ${strategy}`, async (t) => {
    const system = new ActorSystem()
    t.teardown(() => system.stop())
    const parent = system.spawn(family(strategy))
    const ids = await parent.ask('start', {})
    const kids = ids.map((id) => system.ref(CounterAgent, id))
    for (const k of kids) k.tell('add', { n: 7 })
    t.same(await Promise.all(kids.map((k) => k.ask('get', {}))), [7, 7, 7])
    await t.rejects(kids[0]!.ask('boom', { why: 'child' }), HandlerFailed)
    const totals = await Promise.all(kids.map((k) => k.ask('get', {})))
    t.same(totals, strategy === 'one-for-one' ? [0, 7, 7] : [0, 0, 0])
    await system.stop(parent)
    for (const k of kids) t.notOk(system.hosts(k.address), 'children stop with their parent')
  })
}

t.test('spawn option parent: a child of an existing agent', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const parent = system.spawn(CounterAgent, { id: 'pa' })
  const child = system.spawn(CounterAgent, { id: 'ch', parent })
  await system.stop(parent)
  t.notOk(system.hosts(child.address))
})

t.test('a handler payload typed by Payload still compiles under supervision options', async (t) => {
  const P = protocol('typed', { x: message(z.object({ v: z.number() }), { reply: z.number() }) })
  class Typed extends Agent<typeof P> implements Handlers<typeof P> {
    static protocol = P
    static supervision: SupervisionOptions = { restart: 'never' }
    x({ v }: Payload<typeof P, 'x'>): number { return v * 2 }
  }
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  t.equal(await system.spawn(Typed).ask('x', { v: 21 }), 42)
})

t.test('all-for-one: an ask in flight on a restarted sibling still settles', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const parent = system.spawn(family('all-for-one'))
  const [a, b] = (await parent.ask('start', {})).map((id) => system.ref(CounterAgent, id))
  const inFlight = b!.ask('addSlow', { n: 1, ms: 40 }, { timeout: 2000 }) // an async handler, running
  await new Promise((r) => setTimeout(r, 5))
  await t.rejects(a!.ask('boom', { why: 'sibling' }), HandlerFailed)
  t.equal(await inFlight, undefined, 'the running ask was answered when its handler ended, not left to time out')
  t.equal(await b!.ask('get', {}), 0, 'b was restarted')
})
