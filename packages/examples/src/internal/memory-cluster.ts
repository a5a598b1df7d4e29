import { createMemoryNetwork, createMemoryTransport, type MemoryNetwork } from '@murmur/transport'
import { Swarm, type SwarmOptions } from '@murmur/swarm'
import { waitUntil } from './main.js'

/**
 * Several swarm nodes in this process on a simulated network (`createMemoryNetwork`), for the
 * examples that need what loopback cannot do on demand: a slow link, a partition and its heal.
 * Virtual time runs as fast as the CPU allows (`autoRun`).
 */
export class MemoryCluster {
  readonly net: MemoryNetwork
  readonly nodes = new Map<string, Swarm>()

  constructor(seed = 7) {
    this.net = createMemoryNetwork({ seed, traceLimit: 0 })
    this.net.autoRun()
  }

  /** Starts node `id`, joining through `seeds` (node ids: on this network an id is its address). */
  async add(id: string, agents: SwarmOptions['agents'], seeds: string[] = []): Promise<Swarm> {
    const transport = createMemoryTransport(this.net, { nodeId: id, cluster: 'examples', secret: 'memory-network', channels: { default: { parallelism: 1 } } })
    const node = await Swarm.start({ port: 0, secret: 'memory-network', seeds, agents, transport, clock: this.net.clockFor(id) })
    this.nodes.set(id, node)
    return node
  }

  node(id: string): Swarm {
    const n = this.nodes.get(id)
    if (!n) throw new Error(`no node ${id}`)
    return n
  }

  /** Live members as `id` sees them, sorted. */
  view(id: string): string[] {
    return this.node(id)
      .members()
      .filter((m) => m.status === 'alive' || m.status === 'suspect')
      .map((m) => m.id)
      .sort()
  }

  /** Waits until every node in `ids` sees exactly `ids` alive. */
  async converged(ids: string[], ms = 20_000): Promise<void> {
    const want = [...ids].sort().join(',')
    await waitUntil(() => ids.every((id) => this.view(id).join(',') === want), `${want} to see each other`, ms)
  }

  async close(): Promise<void> {
    await Promise.all([...this.nodes.values()].map((n) => n.transport.stop().catch(() => {})))
    this.net.stop()
  }
}
