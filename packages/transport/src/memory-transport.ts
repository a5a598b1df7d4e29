import { createTransport, type TransportInit } from './create-transport.js'
import type { MemoryConnectorInit, MemoryNetwork } from './memory-network.js'
import type { Transport } from './transport.js'

export type MemoryTransportInit = Omit<TransportInit, 'connector' | 'clock'> & { readonly link?: MemoryConnectorInit }

/**
 * A transport on a simulated node of `network`: it listens at the address `nodeId`, runs on the
 * network's virtual clock (a crash of the node cancels its timers), and suffers its faults.
 *
 * @example
 * const net = createMemoryNetwork({ seed: 1, faults: { drop: 0.2 } })
 * net.autoRun()
 * const a = createMemoryTransport(net, { nodeId: 'a', cluster: 'c', secret: 's' })
 * const b = createMemoryTransport(net, { nodeId: 'b', cluster: 'c', secret: 's' })
 * await a.start(); await b.start()
 * await a.connect('b')
 */
export function createMemoryTransport(network: MemoryNetwork, init: MemoryTransportInit): Transport {
  const { link, ...rest } = init
  return createTransport({ ...rest, connector: network.connector(init.nodeId, link), clock: network.clockFor(init.nodeId) })
}
