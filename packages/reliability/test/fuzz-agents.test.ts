import t from 'tap'
import { createMemoryNetwork, createMemoryTransport, type InboundMessage, FrameTooLarge, type TransportError } from '@murmur/transport'
import type { DeadLetter } from '@murmur/actor-core'
import { Swarm } from '@murmur/swarm'
import { Tally, TallyAgent } from '../src/index.js'
import { until } from '../src/fuzz/legit-stream.js'

/**
 * Bad input at the agent level, from a compromised node (it knows the secret and speaks the
 * swarm's envelope format): payloads that fail their schema, unknown message types, unknown
 * agents, oversized messages, garbage control messages. Each gets its typed error (a `fail`
 * reply for asks, a dead letter for tells, a transport error for the oversized one), and a
 * legitimate node's reliable stream to the same agent loses nothing.
 */
const SECRET = 'agents-secret'

t.test('agent-level bad input through a swarm node', async (t) => {
  const net = createMemoryNetwork({ seed: 3, traceLimit: 0 })
  net.autoRun()
  const transport = (id: string, extra: object = {}) =>
    createMemoryTransport(net, { nodeId: id, cluster: 'c', secret: SECRET, channels: { default: { parallelism: 1 } }, ...extra })
  const a = await Swarm.start({ port: 0, secret: SECRET, agents: [TallyAgent], transport: transport('a', { maxMessageSize: 256 << 10 }), clock: net.clockFor('a') })
  const b = await Swarm.start({ port: 0, secret: SECRET, seeds: ['a'], agents: [TallyAgent], transport: transport('b'), clock: net.clockFor('b') })
  const evil = transport('evil')
  t.teardown(async () => {
    await evil.stop().catch(() => {})
    await b.transport.stop().catch(() => {})
    await a.transport.stop().catch(() => {})
    net.stop()
  })
  await until(() => a.members().filter((m) => m.status === 'alive').length === 2, 10_000)
  await a.spawn(TallyAgent, { id: 'victim' })
  const home = a.system.hosts({ type: 'tally', id: 'victim' }) ? a : b
  const dead: DeadLetter[] = []
  home.system.deadLetters.on((d) => dead.push(d))
  const errors: TransportError[] = []
  home.transport.on('error', (e) => errors.push(e.error))

  await evil.start()
  // Both nodes: an ask for an agent that is nowhere may be answered by the node placement names.
  await evil.connect('a')
  await evil.connect('b')
  const replies: unknown[][] = []
  evil.onMessage((m: InboundMessage) => {
    if (Array.isArray(m.payload)) replies.push(m.payload)
  })
  // The envelope layout of @murmur/swarm's internal/wire.ts:
  // [kind, toType, toId, type, payload, origin, hops, custody, traceHead, traceTail, spanHead, spanTail,
  // seq, originIncarnation, correlationHead, correlationTail, replyTo]; strings travel inline until the
  // receiver confirms their dictionary ids, and this peer never does.
  const ask = (corr: string, toId: string, type: string, payload: unknown) => evil.send(home.nodeId, [1, 'tally', toId, type, payload, 'evil', 0, null, null, null, null, null, null, null, '', corr, 'evil'], { guarantee: ['reliable'] })
  const tell = (toId: string, type: string, payload: unknown) => evil.send(home.nodeId, [0, 'tally', toId, type, payload, 'evil', 0], { guarantee: ['reliable'] })

  // A legitimate stream from the other node, interleaved with everything below.
  let sent = 0
  const stream = (n: number) => {
    for (let i = 0; i < n; i++) (home === a ? b : a).ref(Tally, 'victim').tell('add', { stream: 'legit', seq: sent++ })
  }
  stream(50)
  ask('q1', 'victim', 'add', { stream: 5, seq: -1 })
  ask('q2', 'victim', 'no-such-type', {})
  ask('q3', 'nobody-here', 'add', { stream: 'x', seq: 1 })
  stream(50)
  tell('victim', 'add', { seq: 'not a number' })
  tell('victim', 'launch-missiles', {})
  for (const garbage of [{ k: 'm', m: { nonsense: true } }, { k: 'd', e: [{ bad: 1 }] }, { k: 'ae', d: 'x' }, { k: 'aer', e: 5, b: null }, { k: 'a', c: 'x', a: {} }, { k: 'zz' }, [9, 9], [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16], 'text', null]) {
    evil.send(home.nodeId, garbage, { guarantee: ['reliable'] })
  }
  stream(50)
  evil.send(home.nodeId, [0, 'tally', 'victim', 'add', { stream: 'big', seq: 0, pad: 'x'.repeat(1 << 20) }, 'evil', 0], { guarantee: ['best-effort'] })
  stream(50)

  const codeOf = (corr: string) => {
    const r = replies.find((p) => `${p[14]}${p[15]}` === corr)
    return r === undefined ? undefined : (r[4] as { code?: string }).code
  }
  await until(() => replies.length >= 3 && dead.length >= 2 && errors.some((e) => e instanceof FrameTooLarge), 15_000)
  t.equal(codeOf('q1'), 'SCHEMA_VIOLATION', 'an ask with a payload that fails its schema: SchemaViolation')
  t.equal(codeOf('q2'), 'UNKNOWN_MESSAGE_TYPE', 'an ask of an unknown type: UnknownMessageType')
  t.equal(codeOf('q3'), 'AGENT_NOT_FOUND', 'an ask to an agent that exists nowhere: AgentNotFound')
  t.ok(dead.some((d) => d.reason === 'schema-violation' && d.envelope.kind === 'tell'), 'a tell that fails its schema is dead-lettered with a SchemaViolation')
  t.ok(dead.some((d) => d.reason === 'unknown-type' && d.envelope.kind === 'tell'), 'a tell of an unknown type is dead-lettered')
  t.ok(errors.some((e) => e instanceof FrameTooLarge), 'a message over maxMessageSize: FrameTooLarge at the transport')
  t.equal(home.members().filter((m) => m.status === 'alive').length, 2, 'garbage control messages made nobody a member and nobody dead')
  const seen = await (home === a ? b : a).ref(Tally, 'victim').ask('seen', {}, { timeout: 5000 })
  t.same(seen.legit, [...Array(sent).keys()], `the legitimate stream: all ${sent} messages, once, in order`)
  t.notOk('big' in seen, 'the oversized message never reached the agent')
  t.notOk('5' in seen || 'x' in seen, 'no invalid payload reached the agent')
})
