import type { InboundMessage, Transport } from '@murmur/transport'

/** A transport whose links to chosen nodes can be cut and healed: see {@link cuttableTransport}. */
export interface CuttableTransport {
  readonly transport: Transport
  /** From now on: sends to these nodes fail as if their link were down, their messages are dropped, dials to these addresses are refused. */
  cut(nodeIds: readonly string[], addresses: readonly string[]): void
  /** Every cut link works again. */
  heal(): void
}

/**
 * For tests and benchmarks of partitions between real processes, where the uws transport has no
 * interposition hook: wraps a transport so that traffic to and from chosen nodes stops. A send to
 * a cut node throws (the swarm treats it as a link that is down: agent traffic waits, membership
 * probes miss), inbound messages from it are dropped, and dials to its address are refused; the
 * wrapped transport's sessions stay as they are, so what it had accepted before the cut still
 * travels. Each process of the test cuts its own side, symmetric cuts make a partition.
 *
 * @example
 * const { transport, cut, heal } = cuttableTransport(createUwsTransport({ nodeId, … }))
 * const node = await Swarm.start({ transport, secret, agents })
 * cut(['n3', 'n4'], ['127.0.0.1:7003', '127.0.0.1:7004'])
 * heal()
 */
export function cuttableTransport(inner: Transport): CuttableTransport {
  const ids = new Set<string>()
  const addresses = new Set<string>()
  const wrapped = new Proxy(inner, {
    get(target, prop) {
      switch (prop) {
        case 'send':
          return (to: string, payload: unknown, options?: unknown) => {
            if (ids.has(to)) throw Object.assign(new Error(`link to ${to} is cut`), { code: 'PEER_UNREACHABLE' })
            return (target.send as (to: string, payload: unknown, options?: unknown) => boolean)(to, payload, options)
          }
        case 'onMessage':
          return (handler: (m: InboundMessage) => void) =>
            target.onMessage((m) => {
              if (!ids.has(m.from.nodeId)) handler(m)
            })
        case 'connect':
          return (address: string, options?: Parameters<Transport['connect']>[1]) =>
            addresses.has(address) ? Promise.reject(Object.assign(new Error(`link to ${address} is cut`), { code: 'PEER_UNREACHABLE' })) : target.connect(address, options)
      }
      const value = Reflect.get(target, prop, target) as unknown
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value
    },
  })
  return {
    transport: wrapped,
    cut(nodeIds, addrs) {
      for (const id of nodeIds) ids.add(id)
      for (const a of addrs) addresses.add(a)
    },
    heal() {
      ids.clear()
      addresses.clear()
    },
  }
}
