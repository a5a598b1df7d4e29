// Runs of tells (src/internal/run.ts) and their custody (src/internal/run-custody.ts): what goes
// on the wire as one array comes back as the tells that went in, each with its own custody id and
// fifo number; custody of a run's tells ends one by one.
import t from 'tap'
import { z } from 'zod'
import { ActorSystem, Agent, message, protocol, type Envelope, type Handlers, type Payload, type Router, type TraceContext } from '@murmur/actor-core'
import { pinned } from '../src/index.js'
import { MemoryCluster } from './helpers/cluster.js'
import { Counter, CounterAgent } from './helpers/agents.js'
import { isRun, joinRun, member, runSize, startRun, unpackRun, type Run } from '../src/internal/run.js'
import { TellCustody } from '../src/internal/run-custody.js'
import { InboundDictionary, OutboundDictionary } from '../src/internal/wire-dictionary.js'
import type { Routed } from '../src/internal/wire.js'
import type { OutStream } from '../src/internal/fifo-sender.js'

const Sink = protocol('sink', {
  hit: message(z.object({ n: z.number() }), { guarantee: ['reliable', 'fifo'] }),
  fast: message(z.object({ n: z.number() }), { guarantee: ['best-effort'] }),
})

/**
 * Tells from outside any agent, packed as the engine does: each envelope is routed synchronously
 * right after its trace is minted, which is when a run may take it.
 */
function pack(count: number, type: 'hit' | 'fast', opts: { custody?: boolean; flushes?: () => number; table?: TellCustody } = {}): { runs: Run[]; sent: Routed[] } {
  const runs: Run[] = []
  const sent: Routed[] = []
  let c = 100
  let seq = 1
  const dict = new OutboundDictionary(1)
  const f: OutStream = { key: 'k', next: 1, low: 1, doneAbove: undefined, via: undefined, hintFrom: Infinity }
  const router: Router = {
    route(e: Envelope): boolean {
      const w: Routed = type === 'hit' ? { e, o: 'node-a', h: 0, s: seq++, oi: 7, f } : { e, o: 'node-a', h: 0 }
      sent.push(w)
      const size = runSize(w, undefined)
      const custody = opts.custody === false ? undefined : (opts.table?.nextId ?? c)
      let last = runs[runs.length - 1]
      const flushes = opts.flushes?.() ?? 0
      if (last === undefined || last.flushes !== flushes || !joinRun(last, w, custody, size)) runs.push((last = startRun(w, dict, custody, size, flushes)))
      c++
      // As the engine holds them: the run once per tell, under the id `nextId` promised.
      opts.table?.holdRun(last, 'node-b')
      return true
    },
  }
  const system = new ActorSystem()
  system.useRouter(router)
  const ref = system.ref(Sink, 'sink-1')
  for (let i = 0; i < count; i++) ref.tell(type, { n: i })
  return { runs, sent }
}

t.test('a run carries its tells, each with its own custody id, fifo number and trace', async (t) => {
  const { runs, sent } = pack(300, 'hit')
  t.equal(runs.length, 2, 'at most 256 tells a run')
  t.equal(runs[0]?.n, 256)
  const back = runs.flatMap((r) => unpackRun(r.a, ['reliable', 'fifo'], new InboundDictionary(1), { nodeId: 'node-a', incarnation: 3 }) ?? [])
  t.equal(back.length, 300)
  let wrong = 0
  back.forEach((r, i) => {
    const w = sent[i] as Routed
    if (r.e.type !== 'hit' || r.e.kind !== 'tell' || (r.e.payload as { n: number }).n !== i) wrong++
    if (r.e.to.type !== 'sink' || r.e.to.id !== 'sink-1') wrong++
    if (r.e.trace?.traceId !== w.e.trace?.traceId || r.e.trace?.spanId !== w.e.trace?.spanId || r.e.trace?.parentSpanId !== undefined) wrong++
    if (r.s !== w.s || r.oi !== 7 || r.o !== 'node-a' || r.h !== 1) wrong++
    if (r.u?.n !== 'node-a' || r.u.i !== 3 || r.u.c !== 100 + i) wrong++
  })
  t.equal(wrong, 0, 'every tell as it was sent, released under its own id')
  t.ok(isRun(runs[0]?.a as unknown[]))
  const handedBack = unpackRun(runs[0]?.a as unknown[], ['reliable', 'fifo'], new OutboundDictionary(1))
  t.equal(handedBack?.[5]?.c, 105, 'handed back to its sender: the ids it holds the tells under')
})

