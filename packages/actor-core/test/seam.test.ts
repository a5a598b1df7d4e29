// Two ActorSystems in one process, joined by a fake router that passes every envelope through
// cbor-x (as the wire would) and delivers it on the next turn: the cluster seam, without a cluster.
import { Encoder } from 'cbor-x'
import t from 'tap'
import { z } from 'zod'
import {
  ActorSystem, Agent, AgentNotFound, HandlerFailed, SchemaViolation, UnknownMessageType, message, protocol,
  type DeadLetter, type Envelope, type Handlers, type Payload,
} from '../src/index.js'
import { Counter, CounterAgent, until } from './fixtures.js'

const cbor = new Encoder({ useRecords: false })
const wire = (e: Envelope): Envelope => cbor.decode(cbor.encode(e)) as Envelope

interface Net { a: ActorSystem; b: ActorSystem; sent: Envelope[]; close(): Promise<void> }

/** Routes to whichever node hosts the target; replies go to the node named by replyTo. */
function net(options: { lie?: boolean } = {}): Net {
  const nodes: Record<string, ActorSystem> = { a: new ActorSystem({ name: 'a' }), b: new ActorSystem({ name: 'b' }) }
  const sent: Envelope[] = []
  for (const [name, system] of Object.entries(nodes)) {
    system.useRouter({
      route(e) {
        let target: ActorSystem | undefined
        if (e.kind === 'reply' || e.kind === 'fail') target = e.replyTo === undefined ? undefined : nodes[e.replyTo]
        else target = Object.entries(nodes).find(([n, s]) => n !== name && (options.lie === true || s.hosts(e.to)))?.[1]
        if (target === undefined) return false
        sent.push(e)
        const copy = wire(e)
        setImmediate(() => target.deliver(copy))
        return true
      },
    })
  }
  return { a: nodes['a']!, b: nodes['b']!, sent, close: async () => { await nodes['a']!.stop(); await nodes['b']!.stop() } }
}

t.test('tell and ask across the seam; envelopes carry guarantee, correlation id, replyTo, trace', async (t) => {
  const { a, b, sent, close } = net()
  t.teardown(close)
  b.spawn(CounterAgent, { id: 'remote' })
  const ref = a.ref(CounterAgent, 'remote')
  ref.tell('add', { n: 3 })
  t.equal(await ref.ask('get', {}), 3)
  const ask = sent.find((e) => e.kind === 'ask')!
  t.equal(ask.replyTo, 'a')
  t.same(ask.guarantee, ['reliable', 'fifo'])
  t.type(ask.correlationId, 'string')
  t.match(ask.trace, { traceId: /^[0-9a-f]{32}$/ })
  const reply = sent.find((e) => e.kind === 'reply')!
  t.equal(reply.correlationId, ask.correlationId)
  t.equal(reply.trace?.traceId, ask.trace?.traceId, 'the reply continues the trace')
  t.equal(reply.trace?.parentSpanId, ask.trace?.spanId)
})

t.test('a failing remote handler comes back as the same error class (fail envelope)', async (t) => {
  const { a, b, close } = net()
  t.teardown(close)
  b.spawn(CounterAgent, { id: 'r' })
  const err = await a.ref(CounterAgent, 'r').ask('boom', { why: 'far away' }).catch((e: unknown) => e)
  t.ok(err instanceof HandlerFailed)
  t.equal((err as HandlerFailed).message, 'far away')
  t.equal(await a.ref(CounterAgent, 'r').ask('get', {}), 0, 'the remote agent carries on')
})

t.test('AgentNotFound: no node hosts it (router refuses), or the node that got it does not', async (t) => {
  const { a, close } = net()
  t.teardown(close)
  const letters: DeadLetter[] = []
  a.deadLetters.on((dl) => letters.push(dl))
  await t.rejects(a.ref(CounterAgent, 'nowhere').ask('get', {}), AgentNotFound)
  t.equal(letters[0]?.reason, 'agent-not-found')
  const liar = net({ lie: true })
  t.teardown(liar.close)
  const bLetters: DeadLetter[] = []
  liar.b.deadLetters.on((dl) => bLetters.push(dl))
  await t.rejects(liar.a.ref(CounterAgent, 'nowhere').ask('get', {}), AgentNotFound, 'fail envelope from b')
  liar.a.ref(CounterAgent, 'nowhere').tell('add', { n: 1 })
  await until(() => bLetters.length === 2)
  t.same(bLetters.map((d) => d.reason), ['agent-not-found', 'agent-not-found'])
})

