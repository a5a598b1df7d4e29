// Streams (`ref.stream` → `onStream`): in one system, and between two systems joined by a router
// that passes every envelope through cbor-x on the next turn (the cluster seam without a cluster).
import { Encoder } from 'cbor-x'
import t from 'tap'
import { z } from 'zod'
import {
  ActorSystem, Agent, AgentNotFound, AgentStopped, HandlerFailed, SchemaViolation, StreamAborted, StreamCancelled,
  StreamBroken, StreamRefused, UnknownMessageType, message, protocol, type Envelope, type Handlers, type InboundStream, type Payload,
} from '../src/index.js'
import { CounterAgent, until } from './fixtures.js'

const Sink = protocol('sink', {
  num: message(z.object({ n: z.number() })),
  chunk: message(z.object({ data: z.instanceof(Uint8Array) })),
  got: message(z.object({}), { reply: z.array(z.number()) }),
})
type S = typeof Sink

/** What every sink saw, by id, for the tests to read (agents are created by spawn). */
interface Seen {
  items: number[]
  error?: unknown
  sender?: string | undefined
  /** Called after each consumed item; may wait (a slow consumer) or return 'break'. */
  step?: (n: number) => Promise<unknown> | unknown
}
const seen = new Map<string, Seen>()
const seenOf = (id: string): Seen => {
  let s = seen.get(id)
  if (s === undefined) seen.set(id, (s = { items: [] }))
  return s
}

class SinkAgent extends Agent<S> implements Handlers<S> {
  static protocol = Sink
  num({ n }: Payload<S, 'num'>): void {
    seenOf(this.id).items.push(n)
  }
  chunk(): void {}
  got(): number[] {
    return seenOf(this.id).items
  }
  override async onStream(s: InboundStream<S>): Promise<void> {
    const mine = seenOf(this.id)
    mine.sender = this.sender?.id
    if (s.type !== 'num') return
    try {
      for await (const { n } of s.items) {
        mine.items.push(n)
        if ((await mine.step?.(n)) === 'break') break
      }
    } catch (error) {
      mine.error = error
    }
  }
}

/** A source that counts what was pulled from it and notes whether it was closed. */
function counted(n: number, bad?: number) {
  const state = { pulled: 0, closed: false }
  async function* gen() {
    try {
      for (let i = 0; i < n; i++) {
        state.pulled++
        yield i === bad ? { n: 'not a number' as unknown as number } : { n: i }
      }
    } finally {
      state.closed = true
    }
  }
  return { state, source: gen() }
}

const range = (n: number) => [...Array(n).keys()]

t.test('local: every item arrives once, in order; the promise resolves once all were consumed', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const sink = system.spawn(SinkAgent, { id: 'l1' })
  const { state, source } = counted(500)
  await sink.stream('num', source)
  t.same(seenOf('l1').items, range(500))
  t.equal(state.pulled, 500)
  t.equal(seenOf('l1').error, undefined)
})

t.test('local: a plain iterable works as a source, and a stream from inside an agent has it as sender', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const sink = system.spawn(SinkAgent, { id: 'l2' })
  await sink.stream('num', range(20).map((n) => ({ n })), { credit: 3 })
  t.same(seenOf('l2').items, range(20))

  const Pump = protocol('pump', { go: message(z.object({ to: z.string() }), { reply: z.literal('ok') }) })
  class PumpAgent extends Agent<typeof Pump> implements Handlers<typeof Pump> {
    static protocol = Pump
    async go({ to }: Payload<typeof Pump, 'go'>): Promise<'ok'> {
      await this.ref(SinkAgent, to).stream('num', [{ n: 7 }, { n: 8 }])
      return 'ok'
    }
  }
  system.spawn(SinkAgent, { id: 'l3' })
  const pump = system.spawn(PumpAgent, { id: 'p1' })
  t.equal(await pump.ask('go', { to: 'l3' }), 'ok')
  t.same(seenOf('l3').items, [7, 8])
  t.equal(seenOf('l3').sender, 'p1', 'this.sender in onStream is the streaming agent')
})

