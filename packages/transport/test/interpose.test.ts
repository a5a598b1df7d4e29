import t from 'tap'
import { createMemoryNetwork, createTransport, interposable, uwsConnector, type ConnectorFactory, type InboundMessage, type Interposer, type Transport } from '../src/index.js'
import { range, waitFor } from './helpers/wait.js'

/** Two nodes, each with an interposable connector; b dials a, a dials b (so both sides' cuts matter). */
async function pair(make: (name: string) => ConnectorFactory, clock?: (name: string) => import('../src/index.js').Clock) {
  const nodes: Array<{ t: Transport; cut: Interposer; got: InboundMessage[] }> = []
  for (const nodeId of ['a', 'b']) {
    const { factory, interposer } = interposable(make(nodeId))
    const tr = createTransport({
      nodeId,
      cluster: 'test',
      secret: 'sesame',
      connector: factory,
      heartbeatInterval: 100,
      handshakeTimeout: 500,
      reconnect: { initialDelay: 20, maxDelay: 200, giveUpAfter: 60_000 },
      ...(clock ? { clock: clock(nodeId) } : {}),
    })
    const got: InboundMessage[] = []
    tr.onMessage((m) => got.push(m))
    await tr.start()
    nodes.push({ t: tr, cut: interposer, got })
  }
  return nodes as [(typeof nodes)[0], (typeof nodes)[0]]
}

for (const kind of ['uws', 'memory'] as const) {
  t.test(`${kind}: a cut on both sides partitions two live nodes; after the heal the reliable stream resumes exactly once, in order`, async (t) => {
    const net = kind === 'memory' ? createMemoryNetwork({ seed: 91 }) : undefined
    net?.autoRun()
    const [a, b] = await pair(
      (name) => (net ? net.connector(name) : uwsConnector()),
      net ? (name) => net.clockFor(name) : undefined,
    )
    t.teardown(async () => {
      await Promise.all([a.t.stop(), b.t.stop()])
      net?.stop()
    })
    await a.t.connect(b.t.address)
    await waitFor(() => a.t.metrics().lanesOpen === 2 && b.t.metrics().lanesOpen === 2, 'lanes')
    let next = 0
    const burst = (n: number) => {
      for (const _ of range(n)) a.t.send('b', next++)
    }
    burst(1000)
    await waitFor(() => b.got.length === 1000, 'before the cut')
    // Each side cuts the lanes it dialled toward the other.
    a.cut.cut(b.t.address)
    b.cut.cut(a.t.address)
    burst(1000)
    await waitFor(() => a.t.metrics().heartbeatTimeouts! + b.t.metrics().heartbeatTimeouts! > 0, 'the silence is found out by heartbeats', 20_000)
    t.ok(b.got.length < next, `nothing sent during the cut arrived (${b.got.length} of ${next})`)
    t.ok(a.cut.dropped + b.cut.dropped > 0, `frames were dropped at the cut (${a.cut.dropped + b.cut.dropped})`)
    burst(1000)
    a.cut.heal()
    b.cut.heal()
    await waitFor(() => b.got.length === next, 'after the heal, everything', 30_000)
    t.same(b.got.map((m) => m.payload), range(next), `all ${next} exactly once, in order`)
    t.same(a.t.peers().map((p) => p.nodeId), ['b'], 'the session survived the partition')
  })
}
