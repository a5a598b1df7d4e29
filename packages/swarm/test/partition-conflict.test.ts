import t from 'tap'
import { createMemoryTransport, type Transport, type TransportEvents, type PeerInfo } from '@murmur/transport'
import { MemoryCluster, SECRET } from './helpers/cluster.js'
import { TallyAgent, PlainAgent, LockAgent, MemberAgent } from './helpers/partition-agents.js'

// Regressions for the heal race seen with 5 processes under load: a peer forgot this node in a
// membership flap right after the heal, its session ended, and the transport handed back what it
// had not acknowledged. The engine re-routed agent envelopes only and dropped the rest, so
// (1) a handoff's activation was lost: the move hung for the activation timeout holding the
// agent's only state, a conflict's state was restored in its place, and the late failure dropped
// the moving state; (2) a conflict message (the loser's only state) was lost.

const AGENTS = [TallyAgent, PlainAgent, LockAgent, MemberAgent]

type Lose = (to: string, payload: unknown) => boolean

/**
 * A memory transport that, for the first message matching `lose`, does what a transport does when
 * the session ends before the peer acknowledged it: the message never arrives (or, with
 * `arrives`, it does and only its ack is lost), and `peer-down` hands it back as unacknowledged
 * (the session comes straight back up, as after a flap).
 */
function losingTransport(c: MemoryCluster, nodeId: string, lose: Lose, arrives = false): Transport {
  const inner = createMemoryTransport(c.net, { nodeId, cluster: 'test', secret: SECRET, channels: { default: { parallelism: 1 } } })
  const downs: ((d: TransportEvents['peer-down']) => void)[] = []
  const ups: ((p: PeerInfo) => void)[] = []
  let armed = true
  return new Proxy(inner, {
    get(target, prop) {
      if (prop === 'on') {
        return (event: keyof TransportEvents, listener: (d: never) => void) => {
          if (event === 'peer-down') downs.push(listener as (d: TransportEvents['peer-down']) => void)
          if (event === 'peer-up') ups.push(listener as (p: PeerInfo) => void)
          return target.on(event, listener)
        }
      }
      if (prop === 'send') {
        return (to: string, payload: unknown, options?: { channel?: string; guarantee?: readonly string[]; key?: string }) => {
          if (!armed || !lose(to, payload)) return target.send(to, payload, options as Parameters<Transport['send']>[2])
          armed = false
          if (arrives) target.send(to, payload, options as Parameters<Transport['send']>[2])
          const peer = target.peers().find((p) => p.nodeId === to) ?? { nodeId: to, incarnation: 0, address: '' }
          const unacknowledged = [{ channel: options?.channel ?? 'default', guarantee: (options?.guarantee ?? ['reliable']) as never, payload }]
          queueMicrotask(() => {
            for (const l of downs) l({ peer, reason: 'the peer lost the session (it forgot this node)', unacknowledged })
            for (const l of ups) l(peer)
          })
          return true
        }
      }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
}

const kindOf = (payload: unknown) => (typeof payload === 'object' && payload !== null ? (payload as { k?: unknown; s?: unknown }) : {})
const isMove = (_to: string, p: unknown) => kindOf(p).k === 'a' && (p as { a: { restored: boolean; type: string } }).a.restored && (p as { a: { type: string } }).a.type === 'tally'
const isConflict = (_to: string, p: unknown) => kindOf(p).k === 'x' && kindOf(p).s === 'cf' && (p as { m: { type: string } }).m.type === 'tally'

// The memory network's clock is virtual and runs as fast as events do: a lost activation must be
// noticed without its timeout, which is set out of reach here (a day of virtual time).
async function node(c: MemoryCluster, id: string, seeds: string[], lose: Lose, arrives = false) {
  return c.add(id, seeds, { agents: AGENTS, transport: losingTransport(c, id, lose, arrives), timings: { activationTimeout: 86_400_000 }, serviceTimings: { reconnect: 500 } })
}

t.test('a move whose activation the ended session handed back comes back at once, state intact', async (t) => {
  const c = new MemoryCluster(61)
  t.teardown(() => c.close())
  const a = await node(c, 'a', [], isMove)
  const names = Array.from({ length: 8 }, (_, i) => `m-${i}`)
  for (const n of names) await a.spawn(TallyAgent, { id: n })
  for (const n of names) a.ref(TallyAgent, n).tell('add', { tag: 'kept' })
  for (const n of names) t.same((await a.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })).tags, ['kept'])
  // b joins: the agents whose home it is move there; the first move's activation is lost.
  await node(c, 'b', ['a'], () => false)
  await c.until(() => c.converged(), 'membership')
  // Before: the lost move held its agent nowhere until the activation timeout.
  await c.until(() => names.every((n) => c.hosts(n, 'tally').length === 1), 'every agent running again, without waiting for the activation timeout', 10_000)
  const b = c.nodes.get('b')!
  await c.until(() => names.every((n) => b.find(n, 'tally')?.node === c.hosts(n, 'tally')[0]), 'b\'s directory')
  for (const n of names) t.same((await b.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })).tags, ['kept'], `${n}: state kept across the lost move`)
  t.ok(names.some((n) => c.hosts(n, 'tally')[0] === 'b'), 'some agents moved to b')
})

