import t from 'tap'
import { z } from 'zod'
import {
  ActorSystem, Agent, AgentNotFound, AgentStopped, AskAborted, AskTimeout, DuplicateAgentId, MurmurError, SchemaViolation,
  SystemStopped, UnknownMessageType, message, protocol, type DeadLetter, type Handlers, type InspectionEvent, type Payload,
} from '../src/index.js'
import { Counter, CounterAgent, until } from './fixtures.js'

t.test('spawn with and without id; tell then ask sees the tells in order', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const a = system.spawn(CounterAgent, { id: 'a' })
  const b = system.spawn(CounterAgent)
  t.equal(a.id, 'a')
  t.match(b.id, /^[\w-]{21}$/, 'nanoid id')
  a.tell('add', { n: 2 })
  a.tell('add', { n: 3 })
  t.equal(await a.ask('get', {}), 5)
  t.equal(await b.ask('get', {}), 0)
  t.ok(system.hosts({ type: 'counter', id: 'a' }))
})

t.test('a duplicate id is DuplicateAgentId; the first agent keeps working', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const a = system.spawn(CounterAgent, { id: 'dup' })
  a.tell('add', { n: 1 })
  t.throws(() => system.spawn(CounterAgent, { id: 'dup' }), DuplicateAgentId)
  try {
    system.spawn(CounterAgent, { id: 'dup' })
  } catch (e) {
    t.ok(e instanceof MurmurError)
    t.equal((e as MurmurError).code, 'DUPLICATE_AGENT_ID')
  }
  t.equal(await a.ask('get', {}), 1)
})

t.test('ref works before the agent exists (location transparency) and by protocol', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const early = system.ref(CounterAgent, 'later')
  await t.rejects(early.ask('get', {}), AgentNotFound, 'nobody hosts it yet')
  system.spawn(CounterAgent, { id: 'later' })
  early.tell('add', { n: 4 })
  t.equal(await system.ref(Counter, 'later').ask('get', {}), 4)
})

t.test('async handlers are awaited before the next message', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const a = system.spawn(CounterAgent)
  a.tell('addSlow', { n: 10, ms: 30 })
  a.tell('add', { n: 1 })
  const agent = system.agentOf(a) as CounterAgent
  t.equal(await a.ask('get', {}), 11)
  t.equal(agent.total, 11)
})

t.test('one message at a time: a slow handler is never overlapped', async (t) => {
  const P = protocol('serial', { work: message(z.object({ i: z.number() })), max: message(z.object({}), { reply: z.number() }) })
  class Serial extends Agent<typeof P> implements Handlers<typeof P> {
    static protocol = P
    running = 0
    most = 0
    async work(): Promise<void> {
      this.running++
      this.most = Math.max(this.most, this.running)
      await new Promise((r) => setTimeout(r, 1))
      this.running--
    }
    max(): number { return this.most }
  }
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const s = system.spawn(Serial)
  for (let i = 0; i < 20; i++) s.tell('work', { i })
  t.equal(await s.ask('max', {}), 1)
})

t.test('per-sender FIFO with several interleaved senders', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const target = system.spawn(CounterAgent, { id: 'sink' })
  const Sender = protocol('sender', { go: message(z.object({ name: z.string(), count: z.number() })) })
  class SenderAgent extends Agent<typeof Sender> implements Handlers<typeof Sender> {
    static protocol = Sender
    async go({ name, count }: Payload<typeof Sender, 'go'>): Promise<void> {
      const sink = this.ref(CounterAgent, 'sink')
      for (let i = 0; i < count; i++) {
        sink.tell('log', { from: name, seq: i })
        if (i % 7 === 0) await null
      }
    }
  }
  for (const name of ['x', 'y', 'z']) system.spawn(SenderAgent).tell('go', { name, count: 200 })
  const agent = system.agentOf(target) as CounterAgent
  await until(() => agent.seen.length === 600)
  for (const name of ['x', 'y', 'z']) {
    const seqs = agent.seen.filter((s) => s.startsWith(name + ':')).map((s) => Number(s.split(':')[1]))
    t.same(seqs, [...seqs].sort((a, b) => a - b), `${name} in order`)
    t.equal(seqs.length, 200)
  }
})

