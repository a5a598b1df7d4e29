import t from 'tap'
import type { InboundMessage, TransportEvents } from '../src/index.js'
import { memoryWorld } from './helpers/worlds.js'
import { range, waitFor } from './helpers/wait.js'

/**
 * Three nodes streaming reliable messages to each other through loss, duplication, reordering, a
 * partition that heals and a link-breaking partition, over several seeds. Every message sent is
 * delivered exactly once and in order per (sender, receiver, key), since no node is declared gone.
 */
for (const seed of [101, 202, 303]) {
  t.test(`chaos, seed ${seed}`, async (t) => {
    const w = memoryWorld(seed)
    t.teardown(() => w.close())
    const names = ['a', 'b', 'c']
    const nodes = names.map((nodeId) => w.node({ nodeId, maxBatch: 16, channels: { bulk: { parallelism: 2 } }, reconnect: { giveUpAfter: 1e12, initialDelay: 5 } }))
    const got = new Map<string, InboundMessage[]>(names.map((n) => [n, []]))
    const downs: Array<TransportEvents['peer-down']> = []
    nodes.forEach((n, i) => {
      n.onMessage((m) => got.get(names[i]!)!.push(m))
      n.on('peer-down', (d) => downs.push(d))
    })
    await Promise.all(nodes.map((n) => n.start()))
    await nodes[0]!.connect('b')
    await nodes[0]!.connect('c')
    await nodes[1]!.connect('c')
    await waitFor(() => nodes.every((n) => n.metrics().lanesOpen === 2 * 4), 'all lanes up')
    w.net.setDefaultFaults({ drop: 0.2, duplicate: 0.1, reorder: 0.1, delay: [0, 4] })
    const sent = new Map<string, number>()
    const burst = async (n: number) => {
      for (const _ of range(n)) {
        nodes.forEach((from, i) => {
          for (const to of names) {
            if (to === names[i]) continue
            for (const key of ['k1', 'k2']) {
              const id = `${names[i]}>${to}/${key}`
              const seq = sent.get(id) ?? 0
              sent.set(id, seq + 1)
              from.send(to, { id, seq }, { channel: 'bulk', key })
            }
          }
        })
        await new Promise((r) => setImmediate(r))
      }
    }
    await burst(40)
    w.net.partition(['a'], ['b', 'c'])
    await burst(40)
    w.net.heal()
    await burst(40)
    w.net.partition(['c'], ['a', 'b'], { mode: 'disconnect' })
    await burst(40)
    w.net.heal()
    await burst(40)
    const total = [...sent.values()].reduce((x, y) => x + y, 0)
    await waitFor(() => [...got.values()].reduce((x, y) => x + y.length, 0) >= total, 'everything delivered', 90_000)
    for (const [id, count] of sent) {
      const to = id.split('>')[1]!.split('/')[0]!
      const seqs = got.get(to)!.filter((m) => (m.payload as { id: string }).id === id).map((m) => (m.payload as { seq: number }).seq)
      t.same(seqs, range(count), `${id}: exactly once, in order`)
    }
    t.equal(downs.length, 0, 'no session ended')
    const m = nodes.map((n) => n.metrics())
    t.ok(m.some((x) => x.duplicatesDropped! > 0) && m.some((x) => x.retransmitted! > 0), 'faults happened and were repaired')
  })
}
