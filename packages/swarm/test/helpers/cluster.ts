import { createMemoryNetwork, createMemoryTransport, type MemoryNetwork } from '@murmur/transport'
import { Swarm, type SwarmOptions } from '../../src/index.js'
import { CounterAgent, EphemeralAgent, LoggerAgent, GpuAgent, SaverAgent } from './agents.js'

export const SECRET = 'test-secret'

/** A cluster of swarm nodes on one seeded memory network, driven by `autoRun`. */
export class MemoryCluster {
  readonly net: MemoryNetwork
  readonly nodes = new Map<string, Swarm>()

  constructor(seed = 1) {
    this.net = createMemoryNetwork({ seed, traceLimit: 0 })
    this.net.autoRun()
  }

  async add(id: string, seeds: string[] = [], extra: Partial<SwarmOptions> = {}, auth: { secret?: string; cluster?: string } = {}): Promise<Swarm> {
    const transport = createMemoryTransport(this.net, {
      nodeId: id,
      cluster: auth.cluster ?? 'test',
      secret: auth.secret ?? SECRET,
      channels: { default: { parallelism: 1 } },
    })
    const node = await Swarm.start({
      port: 0,
      secret: SECRET,
      seeds,
      agents: [CounterAgent, EphemeralAgent, LoggerAgent, GpuAgent, SaverAgent],
      transport,
      clock: this.net.clockFor(id),
      ...extra,
    })
    this.nodes.set(id, node)
    return node
  }

  /** Nodes `ids` (each joining through the first), converged, closed at the end of test `t`. */
  static async started(t: { teardown(fn: () => unknown): void }, seed: number, ids = ['a', 'b', 'c']): Promise<MemoryCluster> {
    const c = new MemoryCluster(seed)
    t.teardown(() => c.close())
    for (const id of ids) await c.add(id, id === ids[0] ? [] : [ids[0]!])
    await c.until(() => c.converged(), 'membership')
    return c
  }

  crash(id: string): void {
    this.net.crash(id)
    this.nodes.delete(id)
  }

  /** Live members as `id`'s node sees them. */
  view(id: string): string[] {
    return this.nodes.get(id)!.members().filter((m) => m.status === 'alive' || m.status === 'suspect').map((m) => m.id)
  }

  /** Waits (real time, bounded) until `cond` holds; the memory network runs meanwhile. */
  async until(cond: () => boolean, what: string, ms = 20_000): Promise<void> {
    const end = Date.now() + ms
    while (!cond()) {
      if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
      await new Promise((r) => setTimeout(r, 5))
    }
  }

  converged(ids = [...this.nodes.keys()]): boolean {
    const want = [...ids].sort().join(',')
    return ids.every((id) => this.view(id).join(',') === want)
  }

  /** Which nodes host `id` right now. */
  hosts(id: string, type = 'counter'): string[] {
    return [...this.nodes].filter(([, n]) => n.system.hosts({ type, id })).map(([k]) => k)
  }

  async close(): Promise<void> {
    for (const n of this.nodes.values()) {
      n.transport.stop().catch(() => {})
    }
    this.net.stop()
  }
}