t.test('the boundary always validates: a bad remote payload never reaches the handler', async (t) => {
  const { a, b, close } = net()
  t.teardown(close)
  const target = b.spawn(CounterAgent, { id: 'v' })
  const agent = b.agentOf(target) as CounterAgent
  const letters: DeadLetter[] = []
  b.deadLetters.on((dl) => letters.push(dl))
  const ref = a.ref(CounterAgent, 'v')
  ref.tell('add', { n: 'not a number' } as unknown as { n: number })
  const err = await ref.ask('boom', { why: 42 } as unknown as { why: string }).catch((e: unknown) => e)
  t.ok(err instanceof SchemaViolation, 'ask rejected with SchemaViolation from the far side')
  t.ok(Array.isArray((err as SchemaViolation).details?.['issues']))
  t.equal(letters[0]?.reason, 'schema-violation')
  t.equal(agent.total, 0)
  ref.tell('add', { n: 1 })
  t.equal(await ref.ask('get', {}), 1, 'agent alive, later messages fine')
})

t.test('deliver: unknown type, unmatched reply, malformed fail; never throws', async (t) => {
  const { a, b, sent, close } = net()
  t.teardown(close)
  b.spawn(CounterAgent, { id: 'u' })
  const letters: DeadLetter[] = []
  b.deadLetters.on((dl) => letters.push(dl))
  b.deliver({ kind: 'ask', to: { type: 'counter', id: 'u' }, type: 'explode', payload: {}, guarantee: ['reliable'], correlationId: 'x-1', replyTo: 'a' })
  t.equal(letters[0]?.reason, 'unknown-type')
  t.ok(letters[0]?.error instanceof UnknownMessageType)
  await until(() => sent.some((e) => e.kind === 'fail' && e.correlationId === 'x-1'))
  const fail = sent.find((e) => e.kind === 'fail')!
  t.match(fail.payload, { code: 'UNKNOWN_MESSAGE_TYPE' })
  const aLetters: DeadLetter[] = []
  a.deadLetters.on((dl) => aLetters.push(dl))
  await until(() => aLetters.length === 1)
  t.equal(aLetters[0]!.reason, 'unmatched-reply', 'a had no such pending ask')
  b.deliver({ kind: 'reply', to: { type: 'x', id: 'y' }, type: 'get', payload: 1, guarantee: ['reliable'], correlationId: 'never' })
  t.equal(letters.at(-1)?.reason, 'unmatched-reply')
})

t.test('a remote reply that does not match the reply schema rejects the ask', async (t) => {
  const { a, b, close } = net()
  t.teardown(close)
  // b's "counter" answers 'get' with a string: a validates replies against its own protocol
  const Liar = protocol('counter', { ...Counter.messages, get: message(z.object({}), { reply: z.string() }) })
  class LiarAgent extends Agent<typeof Liar> implements Handlers<typeof Liar> {
    static protocol = Liar
    add(): void {}
    addSlow(): void {}
    get(): string { return 'many' }
    boom(): number { return 0 }
    log(): void {}
    who(): null { return null }
  }
  b.spawn(LiarAgent, { id: 'liar' })
  await t.rejects(a.ref(CounterAgent, 'liar').ask('get', {}), SchemaViolation)
})