t.test('best-effort tells: no custody ids, no numbers', async (t) => {
  const { runs } = pack(10, 'fast', { custody: false })
  t.equal(runs.length, 1)
  const back = unpackRun(runs[0]?.a as unknown[], ['best-effort'], new InboundDictionary(1), { nodeId: 'node-a', incarnation: 3 }) ?? []
  t.equal(back.length, 10)
  t.equal(back[3]?.u, undefined)
  t.equal(back[3]?.s, undefined)
})

t.test('a run ends where the transport flushed it', async (t) => {
  let flushes = 0
  let calls = 0
  const { runs } = pack(10, 'hit', { flushes: () => (calls++ === 4 ? ++flushes : flushes) })
  t.same(
    runs.map((r) => r.n),
    [4, 6],
    'the tell after a flush starts a new run',
  )
})

t.test('what cannot join a run goes alone', async (t) => {
  const e: Envelope = { kind: 'tell', to: { type: 'sink', id: 'x' }, type: 'hit', payload: { n: 1 }, guarantee: ['reliable', 'fifo'] }
  t.ok(runSize({ e, o: 'a', h: 0 }, undefined) > 0, 'a tell without trace may')
  t.equal(runSize({ e, o: 'a', h: 1 }, undefined), -1, 'forwarded: not a first hop')
  t.equal(runSize({ e, o: 'a', h: 0 }, 3), -1, 'with a low hint')
  t.equal(runSize({ e, o: 'a', h: 0, u: { n: 'b', i: 1, c: 1 } }, undefined), -1, 'with an upstream to release')
  t.equal(runSize({ e: { ...e, kind: 'ask', correlationId: 'c-1' }, o: 'a', h: 0 }, undefined), -1, 'an ask')
  t.equal(runSize({ e: { ...e, guarantee: ['reliable', 'causal'] }, o: 'a', h: 0 }, undefined), -1, 'causal')
  t.equal(runSize({ e: { ...e, trace: { traceId: 'a'.repeat(32), spanId: 'b'.repeat(16) } }, o: 'a', h: 0 }, undefined), -1, 'a trace not minted here just now')
  t.equal(runSize({ e: { ...e, payload: { s: 'x'.repeat(5000) } }, o: 'a', h: 0 }, undefined), -1, 'a big payload')
  t.equal(runSize({ e: { ...e, payload: new Map() }, o: 'a', h: 0 }, undefined), -1, 'a payload of a kind not estimated')
})

t.test('a malformed run delivers none of its tells', async (t) => {
  const { runs } = pack(5, 'hit')
  const a = runs[0]?.a as unknown[]
  const g = ['reliable', 'fifo'] as const
  const from = { nodeId: 'node-a', incarnation: 3 }
  t.equal(unpackRun(a, g, new InboundDictionary(1), from)?.length, 5, 'the run itself is fine')
  const bad = (i: number, v: unknown): unknown[] => a.map((x, j) => (j === i ? v : x))
  t.equal(unpackRun(bad(4, []), g, new InboundDictionary(1), from), undefined, 'no payloads')
  t.equal(unpackRun(bad(4, 'x'), g, new InboundDictionary(1), from), undefined, 'payloads not an array')
  t.equal(unpackRun(bad(7, 'x'), g, new InboundDictionary(1), from), undefined, 'custody id not a number')
  t.equal(unpackRun(bad(9, [1, 2]), g, new InboundDictionary(1), from), undefined, 'trace column of the wrong length')
  t.equal(unpackRun(bad(9, [1, 2, 3, 4, 5]), g, new InboundDictionary(1), from), undefined, 'counters out of range')
  t.equal(unpackRun(bad(12, -1), g, new InboundDictionary(1), from), undefined, 'a negative fifo number')
  t.equal(unpackRun(bad(1, 4000), g, new InboundDictionary(1), from), undefined, 'an id the receiver was never given')
  t.equal(unpackRun(a.slice(0, 20), g, new InboundDictionary(1), from), undefined, 'cut short')
})

