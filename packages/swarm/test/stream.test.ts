// Streams across swarm nodes: over the memory network (3 nodes) and over the real uws transport
// between two nodes on 127.0.0.1 (1 MiB chunks, chunked by the transport).
import t from 'tap'
import { z } from 'zod'
import {
  Agent, AgentNotFound, AgentStopped, SchemaViolation, StreamAborted, StreamCancelled, message, protocol,
  type Handlers, type InboundStream,
} from '@murmur/actor-core'
import { Swarm, pinned } from '../src/index.js'
import { MemoryCluster } from './helpers/cluster.js'

const Sink = protocol('stream-sink', {
  num: message(z.object({ n: z.number() })),
  chunk: message(z.object({ data: z.instanceof(Uint8Array) })),
  got: message(z.object({}), { reply: z.object({ items: z.number(), bytes: z.number(), checksum: z.number(), error: z.string().nullable() }) }),
})
type S = typeof Sink

/** Per agent id: what it consumed, and an optional pacing / break hook, read by the tests. */
interface Seen { nums: number[]; bytes: number; checksum: number; error?: unknown; step?: (n: number) => unknown }
const seen = new Map<string, Seen>()
const seenOf = (id: string): Seen => {
  let s = seen.get(id)
  if (s === undefined) seen.set(id, (s = { nums: [], bytes: 0, checksum: 0 }))
  return s
}

class StreamSinkAgent extends Agent<S> implements Handlers<S> {
  static protocol = Sink
  num(): void {}
  chunk(): void {}
  got() {
    const s = seenOf(this.id)
    return { items: s.nums.length, bytes: s.bytes, checksum: s.checksum, error: s.error === undefined ? null : (s.error as Error).name }
  }
  override async onStream(s: InboundStream<S>): Promise<void> {
    const mine = seenOf(this.id)
    try {
      if (s.type === 'num') {
        for await (const { n } of s.items) {
          mine.nums.push(n)
          if ((await mine.step?.(n)) === 'break') break
        }
      } else if (s.type === 'chunk') {
        for await (const { data } of s.items) {
          mine.bytes += data.byteLength
          mine.checksum = (mine.checksum + data[0]! + data[data.byteLength - 1]!) % 1_000_003
          mine.nums.push(mine.nums.length)
        }
      }
    } catch (error) {
      mine.error = error
    }
  }
}

function counted(n: number, bad?: number) {
  const state = { pulled: 0, closed: false }
  async function* gen() {
    try {
      for (let i = 0; i < n; i++) {
        state.pulled++
        yield i === bad ? { n: 'x' as unknown as number } : { n: i }
      }
    } finally {
      state.closed = true
    }
  }
  return { state, source: gen() }
}
const range = (n: number) => [...Array(n).keys()]

async function memoryCluster(t: Parameters<Parameters<typeof t.test>[1]>[0]): Promise<MemoryCluster> {
  const c = new MemoryCluster(7)
  t.teardown(() => c.close())
  const system = { streams: { probeEvery: 100, giveUpAfter: 1500 } }
  for (const id of ['a', 'b', 'c']) await c.add(id, id === 'a' ? [] : ['a'], { agents: [StreamSinkAgent], system })
  await c.until(() => c.converged(), 'membership')
  return c
}

t.test('memory network: a stream to an agent on another node arrives in order, bounded by the credit', async (t) => {
  const c = await memoryCluster(t)
  const a = c.nodes.get('a')!
  await a.spawn(StreamSinkAgent, { id: 'm1', placement: pinned('b') })
  t.same(c.hosts('m1', 'stream-sink'), ['b'])
  const { state, source } = counted(1000)
  let most = 0
  seenOf('m1').step = async (n) => {
    most = Math.max(most, state.pulled - (n + 1))
    if (n % 100 === 0) await new Promise((r) => setTimeout(r, 1))
  }
  await c.nodes.get('c')!.ref(StreamSinkAgent, 'm1').stream('num', source, { credit: 12 })
  t.same(seenOf('m1').nums, range(1000), 'all 1,000 items, once each, in order')
  t.ok(most <= 12, `the sender never ran more than the credit ahead of the consumer (${most})`)
})

t.test('memory network: typed errors cross nodes (unknown agent, bad item, receiver break, sender abort, receiver stop)', async (t) => {
  const c = await memoryCluster(t)
  const a = c.nodes.get('a')!
  await t.rejects(a.ref(StreamSinkAgent, 'nobody').stream('num', [{ n: 1 }]), AgentNotFound)

  await a.spawn(StreamSinkAgent, { id: 'm2', placement: pinned('b') })
  await t.rejects(a.ref(StreamSinkAgent, 'm2').stream('num', counted(100, 5).source, { credit: 3 }), SchemaViolation)
  await c.until(() => seenOf('m2').error !== undefined, 'the receiver saw the error')
  t.same(seenOf('m2').nums, range(5), 'the items before the bad one were delivered')
  t.ok(seenOf('m2').error instanceof SchemaViolation)

  await a.spawn(StreamSinkAgent, { id: 'm3', placement: pinned('c') })
  seenOf('m3').step = (n) => (n === 20 ? 'break' : undefined)
  const brk = counted(10_000)
  await t.rejects(a.ref(StreamSinkAgent, 'm3').stream('num', brk.source, { credit: 5 }), StreamCancelled)
  await c.until(() => brk.state.closed, 'the source closed')
  t.ok(brk.state.pulled <= 21 + 5, `the source stopped (${brk.state.pulled} pulled)`)

  await a.spawn(StreamSinkAgent, { id: 'm4', placement: pinned('b') })
  const ac = new AbortController()
  seenOf('m4').step = (n) => {
    if (n === 10) ac.abort()
  }
  await t.rejects(a.ref(StreamSinkAgent, 'm4').stream('num', counted(10_000).source, { signal: ac.signal, credit: 5 }), StreamAborted)
  await c.until(() => seenOf('m4').error !== undefined, 'the receiver saw the abort')
  t.ok(seenOf('m4').error instanceof StreamAborted)

  await a.spawn(StreamSinkAgent, { id: 'm5', placement: pinned('c') })
  seenOf('m5').step = () => new Promise((r) => setTimeout(r, 5))
  const p = a.ref(StreamSinkAgent, 'm5').stream('num', counted(10_000).source, { credit: 5 })
  await c.until(() => seenOf('m5').nums.length > 10, 'the stream flows')
  const stopped = t.rejects(p, AgentStopped)
  await c.nodes.get('c')!.system.stop(c.nodes.get('c')!.ref(StreamSinkAgent, 'm5'))
  await stopped
})