t.test('local: a slow receiver never holds more than the credit, while the sender offers 1,000 items', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const sink = system.spawn(SinkAgent, { id: 'slow' })
  const { state, source } = counted(1000)
  const credit = 8
  let most = 0
  seenOf('slow').step = async (n) => {
    // pulled but not yet consumed = in flight + buffered at the receiver
    most = Math.max(most, state.pulled - (n + 1))
    if (n % 50 === 0) await new Promise((r) => setTimeout(r, 2))
    else await new Promise((r) => setImmediate(r))
  }
  await sink.stream('num', source, { credit })
  t.same(seenOf('slow').items, range(1000))
  t.ok(most <= credit, `at most ${most} items ahead of the consumer (credit ${credit})`)
  t.ok(most >= credit / 2, `the window is used (${most} ahead)`)
})

t.test('local: the receiver breaks out: the sender gets StreamCancelled and stops pulling its source', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const sink = system.spawn(SinkAgent, { id: 'brk' })
  seenOf('brk').step = (n) => (n === 9 ? 'break' : undefined)
  const { state, source } = counted(1000)
  await t.rejects(sink.stream('num', source, { credit: 4 }), StreamCancelled)
  t.same(seenOf('brk').items, range(10))
  await until(() => state.closed)
  t.ok(state.pulled <= 10 + 4, `the source was pulled ${state.pulled} times, no more than consumed + credit`)
  t.ok(state.closed, "the source's finally ran")
})

t.test('local: the sender aborts: the receiver iterator throws StreamAborted, the promise rejects', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const sink = system.spawn(SinkAgent, { id: 'abt' })
  const ac = new AbortController()
  seenOf('abt').step = (n) => {
    if (n === 5) ac.abort()
  }
  const { state, source } = counted(1000)
  await t.rejects(sink.stream('num', source, { signal: ac.signal, credit: 4 }), StreamAborted)
  await until(() => seenOf('abt').error !== undefined)
  t.ok(seenOf('abt').error instanceof StreamAborted, 'the iterator threw StreamAborted')
  t.ok(state.closed && state.pulled <= 6 + 4, `the source stopped (${state.pulled} pulled)`)
  const pre = new AbortController()
  pre.abort()
  await t.rejects(sink.stream('num', [{ n: 1 }], { signal: pre.signal }), StreamAborted, 'an aborted signal rejects at once')
})

t.test('local: an item that fails its schema: the items before it arrive, both ends get SchemaViolation', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const sink = system.spawn(SinkAgent, { id: 'bad' })
  const { state, source } = counted(100, 3)
  const err = await sink.stream('num', source, { credit: 2 }).catch((e: unknown) => e)
  t.ok(err instanceof SchemaViolation, 'the sender gets SchemaViolation')
  t.match((err as SchemaViolation).details, { index: 3 })
  await until(() => seenOf('bad').error !== undefined)
  t.same(seenOf('bad').items, [0, 1, 2], 'nothing accepted before the bad item is lost')
  t.ok(seenOf('bad').error instanceof SchemaViolation, 'the iterator throws SchemaViolation')
  await until(() => state.closed)
  t.ok(state.pulled < 100, 'the source stopped being pulled')
})

t.test('local: unknown agent, unknown type, an agent without onStream, bad credit', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  await t.rejects(system.ref(SinkAgent, 'nobody').stream('num', [{ n: 1 }]), AgentNotFound)
  const sink = system.spawn(SinkAgent, { id: 'x' })
  await t.rejects(sink.stream('nope' as 'num', [{ n: 1 }]), UnknownMessageType)
  const counter = system.spawn(CounterAgent, { id: 'c' })
  counter.tell('add', { n: 5 })
  const restarted: unknown[] = []
  system.inspect((e) => (e.type === 'restarted' || e.type === 'failed') && restarted.push(e))
  await t.rejects(counter.stream('add', [{ n: 1 }]), StreamRefused)
  await t.rejects(sink.stream('num', [{ n: 1 }], { credit: 0 }), RangeError)
  t.equal(await counter.ask('get', {}), 5, 'the refusing agent goes on working, state intact')
  t.same(restarted, [], 'a refused stream is no failure of the agent')
})