t.test('ask: timeout, abort, unknown agent', async (t) => {
  const system = new ActorSystem({ askTimeout: 50 })
  t.teardown(() => system.stop())
  const a = system.spawn(CounterAgent)
  a.tell('addSlow', { n: 1, ms: 200 })
  const started = Date.now()
  await t.rejects(a.ask('get', {}), AskTimeout, 'default timeout from the system')
  t.ok(Date.now() - started >= 45)
  await t.rejects(a.ask('get', {}, { timeout: 20 }), AskTimeout)
  const ac = new AbortController()
  const p = a.ask('get', {}, { signal: ac.signal, timeout: 5000 })
  ac.abort()
  await t.rejects(p, AskAborted)
  await t.rejects(a.ask('get', {}, { signal: AbortSignal.abort() }), AskAborted, 'already aborted')
  await t.rejects(system.ref(CounterAgent, 'nobody').ask('get', {}), AgentNotFound)
  t.equal(await a.ask('get', {}, { timeout: 2000 }), 1, 'the agent carries on')
})

t.test('dead letters: unknown agent, stopped agent; async iterable and event', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const seen: DeadLetter[] = []
  const off = system.deadLetters.on((dl) => seen.push(dl))
  const it = system.deadLetters[Symbol.asyncIterator]()
  system.ref(CounterAgent, 'ghost').tell('add', { n: 1 })
  const first = await it.next()
  t.equal(first.value.reason, 'agent-not-found')
  t.same(first.value.envelope.to, { type: 'counter', id: 'ghost' })
  t.equal(first.value.envelope.type, 'add')
  t.same(first.value.envelope.payload, { n: 1 })
  const a = system.spawn(CounterAgent, { id: 'gone' })
  await system.stop(a)
  t.notOk(system.hosts(a.address))
  a.tell('add', { n: 1 })
  await t.rejects(a.ask('get', {}), AgentNotFound, 'a stopped agent is not found')
  t.equal(seen.length, 3)
  t.equal(seen[1]!.reason, 'agent-not-found')
  off()
  await it.return!()
})

t.test('stop(ref) after the current message; waiting messages become dead letters and asks AgentStopped', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const a = system.spawn(CounterAgent)
  const letters: DeadLetter[] = []
  system.deadLetters.on((dl) => letters.push(dl))
  a.tell('addSlow', { n: 1, ms: 30 })
  const waiting = a.ask('get', {})
  await new Promise((r) => setTimeout(r, 5))
  const agent = system.agentOf(a) as CounterAgent
  await system.stop(a)
  t.equal(agent.total, 1, 'the current message finished')
  await t.rejects(waiting, AgentStopped)
  t.equal(letters.length, 1)
  t.equal(letters[0]!.reason, 'agent-stopped')
  t.equal(letters[0]!.envelope.kind, 'ask')
})

t.test('system.stop drains mailboxes and stops in reverse spawn order; then refuses spawns', async (t) => {
  const order: string[] = []
  const P = protocol('ordered', { work: message(z.object({})) })
  class Ordered extends Agent<typeof P> implements Handlers<typeof P> {
    static protocol = P
    handled = 0
    async work(): Promise<void> {
      await new Promise((r) => setTimeout(r, 1))
      this.handled++
    }
    override onStop(): void {
      order.push(`${this.id}:${this.handled}`)
    }
  }
  const system = new ActorSystem()
  for (const id of ['one', 'two', 'three']) {
    const r = system.spawn(Ordered, { id })
    for (let i = 0; i < 5; i++) r.tell('work', {})
  }
  await system.stop()
  t.same(order, ['three:5', 'two:5', 'one:5'])
  t.same(system.localAgents(), [])
  t.throws(() => system.spawn(Ordered), SystemStopped)
})