t.test('custody of a run: released one by one, taken back whole, once', async (t) => {
  const custody = new TellCustody()
  const { runs, sent } = pack(6, 'hit', { table: custody })
  const run = runs[0] as Run
  t.equal(run.c0, 1)
  const plain = custody.hold(sent[0] as Routed, 'node-c')
  t.equal(plain, 7, 'ids go on in order')
  const done: number[] = []
  t.equal(custody.release(3, (_f, s) => done.push(s)), undefined, 'released to the fifo stream only')
  t.same(done, [3], 'its fifo number is done with')
  const whole = custody.release(4)
  t.equal((whole?.e.payload as { n: number }).n, 3, 'released whole: made again from the run')
  t.equal(whole?.e.trace?.traceId, sent[3]?.e.trace?.traceId)
  t.equal(whole?.e.trace?.spanId, sent[3]?.e.trace?.spanId)
  t.equal(whole?.s, sent[3]?.s)
  t.equal(custody.count('node-b'), 4)
  const back = custody.takeToward('node-b')
  t.same(
    back.map((w) => (w.e.payload as { n: number }).n),
    [0, 1, 4, 5],
    'node-b went down: every tell it still held, once each',
  )
  t.equal(back[0], run.first, 'the first is the original')
  t.same(back[2]?.e, sent[4]?.e, 'the others as they were sent')
  t.equal(custody.release(5), undefined, 'a release after the take is ignored')
  t.equal(custody.count(), 1)
  t.equal(member(run, 5).s, sent[5]?.s)
})

const Relay = protocol('relay', {
  go: message(z.object({ n: z.number(), to: z.string() }), { guarantee: ['reliable', 'fifo'] }),
})

/** Tells a counter `n` times from inside its handler: child spans of the handler's trace, one run. */
class RelayAgent extends Agent<typeof Relay> implements Handlers<typeof Relay> {
  static protocol = Relay
  go({ n, to }: Payload<typeof Relay, 'go'>) {
    const counter = this.ref(Counter, to)
    for (let i = 0; i < n; i++) counter.tell('add', { n: 1, seq: i })
  }
}

t.test('two nodes: bursts of tells travel as runs and arrive once each, in order, with their traces', async (t) => {
  const c = new MemoryCluster(7)
  t.teardown(() => c.close())
  const agents = [CounterAgent, RelayAgent]
  const a = await c.add('a', [], { agents })
  const b = await c.add('b', ['a'], { agents })
  await c.until(() => c.converged(), 'membership')
  await a.spawn(CounterAgent, { id: 'fresh', placement: pinned('b') })
  await a.spawn(CounterAgent, { id: 'child', placement: pinned('b') })
  await a.spawn(RelayAgent, { id: 'relay', placement: pinned('a') })
  const seen = new Map<string, TraceContext[]>()
  b.system.inspect((e) => {
    if (e.type === 'received' && e.messageType === 'add' && e.trace !== undefined) seen.set(e.agent.id, [...(seen.get(e.agent.id) ?? []), e.trace])
  })
  let go: TraceContext | undefined
  a.system.inspect((e) => {
    if (e.type === 'received' && e.agent.id === 'relay') go = e.trace
  })
  const fresh = a.ref(CounterAgent, 'fresh')
  for (let i = 0; i < 600; i++) fresh.tell('add', { n: 1, seq: i })
  a.ref(RelayAgent, 'relay').tell('go', { n: 300, to: 'child' })
  const all = (id: string, n: number) => async () => (await a.ref(Counter, id).ask('get', {}, { timeout: 5000 })).total === n
  for (const [id, n] of [['fresh', 600], ['child', 300]] as const) {
    const end = Date.now() + 20_000
    while (!(await all(id, n)()) && Date.now() < end) await new Promise((r) => setTimeout(r, 20))
    const { seqs } = await a.ref(Counter, id).ask('get', {}, { timeout: 5000 })
    t.same(seqs, [...Array(n).keys()], `${id}: every tell once, in order`)
  }
  t.equal(b.metrics().malformed, 0)
  const freshTraces = seen.get('fresh') ?? []
  t.equal(new Set(freshTraces.map((x) => x.traceId)).size, 600, 'a new trace per tell from outside any agent')
  t.ok(freshTraces.every((x) => x.parentSpanId === undefined && x.traceId.length === 32 && x.spanId.length === 16 && x.traceId.endsWith(x.spanId.slice(8))), 'ids whole')
  const childTraces = seen.get('child') ?? []
  t.equal(childTraces.length, 300)
  t.ok(go !== undefined && childTraces.every((x) => x.traceId === go?.traceId && x.parentSpanId === go?.spanId), "child spans of the relay's message")
  t.equal(new Set(childTraces.map((x) => x.spanId)).size, 300, 'each its own span')
})
