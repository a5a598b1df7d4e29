/**
 * Moleculer 0.14 (TCP transporter, static URLs on 127.0.0.1, no UDP discovery) across two node
 * processes: events one-way, calls with 100 in flight, and calls one at a time.
 */
import type { Plan } from '../lib/plan.js'
import type { Collector } from '../lib/collect.js'
import { latencies } from '../lib/stats.js'
import { freePort, withWorkers, type WorkerHandle } from '../lib/worker.js'

export const MOLECULER_NAMES = ['peer.moleculer.emit', 'peer.moleculer.call', 'peer.moleculer.rtt-p50', 'peer.moleculer.rtt-p99'] as const

const WORKER = new URL('../workers/moleculer-node.js', import.meta.url)

async function cpuOf<T>(rx: WorkerHandle, tx: WorkerHandle, work: () => Promise<T>): Promise<{ value: T; cpu: Record<string, number> }> {
  await Promise.all([rx.cpuMark(), tx.cpuMark()])
  const value = await work()
  const [r, t] = await Promise.all([rx.cpuRead(), tx.cpuRead()])
  return { value, cpu: { sender: t, receiver: r } }
}

/** Measures the Moleculer figures `wants` selects into `out`, round-robin over `p.rounds`. */
export async function measureMoleculer(p: Plan, wants: (name: string) => boolean, out: Collector): Promise<void> {
  const [rxPort, txPort] = [await freePort(), await freePort()]
  await withWorkers(async (start) => {
    const rx = await start(WORKER, ['rx', 'bench-rx', String(rxPort), 'bench-tx', String(txPort)])
    const tx = await start(WORKER, ['tx', 'bench-tx', String(txPort), 'bench-rx', String(rxPort)], { readyTimeoutMs: 30_000 })
    for (let round = 0; round < p.warmup + p.rounds; round++) {
      const sink = round < p.warmup ? undefined : out
      if (wants('peer.moleculer.emit')) {
        await rx.call('sink-arm')
        const m = await cpuOf(rx, tx, async () => {
          const [, got] = await Promise.all([tx.call('emit', { ms: p.roundMs }), rx.call<{ events: number; seconds: number }>('sink-wait', p.roundMs + 60_000)])
          return got.events / got.seconds
        })
        sink?.add('peer.moleculer.emit', 'msg/s', m.value, m.cpu)
      }
      if (wants('peer.moleculer.call')) {
        const m = await cpuOf(rx, tx, () => tx.call<number>('call', { window: 100, ms: p.roundMs }))
        sink?.add('peer.moleculer.call', 'calls/s', m.value, m.cpu)
      }
      if (wants('peer.moleculer.rtt')) {
        // Moleculer is ~5× slower per call than the raw socket: fewer samples keep the round short.
        const m = await cpuOf(rx, tx, () => tx.call<Float64Array>('rtt', { samples: Math.ceil(p.rttSamples / 4), ms: Math.max(p.roundMs, 1000) }))
        const l = latencies(m.value)
        sink?.add('peer.moleculer.rtt-p50', 'µs', l.p50, m.cpu)
        sink?.add('peer.moleculer.rtt-p99', 'µs', l.p99, m.cpu)
      }
    }
  })
}
