import type { AgentAddress } from '@murmur/actor-core'
import { murmur3 } from './internal/hash.js'

/** A node as placement sees it: a live member with its gossiped metadata. */
export interface PlacementNode {
  readonly id: string
  readonly capabilities: readonly string[]
  /** Agents hosted, as last gossiped; a hint only. */
  readonly load: number
}

/** What a strategy decides from: the live members (self included) and who is asking. */
export interface PlacementContext {
  /** The node that evaluates the strategy (the spawner, or the node deciding a move). */
  readonly self: string
  /** Live members, self included. Order carries no meaning: strategies must not depend on it. */
  readonly nodes: readonly PlacementNode[]
}

/**
 * Decides which node hosts an agent. Strategies are plain objects so they can be chosen per agent
 * class (`static placement = leastLoaded()`) or per spawn (`spawn(Cls, { placement })`).
 *
 * `rebalance: true` means the home is a pure function of the membership, re-evaluated on every
 * join / leave / crash: agents move when it changes, and every node computes the same answer.
 * `rebalance: false` means the choice is made once, at spawn, by the spawner; such an agent moves
 * only when its node leaves or dies, and then to its rendezvous node (so every node agrees).
 */
export interface PlacementStrategy {
  readonly name: string
  readonly rebalance: boolean
  /** The node id to host `address`, or `undefined` when no live node qualifies. */
  place(address: AgentAddress, context: PlacementContext): string | undefined
}

/** The key placement hashes: the protocol name and the id, as one string. */
export function placementKey(address: AgentAddress): string {
  return `${address.type}\u0000${address.id}`
}

/**
 * Highest-random-weight choice among `nodes`: each node scores `hash(key, seed = hash(nodeId))`;
 * the highest wins (ties, vanishingly rare, go to the larger id). A join takes from every other
 * node only the keys the newcomer now wins, about 1/N of them; a leave moves only the leaver's.
 */
export function rendezvousPick(key: string, nodes: readonly PlacementNode[]): string | undefined {
  let best: string | undefined
  let bestScore = -1
  for (const node of nodes) {
    const score = murmur3(key, nodeSeed(node.id))
    if (score > bestScore || (score === bestScore && best !== undefined && node.id > best)) {
      best = node.id
      bestScore = score
    }
  }
  return best
}

const seeds = new Map<string, number>()
function nodeSeed(id: string): number {
  let s = seeds.get(id)
  if (s === undefined) {
    s = murmur3(id, 0x9747b28c)
    if (seeds.size > 10_000) seeds.clear()
    seeds.set(id, s)
  }
  return s
}

/**
 * The default: rendezvous (highest-random-weight) hashing over all live nodes.
 *
 * WARNING: the hash is part of the cluster's contract. Changing it (see `internal/hash.ts`)
 * changes the placement of every agent, and nodes running different hashes disagree on homes.
 *
 * @example
 * const node = await Swarm.start({ port: 7001, seeds, secret, agents: [Worker], placement: rendezvous() })
 */
export function rendezvous(): PlacementStrategy {
  return {
    name: 'rendezvous',
    rebalance: true,
    place: (address, { nodes }) => rendezvousPick(placementKey(address), nodes),
  }
}

/**
 * On the node that spawns it. The agent stays there while that node lives.
 *
 * @example
 * await node.spawn(SessionAgent, { id: 's-1', placement: local() })
 */
export function local(): PlacementStrategy {
  return {
    name: 'local',
    rebalance: false,
    place: (_address, { self, nodes }) => (nodes.some((n) => n.id === self) ? self : undefined),
  }
}

/**
 * On the node with the fewest agents as last gossiped (ties by rendezvous, so concurrent spawners
 * spread rather than pile onto one node). Decided once, at spawn.
 *
 * @example
 * class Crawler extends Agent<typeof CrawlerProtocol> { static placement = leastLoaded() }
 */
export function leastLoaded(): PlacementStrategy {
  return {
    name: 'least-loaded',
    rebalance: false,
    place: (address, { nodes }) => {
      let min = Infinity
      for (const n of nodes) min = Math.min(min, n.load)
      return rendezvousPick(placementKey(address), nodes.filter((n) => n.load === min))
    },
  }
}

/**
 * Always on node `nodeId`; nowhere while it is not a member.
 *
 * @example
 * await node.spawn(LedgerAgent, { id: 'ledger', placement: pinned('node-a') })
 */
export function pinned(nodeId: string): PlacementStrategy {
  return {
    name: `pinned(${nodeId})`,
    rebalance: true,
    place: (_address, { nodes }) => (nodes.some((n) => n.id === nodeId) ? nodeId : undefined),
  }
}

/**
 * Rendezvous hashing restricted to the nodes that advertise `tag` in their `capabilities`.
 *
 * @example
 * await Swarm.start({ port: 7002, seeds, secret, agents: [Gpu], capabilities: ['gpu'] })
 * class Gpu extends Agent<typeof GpuProtocol> { static placement = capability('gpu') }
 */
export function capability(tag: string): PlacementStrategy {
  return {
    name: `capability(${tag})`,
    rebalance: true,
    place: (address, { nodes }) =>
      rendezvousPick(
        placementKey(address),
        nodes.filter((n) => n.capabilities.includes(tag)),
      ),
  }
}

/**
 * Where an agent should live now. Strategies with `rebalance` answer directly; for the others the
 * current home stays while it is live, and otherwise the agent falls back to its rendezvous node,
 * so every node agrees on who restarts it.
 */
export function homeOf(
  strategy: PlacementStrategy,
  address: AgentAddress,
  current: string | undefined,
  context: PlacementContext,
): string | undefined {
  if (strategy.rebalance) return strategy.place(address, context)
  if (current !== undefined && context.nodes.some((n) => n.id === current)) return current
  return rendezvousPick(placementKey(address), context.nodes)
}

/**
 * Rebuilds a strategy from its `name` (directory entries carry it, so any node can recompute an
 * agent's home): the built-ins parse, other names are looked up in `known`.
 */
export function strategyByName(name: string, known: Iterable<PlacementStrategy> = []): PlacementStrategy | undefined {
  for (const s of known) if (s.name === name) return s
  if (name === 'rendezvous') return rendezvous()
  if (name === 'local') return local()
  if (name === 'least-loaded') return leastLoaded()
  const m = /^(pinned|capability)\((.*)\)$/.exec(name)
  if (m) return m[1] === 'pinned' ? pinned(m[2]!) : capability(m[2]!)
  return undefined
}
