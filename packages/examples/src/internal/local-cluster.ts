import { Swarm, type SwarmOptions } from '@murmur/swarm'
import { waitUntil } from './main.js'

/**
 * Real nodes (uWebSockets.js on 127.0.0.1, free ports, one random secret) in this process: the
 * quickest way to a live cluster in an example or a test. The demo and the 20-node example use
 * separate processes instead.
 */
export async function startLocalCluster(names: readonly string[], agents: SwarmOptions['agents'], extra: Partial<SwarmOptions> = {}): Promise<{ nodes: Swarm[]; stop(): Promise<void> }> {
  const secret = `examples-${Math.random().toString(36).slice(2)}`
  const nodes: Swarm[] = []
  try {
    for (const name of names) {
      const seeds = nodes.length > 0 ? [nodes[0]!.address] : []
      nodes.push(await Swarm.start({ port: 0, host: '127.0.0.1', nodeId: name, seeds, secret, agents, ...extra }))
    }
    const want = [...names].sort().join(',')
    const view = (n: Swarm) => n.members().filter((m) => m.status === 'alive').map((m) => m.id).sort().join(',')
    await waitUntil(() => nodes.every((n) => view(n) === want), `${names.length} nodes to see each other`, 20_000)
  } catch (e) {
    await Promise.all(nodes.map((n) => n.stop().catch(() => {})))
    throw e
  }
  return {
    nodes,
    stop: async () => {
      await Promise.all(nodes.map((n) => Promise.race([n.stop().catch(() => {}), new Promise((r) => setTimeout(r, 3000))])))
    },
  }
}