t.test('local: the receiver stops mid-stream: AgentStopped; a failing onStream fails the stream', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const sink = system.spawn(SinkAgent, { id: 'stp' })
  seenOf('stp').step = (n) => (n === 3 ? new Promise((r) => setTimeout(r, 30)) : undefined) // busy with item 3
  const p = sink.stream('num', counted(100).source, { credit: 4 })
  await until(() => seenOf('stp').items.length === 4)
  const stopped = system.stop(sink)
  await t.rejects(p, AgentStopped)
  await stopped
  t.ok(seenOf('stp').error instanceof AgentStopped, "the agent's iterator ends with AgentStopped, so its stop does not wait for the stream")

  const Boom = protocol('boom', { x: message(z.object({ n: z.number() })) })
  class BoomAgent extends Agent<typeof Boom> implements Handlers<typeof Boom> {
    static protocol = Boom
    x(): void {}
    override async onStream(s: InboundStream<typeof Boom>): Promise<void> {
      for await (const { n } of s.items) if (n === 2) throw new Error('no twos')
    }
  }
  const boom = system.spawn(BoomAgent, { id: 'b' })
  await t.rejects(boom.stream('x', range(10).map((n) => ({ n }))), HandlerFailed)
})

// ---- across a router ---------------------------------------------------------------------------

const cbor = new Encoder({ useRecords: false })

/** Two systems; every envelope is routed to the other one through cbor-x, on the next turn. */
function pair(drop: (e: Envelope) => boolean = () => false, late: (e: Envelope) => number = () => 0, twice: (e: Envelope) => boolean = () => false) {
  const streams = { probeEvery: 40, giveUpAfter: 400 }
  const nodes: Record<string, ActorSystem> = { a: new ActorSystem({ name: 'a', streams }), b: new ActorSystem({ name: 'b', streams }) }
  const wire: Envelope[] = []
  for (const [name, system] of Object.entries(nodes)) {
    system.useRouter({
      route(e) {
        const target = e.kind === 'reply' || e.kind === 'fail'
          ? (e.replyTo === undefined ? undefined : nodes[e.replyTo])
          : Object.entries(nodes).find(([n, s]) => n !== name && s.hosts(e.to))?.[1]
        if (target === undefined) return false
        wire.push(e)
        if (drop(e)) return true // lost on the way
        const copy = cbor.decode(cbor.encode(e)) as Envelope
        const ms = late(e)
        if (ms > 0) setTimeout(() => target.deliver(copy), ms)
        else setImmediate(() => target.deliver(copy))
        if (twice(e)) setTimeout(() => target.deliver(cbor.decode(cbor.encode(e)) as Envelope), 5)
        return true
      },
    })
  }
  return { a: nodes['a']!, b: nodes['b']!, wire, close: () => Promise.all([nodes['a']!.stop(), nodes['b']!.stop()]) }
}

t.test('seam: a stream crosses the router as envelopes; credit bounds the frames in flight', async (t) => {
  const { a, b, wire, close } = pair()
  t.teardown(close)
  b.spawn(SinkAgent, { id: 'r1' })
  const { state, source } = counted(300)
  let most = 0
  seenOf('r1').step = async (n) => {
    most = Math.max(most, state.pulled - (n + 1))
    if (n % 25 === 0) await new Promise((r) => setTimeout(r, 1))
  }
  await a.ref(SinkAgent, 'r1').stream('num', source, { credit: 10 })
  t.same(seenOf('r1').items, range(300))
  t.ok(most <= 10, `at most ${most} items ahead of the consumer`)
  const grants = wire.filter((e) => e.kind === 'reply').length
  t.ok(grants < 300 / 2, `credit is granted in batches (${grants} reply frames for 300 items)`)
})

