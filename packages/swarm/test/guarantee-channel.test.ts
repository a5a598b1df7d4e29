import t from 'tap'
import { z } from 'zod'
import { Agent, protocol, message, type Handlers } from '@murmur/actor-core'
import { createMemoryNetwork, createMemoryTransport, type Guarantee, type SendOptions, type Transport } from '@murmur/transport'
import { Swarm, pinned } from '../src/index.js'

/**
 * A message type's declared guarantee is what the transport is asked for, on the channel
 * `channelFor` picks for it: a best-effort type goes best-effort (and may be lost), a reliable one
 * goes reliable (and is not), each on its own channel when the node maps them apart.
 */

const Sink = protocol('sink', {
  sure: message(z.object({ n: z.number() }), { guarantee: ['reliable', 'fifo'] }),
  maybe: message(z.object({ n: z.number() }), { guarantee: ['best-effort'] }),
  latest: message(z.object({ n: z.number() }), { guarantee: ['monotonic'] }),
  count: message(z.object({}), { reply: z.object({ sure: z.array(z.number()), maybe: z.number() }) }),
})

class SinkAgent extends Agent<typeof Sink> implements Handlers<typeof Sink> {
  static protocol = Sink
  got: number[] = []
  lossy = 0
  sure({ n }: { n: number }) {
    this.got.push(n)
  }
  maybe() {
    this.lossy++
  }
  latest() {}
  count() {
    return { sure: this.got, maybe: this.lossy }
  }
}

interface Sent {
  readonly to: string
  readonly channel: string | undefined
  readonly guarantee: readonly Guarantee[] | undefined
}

/** Records what the swarm asks of the transport, for messages carrying an envelope to the agent. */
function spy(transport: Transport, sent: Sent[]): Transport {
  const send = transport.send.bind(transport)
  transport.send = (to: string, payload: unknown, options?: SendOptions) => {
    if (options?.channel !== 'control') sent.push({ to, channel: options?.channel, guarantee: options?.guarantee })
    return send(to, payload, options)
  }
  return transport
}

t.test('each type goes with its declared guarantee, on the channel channelFor picks', async (t) => {
  const net = createMemoryNetwork({ seed: 5, traceLimit: 0 })
  net.autoRun()
  const sent: Sent[] = []
  const channels = { default: { parallelism: 1 }, lossy: { parallelism: 1 } }
  const channelFor = (g: readonly Guarantee[]): string => (g.includes('best-effort') ? 'lossy' : 'default')
  const start = (id: string, seeds: string[], transport: Transport) =>
    Swarm.start({ port: 0, secret: 's', seeds, agents: [SinkAgent], transport, clock: net.clockFor(id), channelFor })
  const a = await start('a', [], spy(createMemoryTransport(net, { nodeId: 'a', cluster: 'c', secret: 's', channels }), sent))
  const b = await start('b', ['a'], createMemoryTransport(net, { nodeId: 'b', cluster: 'c', secret: 's', channels }))
  t.teardown(async () => {
    await Promise.all([a.transport.stop(), b.transport.stop()]).catch(() => {})
    net.stop()
  })
  await b.joined({ timeout: 10_000 })
  const sink = await a.spawn(SinkAgent, { id: 'sink', placement: pinned('b') })
  sent.length = 0
  sink.tell('sure', { n: 1 })
  sink.tell('maybe', { n: 1 })
  sink.tell('latest', { n: 1 })
  // Channels are not ordered with each other: the best-effort one may come after the ask.
  let counts = await sink.ask('count', {}, { timeout: 5000 })
  for (const end = Date.now() + 10_000; counts.maybe === 0 && Date.now() < end; ) counts = await sink.ask('count', {}, { timeout: 5000 })
  t.same(counts, { sure: [1], maybe: 1 }, 'all three arrived on a clean network')
  const toB = sent.filter((s) => s.to === 'b').slice(0, 4)
  t.same(
    toB.map((s) => [s.channel, s.guarantee]),
    [
      ['default', ['reliable', 'fifo']],
      ['lossy', ['best-effort']],
      ['default', ['monotonic']],
      ['default', ['reliable', 'fifo']],
    ],
    'sure, maybe and latest with their declared guarantees (count, which declares none, with the default), best-effort on its own channel',
  )

  // Lossy link: what was declared best-effort may be lost, what was declared reliable is not.
  net.setLinkFaults('a', 'b', { drop: 0.3 })
  const N = 60
  for (let i = 2; i < 2 + N; i++) {
    sink.tell('sure', { n: i })
    sink.tell('maybe', { n: i })
    await new Promise((r) => setTimeout(r, 2)) // one frame per pair, so drops hit single messages
  }
  net.setLinkFaults('a', 'b', undefined)
  let last = await sink.ask('count', {}, { timeout: 10_000 })
  const deadline = Date.now() + 15_000
  while (last.sure.length < N + 1 && Date.now() < deadline) {
    await new Promise((r) => setTimeout(r, 20))
    last = await sink.ask('count', {}, { timeout: 10_000 })
  }
  t.same(last.sure, Array.from({ length: N + 1 }, (_, i) => i + 1), 'every reliable fifo tell arrived once, in order')
  t.ok(last.maybe < N + 1, `some best-effort tells were lost (${last.maybe} of ${N + 1} arrived): they were not sent reliably`)
  t.ok(last.maybe > 0, 'and not all of them')
})