t.test('lifecycle hooks: async onStart runs before the first message; this.stop() from a handler', async (t) => {
  const events: string[] = []
  const P = protocol('life', { ping: message(z.object({})), quit: message(z.object({})) })
  class Life extends Agent<typeof P, { tag: string }> implements Handlers<typeof P> {
    static protocol = P
    static supervision = { restart: 'on-failure' } as const
    override async onStart(): Promise<void> {
      await new Promise((r) => setTimeout(r, 10))
      events.push(`start:${this.input.tag}`)
    }
    ping(): void { events.push('ping') }
    quit(): void { this.stop() }
    override onStop(): void { events.push('stop') }
  }
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const l = system.spawn(Life, { input: { tag: 'x' } })
  l.tell('ping', {})
  l.tell('quit', {})
  l.tell('ping', {})
  await until(() => events.includes('stop'))
  t.same(events, ['start:x', 'ping', 'stop'])
  t.notOk(system.hosts(l.address))
})

t.test('validation: off locally by default, always at the boundary, on locally with validate: always', async (t) => {
  const loose = new ActorSystem()
  const strict = new ActorSystem({ validate: 'always' })
  t.teardown(() => Promise.all([loose.stop(), strict.stop()]))
  const a = loose.spawn(CounterAgent)
  a.tell('add', { n: 'x' } as unknown as { n: number })
  t.equal(await a.ask('get', {}), '0x', 'unvalidated payload reached the handler')
  const b = strict.spawn(CounterAgent)
  const agent = strict.agentOf(b) as CounterAgent
  t.throws(() => b.tell('add', { n: 'x' } as unknown as { n: number }), SchemaViolation)
  try {
    b.tell('add', {} as { n: number })
  } catch (e) {
    const issues = (e as SchemaViolation).details?.['issues'] as { path: string[] }[]
    t.same(issues[0]!.path, ['n'], 'zod issues in details')
  }
  await t.rejects(b.ask('boom', { why: 3 } as unknown as { why: string }), SchemaViolation)
  b.tell('add', { n: 2 })
  t.equal(await b.ask('get', {}), 2, 'never reached the handler, agent alive')
  t.equal(agent.total, 2)
})

t.test('unknown message type is UnknownMessageType, locally and in asks', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const a = system.spawn(CounterAgent)
  const untyped = system.refOf(a.address)
  t.throws(() => untyped.tell('nope', {}), UnknownMessageType)
  await t.rejects(untyped.ask('toString', {}), UnknownMessageType, 'prototype names are not types')
  t.equal(await a.ask('get', {}), 0)
})

t.test('this.self, this.sender, this.ref, this.spawn inside agents', async (t) => {
  const P = protocol('parent', {
    start: message(z.object({}), { reply: z.string() }),
    echo: message(z.object({ v: z.string() }), { reply: z.string() }),
  })
  class Parent extends Agent<typeof P> implements Handlers<typeof P> {
    static protocol = P
    async start(): Promise<string> {
      const child = this.spawn(CounterAgent, { id: `${this.id}-child` })
      child.tell('add', { n: 5 })
      const who = await child.ask('who', {})
      const viaRef = await this.ref(CounterAgent, `${this.id}-child`).ask('get', {})
      const self = await this.self.ask('echo', { v: 'me' }).catch(() => 'deadlock-free?')
      return `${who}/${viaRef}/${self}`
    }
    echo({ v }: Payload<typeof P, 'echo'>): string { return `${v}:${this.sender?.id ?? 'outside'}` }
  }
  const system = new ActorSystem({ askTimeout: 200 })
  t.teardown(() => system.stop())
  const p = system.spawn(Parent, { id: 'p' })
  // asking itself from inside a handler cannot be answered before the handler ends: it times out
  t.equal(await p.ask('start', {}, { timeout: 2000 }), 'p/5/deadlock-free?')
  t.equal(await p.ask('echo', { v: 'x' }), 'x:outside')
  t.equal(await system.ref(CounterAgent, 'p-child').ask('who', {}), null, 'no sender from outside')
})