t.test('seam: chunks of bytes arrive intact; bad items, unknown agents and cancellation cross nodes as typed errors', async (t) => {
  const { a, b, close } = pair()
  t.teardown(close)
  const Bytes = protocol('bytes', { chunk: message(z.object({ data: z.instanceof(Uint8Array) })) })
  let total = 0
  let sum = 0
  class BytesAgent extends Agent<typeof Bytes> implements Handlers<typeof Bytes> {
    static protocol = Bytes
    chunk(): void {}
    override async onStream(s: InboundStream<typeof Bytes>): Promise<void> {
      for await (const { data } of s.items) {
        total += data.byteLength
        for (const x of data) sum += x
      }
    }
  }
  b.spawn(BytesAgent, { id: 'bytes' })
  const chunks = range(8).map((i) => ({ data: new Uint8Array(64 * 1024).fill(i + 1) }))
  await a.ref(BytesAgent, 'bytes').stream('chunk', chunks, { credit: 2 })
  t.equal(total, 8 * 64 * 1024)
  t.equal(sum, 64 * 1024 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8), 'every byte arrived')

  b.spawn(SinkAgent, { id: 'r2' })
  await t.rejects(a.ref(SinkAgent, 'r2').stream('num', counted(50, 7).source), SchemaViolation)
  await until(() => seenOf('r2').error !== undefined)
  t.same(seenOf('r2').items, range(7))
  await t.rejects(a.ref(SinkAgent, 'ghost').stream('num', [{ n: 1 }]), AgentNotFound)
  b.spawn(SinkAgent, { id: 'r3' })
  seenOf('r3').step = (n) => (n === 4 ? 'break' : undefined)
  await t.rejects(a.ref(SinkAgent, 'r3').stream('num', counted(1000).source), StreamCancelled)
  t.same(seenOf('r3').items, range(5))
})

t.test('seam: items wait for the flow control the cluster plugged in (useFlowControl)', async (t) => {
  const { a, b, close } = pair()
  t.teardown(close)
  b.spawn(SinkAgent, { id: 'r4' })
  let open = false
  let asked = 0
  let release: () => void = () => {}
  a.useFlowControl({
    ready: (to) => {
      asked++
      t.equal(to.id, 'r4')
      return open ? undefined : new Promise<void>((r) => { release = r })
    },
  })
  const p = a.ref(SinkAgent, 'r4').stream('num', range(5).map((n) => ({ n })))
  await until(() => asked > 0)
  await new Promise((r) => setTimeout(r, 20))
  t.same(seenOf('r4').items, [], 'no item left while the way was full')
  open = true
  release()
  await p
  t.same(seenOf('r4').items, range(5), 'all items once there was room')
})

t.test('seam: a lost grant or a lost done is repaired by a probe; lost items or a gone receiver end in StreamBroken', async (t) => {
  const kind = (e: Envelope) => (Array.isArray(e.payload) ? e.payload[0] : undefined)
  let grants = 0
  let dones = 0
  const lossy = pair((e) => {
    if (e.kind !== 'reply') return false
    if (kind(e) === 4 && ++grants === 3) return true // the third grant
    return kind(e) === 5 && ++dones === 1 // the first done
  })
  t.teardown(lossy.close)
  lossy.b.spawn(SinkAgent, { id: 'r5' })
  await lossy.a.ref(SinkAgent, 'r5').stream('num', range(40).map((n) => ({ n })), { credit: 4 })
  t.same(seenOf('r5').items, range(40), 'all items, although a grant and the done were lost')
  t.ok(lossy.wire.some((e) => kind(e) === 7), 'the sender probed')

  let items = 0
  const holes = pair((e) => e.kind === 'tell' && kind(e) === 1 && ++items === 6)
  t.teardown(holes.close)
  holes.b.spawn(SinkAgent, { id: 'r6' })
  await t.rejects(holes.a.ref(SinkAgent, 'r6').stream('num', range(40).map((n) => ({ n })), { credit: 4 }), StreamBroken)
  await until(() => seenOf('r6').error !== undefined)
  t.ok(seenOf('r6').error instanceof StreamBroken, 'the receiver learns the stream broke')
  t.same(seenOf('r6').items, range(5), 'it got what came before the hole')

  const gone = pair((e) => e.kind !== 'ask' || kind(e) !== 0) // only the open gets through
  t.teardown(gone.close)
  gone.b.spawn(SinkAgent, { id: 'r7' })
  const t0 = Date.now()
  await t.rejects(gone.a.ref(SinkAgent, 'r7').stream('num', [{ n: 1 }]), StreamBroken)
  t.ok(Date.now() - t0 >= 350, 'after the silence it is allowed')
  await until(() => seenOf('r7').error !== undefined)
  t.ok(seenOf('r7').error instanceof StreamBroken, "the receiver's consumer does not wait for ever either")
})

