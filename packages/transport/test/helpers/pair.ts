import type { InboundMessage, MemoryNetworkInit, TransportError } from '../../src/index.js'
import { memoryWorld, type NodeInit } from './worlds.js'
import { waitFor } from './wait.js'

/**
 * Two started memory nodes `a` and `b` with the same options, `a` connected to `b` and both lanes
 * of the default channels open; `got` collects what `b` receives, `errors` what `a` reports.
 */
export async function memoryPair(seed: number, init: Omit<NodeInit, 'nodeId'> = {}, network: Omit<MemoryNetworkInit, 'seed'> = {}) {
  const w = memoryWorld(seed, network)
  const a = w.node({ ...init, nodeId: 'a' })
  const b = w.node({ ...init, nodeId: 'b' })
  const errors: TransportError[] = []
  a.on('error', (e) => errors.push(e.error))
  const got: InboundMessage[] = []
  b.onMessage((m) => got.push(m))
  await a.start()
  await b.start()
  await a.connect('b')
  await waitFor(() => a.metrics().lanesOpen === 2 && b.metrics().lanesOpen === 2, 'lanes')
  return { w, a, b, errors, got }
}