t.test('memory network: the receiving node crashes mid-stream: the sender does not wait for ever', async (t) => {
  const c = await memoryCluster(t)
  const a = c.nodes.get('a')!
  await a.spawn(StreamSinkAgent, { id: 'm6', placement: pinned('b') })
  seenOf('m6').step = () => new Promise((r) => setTimeout(r, 5))
  const p = a.ref(StreamSinkAgent, 'm6').stream('num', counted(100_000).source, { credit: 8 })
  const outcome = p.then(() => 'resolved', (e: unknown) => (e as { code?: string }).code ?? String(e))
  await c.until(() => seenOf('m6').nums.length > 20, 'the stream flows')
  const t0 = Date.now()
  c.crash('b')
  const code = await outcome
  t.ok(['STREAM_BROKEN', 'AGENT_NOT_FOUND'].includes(code), `the sender's promise rejects (${code}) ${Date.now() - t0} ms after the crash`)
})

t.test('memory network: the sending node crashes mid-stream: the consumer does not wait for ever', async (t) => {
  const c = await memoryCluster(t)
  const a = c.nodes.get('a')!
  await a.spawn(StreamSinkAgent, { id: 'm7', placement: pinned('c') })
  void a.ref(StreamSinkAgent, 'm7').stream('num', counted(100_000).source, { credit: 8 }).catch(() => {})
  await c.until(() => seenOf('m7').nums.length > 20, 'the stream flows')
  const t0 = Date.now()
  c.crash('a')
  await c.until(() => seenOf('m7').error !== undefined, "the consumer's iterator ended", 10_000)
  t.equal((seenOf('m7').error as { code?: string }).code, 'STREAM_BROKEN', `the iterator threw StreamBroken ${Date.now() - t0} ms after the crash`)
})

t.test('uws on 127.0.0.1: 160 chunks of 1 MiB between two nodes, every byte accounted for, and membership unharmed', async (t) => {
  const secret = 'stream-secret'
  const start = (nodeId: string, seeds: string[]) => Swarm.start({ nodeId, port: 0, host: '127.0.0.1', seeds, secret, cluster: 'stream-test', agents: [StreamSinkAgent] })
  const a = await start('ua', [])
  t.teardown(() => a.stop())
  const b = await start('ub', [a.address])
  t.teardown(() => b.stop())
  const deadline = Date.now() + 20_000
  while (!a.members().some((m) => m.id === 'ub' && m.status === 'alive')) {
    if (Date.now() > deadline) throw new Error('ub never joined')
    await new Promise((r) => setTimeout(r, 20))
  }
  await a.spawn(StreamSinkAgent, { id: 'big', placement: pinned('ub') })
  t.ok(b.system.hosts({ type: 'stream-sink', id: 'big' }), 'the sink runs on the other node')
  const MiB = 1 << 20
  const N = 160
  let expected = 0
  const downs: string[] = []
  for (const [n, node] of [['ua', a], ['ub', b]] as const) node.transport.on('peer-down', (d) => downs.push(`${n}: ${d.reason}`))
  const dropped0 = a.transport.metrics()['bestEffortDropped'] ?? 0
  async function* chunks() {
    for (let i = 0; i < N; i++) {
      const data = new Uint8Array(MiB).fill(i % 251)
      data[MiB - 1] = (i * 7) % 251
      expected = (expected + data[0]! + data[MiB - 1]!) % 1_000_003
      yield { data }
    }
  }
  const t0 = performance.now()
  await a.ref(StreamSinkAgent, 'big').stream('chunk', chunks())
  const ms = performance.now() - t0
  const got = await a.ref(StreamSinkAgent, 'big').ask('got', {}, { timeout: 10_000 })
  t.same(got, { items: N, bytes: N * MiB, checksum: expected, error: null }, `${N} MiB in ${Math.round(ms)} ms`)
  // Streams keep the connection under half its high-water mark (stream-flow.ts): membership
  // probes, which are best-effort, are not dropped, and the session never ends mid-stream.
  t.equal((a.transport.metrics()['bestEffortDropped'] ?? 0) - dropped0, 0, 'no best-effort message was dropped toward the receiver')
  t.same(downs, [], 'no session ended during the stream')
})