const isSpawn = (_to: string, p: unknown) => kindOf(p).k === 'a' && !(p as { a: { restored: boolean } }).a.restored

t.test('a remote spawn whose activation the ended session handed back fails at once, not after the activation timeout', async (t) => {
  const c = new MemoryCluster(62)
  t.teardown(() => c.close())
  const a = await node(c, 'a', [], isSpawn)
  await node(c, 'b', ['a'], () => false)
  await c.until(() => c.converged(), 'membership')
  const { pinned } = await import('../src/index.js')
  const started = Date.now()
  await t.rejects(a.spawn(TallyAgent, { id: 'far', placement: pinned('b') }), { code: 'SPAWN_FAILED', message: /not acknowledged before the session ended/ }, 'the first activation was handed back: SpawnFailed for that reason, not a timeout')
  t.ok(Date.now() - started < 5000, `at once (${Date.now() - started} ms real; the activation timeout is a virtual day here)`)
  await a.spawn(TallyAgent, { id: 'far', placement: pinned('b') })
  await c.until(() => c.hosts('far', 'tally')[0] === 'b', 'a second spawn runs it on b')
  t.same(c.hosts('far', 'tally'), ['b'])
})

t.test('a conflict the ended session handed back is sent again: the winner merges the loser', async (t) => {
  const c = new MemoryCluster(71)
  t.teardown(() => c.close())
  const a = await node(c, 'a', [], isConflict)
  const b = await node(c, 'b', ['a'], isConflict)
  await c.until(() => c.converged(), 'membership')
  const names = Array.from({ length: 8 }, (_, i) => `c-${i}`)
  for (const n of names) await a.spawn(TallyAgent, { id: n })
  await c.until(() => names.every((n) => a.find(n, 'tally') && b.find(n, 'tally')), 'directories')
  t.ok(new Set(names.map((n) => c.hosts(n, 'tally')[0])).size === 2, 'agents on both nodes')
  c.net.partition(['a'], ['b'])
  await c.until(() => c.view('a').join() === 'a' && c.view('b').join() === 'b', 'each side alone')
  for (const [tag, n0] of [['L', a], ['R', b]] as const) for (const n of names) n0.ref(TallyAgent, n).tell('add', { tag })
  await c.until(() => names.every((n) => c.hosts(n, 'tally').length === 2), 'every agent on both sides')
  for (const [tag, n0] of [['L', a], ['R', b]] as const) {
    for (const n of names) t.same((await n0.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })).tags, [tag], `${n}: ${tag} on its side`)
  }
  c.net.heal()
  await c.until(() => c.converged(), 'membership after the heal', 30_000)
  await c.until(() => names.every((n) => c.hosts(n, 'tally').length === 1), 'one activation each', 30_000)
  const merged = async () => (await Promise.all(names.map((n) => a.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })))).every((r) => r.tags.length === 2)
  for (let end = Date.now() + 10_000; !(await merged()) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20))
  for (const n of names) t.same((await b.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })).tags, ['L', 'R'], `${n}: both sides' tags (the handed-back conflict was merged)`)
})

t.test('a conflict that arrived but whose ack was lost is sent again, and merged once', async (t) => {
  const c = new MemoryCluster(72)
  t.teardown(() => c.close())
  const a = await node(c, 'a', [], isConflict, true)
  const b = await node(c, 'b', ['a'], isConflict, true)
  await c.until(() => c.converged(), 'membership')
  const names = Array.from({ length: 8 }, (_, i) => `d-${i}`)
  for (const n of names) await a.spawn(TallyAgent, { id: n })
  await c.until(() => names.every((n) => a.find(n, 'tally') && b.find(n, 'tally')), 'directories')
  c.net.partition(['a'], ['b'])
  await c.until(() => c.view('a').join() === 'a' && c.view('b').join() === 'b', 'each side alone')
  for (const [tag, n0] of [['L', a], ['R', b]] as const) for (const n of names) n0.ref(TallyAgent, n).tell('add', { tag })
  await c.until(() => names.every((n) => c.hosts(n, 'tally').length === 2), 'every agent on both sides')
  c.net.heal()
  await c.until(() => c.converged(), 'membership after the heal', 30_000)
  await c.until(() => names.every((n) => c.hosts(n, 'tally').length === 1), 'one activation each', 30_000)
  const sum = (k: string) => a.metrics()[k]! + b.metrics()[k]!
  await c.until(() => sum('conflictsMerged') + sum('conflictsRepeated') >= sum('conflicts') + 1 && sum('conflicts') >= 8, 'every conflict handled, the repeated one too', 20_000)
  t.ok(sum('conflictsRepeated') >= 1, `the copy sent again was recognised (${sum('conflictsRepeated')})`)
  t.equal(sum('conflictsMerged'), sum('conflicts'), `each of the ${sum('conflicts')} conflicts merged exactly once`)
  for (const n of names) t.same((await b.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })).tags, ['L', 'R'], `${n}: both sides' tags`)
})