t.test('seam: a slow source and a slow consumer, each silent longer than giveUpAfter, keep their stream (probes are answered)', async (t) => {
  const { a, b, wire, close } = pair()
  t.teardown(close)
  b.spawn(SinkAgent, { id: 'r8' })
  async function* slowSource() {
    yield { n: 0 }
    await new Promise((r) => setTimeout(r, 600))
    yield { n: 1 }
  }
  await a.ref(SinkAgent, 'r8').stream('num', slowSource())
  t.same(seenOf('r8').items, [0, 1], 'a source quiet for 600 ms (give-up 400 ms): the consumer pinged, the sender answered')
  t.ok(wire.some((e) => e.kind === 'reply' && Array.isArray(e.payload) && e.payload[0] === 8), 'the receiver pinged')

  b.spawn(SinkAgent, { id: 'r9' })
  seenOf('r9').step = (n) => (n === 0 ? new Promise((r) => setTimeout(r, 600)) : undefined)
  await a.ref(SinkAgent, 'r9').stream('num', range(4).map((n) => ({ n })), { credit: 1 })
  t.same(seenOf('r9').items, range(4), 'a consumer busy for 600 ms with credit 1: the sender probed, the receiver answered')

  // Silence counts from the start of a wait: a sender that last heard of its receiver long ago
  // (its source was slow) and only now waits for credit does not give up at its first look.
  b.spawn(SinkAgent, { id: 'r11' })
  seenOf('r11').step = (n) => (n === 0 ? new Promise((r) => setTimeout(r, 700)) : undefined) // busy while the source pauses
  async function* pausing() {
    yield { n: 0 }
    await new Promise((r) => setTimeout(r, 600))
    for (let n = 1; n < 6; n++) yield { n }
  }
  await a.ref(SinkAgent, 'r11').stream('num', pausing(), { credit: 2 })
  t.same(seenOf('r11').items, range(6), 'quiet for 600 ms, then waiting for credit: no false give-up')
})

t.test('seam: an item overtaken by later ones (a re-routed message) and duplicates still give each item once, in order', async (t) => {
  const kind = (e: Envelope) => (Array.isArray(e.payload) ? e.payload[0] : undefined)
  const index = (e: Envelope) => (Array.isArray(e.payload) ? e.payload[2] : undefined)
  const { a, b, close } = pair(
    () => false,
    (e) => (kind(e) === 1 && index(e) === 3 ? 60 : 0), // item 3 arrives after 4…
    (e) => kind(e) === 1 && (index(e) as number) % 5 === 0, // items 0, 5, 10, … arrive twice
  )
  t.teardown(close)
  b.spawn(SinkAgent, { id: 'r10' })
  await a.ref(SinkAgent, 'r10').stream('num', range(30).map((n) => ({ n })), { credit: 6 })
  t.same(seenOf('r10').items, range(30))
  t.equal(seenOf('r10').error, undefined)
})