t.test('inspection events: spawned, received, handled, failed, restarted, stopped, dead-lettered', async (t) => {
  const system = new ActorSystem()
  const events: InspectionEvent[] = []
  const off = system.inspect((e) => events.push(e))
  const a = system.spawn(CounterAgent, { id: 'i' })
  a.tell('add', { n: 1 })
  await t.rejects(a.ask('boom', { why: 'x' }))
  await a.ask('get', {})
  system.ref(CounterAgent, 'ghost').tell('add', { n: 1 })
  await system.stop(a)
  off()
  const types = new Set(events.map((e) => e.type))
  for (const type of ['spawned', 'received', 'handled', 'failed', 'restarted', 'stopped', 'dead-lettered']) t.ok(types.has(type as never), type)
  const handled = events.find((e) => e.type === 'handled')
  t.ok(handled !== undefined && handled.type === 'handled' && handled.durationMs >= 0 && handled.messageType === 'add')
  const received = events.find((e) => e.type === 'received')
  t.ok(received !== undefined && received.type === 'received' && received.trace !== undefined, 'trace on received when inspecting')
  const count = events.length
  a.tell('add', { n: 1 })
  t.equal(events.length, count, 'no events after unsubscribe')
  await system.stop()
})

t.test('trace context: new at the edge, propagated by agents', async (t) => {
  const P = protocol('tracer', {
    relay: message(z.object({}), { reply: z.string() }),
    leaf: message(z.object({}), { reply: z.object({ traceId: z.string(), parentSpanId: z.string().optional() }) }),
  })
  class Tracer extends Agent<typeof P> implements Handlers<typeof P> {
    static protocol = P
    async relay(): Promise<string> {
      const mine = this.trace
      const leaf = await this.ref(P, 'leaf').ask('leaf', {})
      return leaf.traceId === mine.traceId && leaf.parentSpanId === mine.spanId ? 'propagated' : 'lost'
    }
    leaf(): { traceId: string; parentSpanId?: string } {
      const tr = this.trace
      return tr.parentSpanId === undefined ? { traceId: tr.traceId } : { traceId: tr.traceId, parentSpanId: tr.parentSpanId }
    }
  }
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const r = system.spawn(Tracer, { id: 'root' })
  system.spawn(Tracer, { id: 'leaf' })
  t.equal(await r.ask('relay', {}), 'propagated')
  const a = await system.ref(P, 'leaf').ask('leaf', {})
  const b = await system.ref(P, 'leaf').ask('leaf', {})
  t.not(a.traceId, b.traceId, 'each edge message starts a trace')
  t.match(a.traceId, /^[0-9a-f]{32}$/)
})

t.test('sync handlers are run without creating a promise', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const a = system.spawn(CounterAgent)
  const agent = system.agentOf(a) as CounterAgent
  await a.ask('get', {}) // started
  const then = Promise.prototype.then
  let thens = 0
  Promise.prototype.then = function (this: Promise<unknown>, ...args: Parameters<typeof then>) {
    thens++
    return then.apply(this, args)
  } as typeof then
  try {
    for (let i = 0; i < 1000; i++) a.tell('add', { n: 1 })
    await new Promise<void>((resolve) => setImmediate(resolve)) // not counted: `await` on a native promise
    t.equal(agent.total, 1000)
  } finally {
    Promise.prototype.then = then
  }
  t.equal(thens, 0, 'no then() while 1000 sync messages were handled')
})

t.test('system.stop fails asks still waiting for another node', async (t) => {
  const system = new ActorSystem({ name: 'n1' })
  system.useRouter({ route: () => true }) // takes everything, never answers
  const pending = system.ref(CounterAgent, 'far').ask('get', {}, { timeout: 60_000 })
  await system.stop()
  await t.rejects(pending, AgentStopped)
})

t.test('stop(ref) of an agent that is not here is a no-op', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  await system.stop(system.ref(CounterAgent, 'nobody'))
  t.pass('resolved')
})

t.test('every envelope has a trace, dead letters of local messages included', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const letters: DeadLetter[] = []
  system.deadLetters.on((dl) => letters.push(dl))
  const a = system.spawn(CounterAgent, { mailbox: { capacity: 1, overflow: 'drop-newest' } })
  a.tell('add', { n: 1 })
  a.tell('add', { n: 2 })
  system.ref(CounterAgent, 'ghost').tell('add', { n: 1 })
  t.equal(letters.length, 2)
  for (const dl of letters) t.match(dl.envelope.trace, { traceId: /^[0-9a-f]{32}$/, spanId: /^[0-9a-f]{16}$/ })
})
