import { createMemoryNetwork, createMemoryTransport, createUwsTransport, systemClock, type Connector, type MemoryNetwork, type MemoryNetworkInit, type Transport } from '../../src/index.js'
import { uwsConnector, type TlsInit } from '../../src/uws-connector.js'
import type { MemoryTransportInit } from '../../src/memory-transport.js'

export type NodeInit = Partial<Omit<MemoryTransportInit, 'nodeId'>> & { nodeId: string }

/** A place to start nodes: the compliance suite runs the same tests in each. */
export interface World {
  readonly name: string
  node(init: NodeInit): Transport
  /** A bare connector, for tests that speak raw frames (bad input, replay). */
  rawConnector(name: string): Connector
  close(): Promise<void>
}

const defaults = { cluster: 'test', secret: 'sesame' }

export function memoryWorld(seed = 1, init: Omit<MemoryNetworkInit, 'seed'> = {}): World & { net: MemoryNetwork } {
  const net = createMemoryNetwork({ ...init, seed })
  net.autoRun()
  const nodes: Transport[] = []
  return {
    name: 'memory',
    net,
    node(init) {
      const t = createMemoryTransport(net, { ...defaults, ...init })
      nodes.push(t)
      return t
    },
    rawConnector(name) {
      return net.connector(name)({ clock: net.clockFor(name) })
    },
    async close() {
      await Promise.all(nodes.map((n) => n.stop().catch(() => {})))
      net.stop()
    },
  }
}

export function uwsWorld(options: { tls?: TlsInit } = {}): World {
  const uws = options.tls ? { tls: options.tls } : {}
  const nodes: Transport[] = []
  const raws: Connector[] = []
  return {
    name: options.tls ? 'uws+tls' : 'uws',
    node(init) {
      const { link: _link, ...rest } = init
      const t = createUwsTransport({ ...defaults, ...rest, uws })
      nodes.push(t)
      return t
    },
    rawConnector() {
      const c = uwsConnector(uws)({ clock: systemClock })
      raws.push(c)
      return c
    },
    async close() {
      await Promise.all([...nodes.map((n) => n.stop().catch(() => {})), ...raws.map((c) => c.close().catch(() => {}))])
    },
  }
}