t.test('this.sender across nodes: a remote agent answers its sender with tell', async (t) => {
  const P = protocol('pinger', {
    go: message(z.object({ to: z.string() })),
    pong: message(z.object({ n: z.number() })),
    got: message(z.object({}), { reply: z.number() }),
  })
  const Q = protocol('ponger', { ping: message(z.object({ n: z.number() })) })
  class Pinger extends Agent<typeof P> implements Handlers<typeof P> {
    static protocol = P
    last = 0
    go({ to }: Payload<typeof P, 'go'>): void { this.ref(Q, to).tell('ping', { n: 41 }) }
    pong({ n }: Payload<typeof P, 'pong'>): void { this.last = n }
    got(): number { return this.last }
  }
  class Ponger extends Agent<typeof Q> implements Handlers<typeof Q> {
    static protocol = Q
    ping({ n }: Payload<typeof Q, 'ping'>): void { this.sender!.tell('pong', { n: n + 1 }) }
  }
  const { a, b, close } = net()
  t.teardown(close)
  a.register(Pinger) // so b... and a know the class behind 'pinger'
  b.register(Pinger)
  const pinger = a.spawn(Pinger, { id: 'pi' })
  b.spawn(Ponger, { id: 'po' })
  pinger.tell('go', { to: 'po' })
  const agent = a.agentOf(pinger) as Pinger
  await until(() => agent.last === 42)
  t.equal(agent.last, 42)
})

t.test('hosts, localAgents, register/classOf', async (t) => {
  const { a, b, close } = net()
  t.teardown(close)
  b.spawn(CounterAgent, { id: 'h1' })
  b.spawn(CounterAgent, { id: 'h2' })
  t.same(b.localAgents(), [{ type: 'counter', id: 'h1' }, { type: 'counter', id: 'h2' }])
  t.ok(b.hosts({ type: 'counter', id: 'h1' }))
  t.notOk(a.hosts({ type: 'counter', id: 'h1' }))
  t.equal(a.classOf('counter'), undefined)
  a.register(CounterAgent)
  t.equal(a.classOf('counter'), CounterAgent)
})

t.test("validate: 'always' checks payloads before they leave through the router", async (t) => {
  const system = new ActorSystem({ name: 'n', validate: 'always' })
  const routed: Envelope[] = []
  system.useRouter({ route: (e) => { routed.push(e); return true } })
  t.teardown(() => system.stop())
  const far = system.ref(CounterAgent, 'far')
  t.throws(() => far.tell('add', { n: 'x' } as unknown as { n: number }), SchemaViolation)
  far.tell('add', { n: 1 })
  t.equal(routed.length, 1, 'only the valid one left')
  system.register(CounterAgent)
  t.throws(() => system.refOf({ type: 'counter', id: 'far' }).tell('nope', {}), UnknownMessageType, 'typed by the registered class')
})

t.test('a ref that found no local agent looks again once an agent is added here, and goes out again once it stops', async (t) => {
  const { a, b, sent, close } = net()
  t.teardown(close)
  b.spawn(CounterAgent, { id: 'moves' })
  const ref = a.ref(CounterAgent, 'moves')
  ref.tell('add', { n: 1 })
  ref.tell('add', { n: 2 })
  t.equal(sent.length, 2, 'both tells went out through the router (nothing hosted here)')
  // Another agent spawned here first: the ref must still go out (it is not this one).
  a.spawn(CounterAgent, { id: 'other' })
  ref.tell('add', { n: 4 })
  t.equal(sent.length, 3, 'an unrelated spawn here does not capture the ref')
  let total = 0
  for (const end = Date.now() + 5000; (total = await b.ref(CounterAgent, 'moves').ask('get', {})) !== 7 && Date.now() < end; ) await new Promise((r) => setTimeout(r, 5))
  t.equal(total, 7, 'the three tells reached the agent on b')
  // The agent now lives here too (as after a move): the same ref reaches it without the router.
  const here = a.spawn(CounterAgent, { id: 'moves' })
  const before = sent.length
  ref.tell('add', { n: 10 })
  t.equal(await here.ask('get', {}), 10, 'the tell reached the agent added here')
  t.equal(sent.length, before, 'and did not go through the router')
  await a.stop(here)
  ref.tell('add', { n: 100 })
  t.equal(sent.length, before + 1, 'once it stopped here, the ref goes out again')
})
