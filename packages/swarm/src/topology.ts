import { hyParView, type HyParViewEvent, type HyParViewInit, type HyParViewMsg, type HyParViewOptions, type HyParViewRequest, type HyParViewState } from './hyparview.js'
import type { Effect, Machine, NodeId, Step } from './internal/sim/machine.js'

/**
 * Topologies: which peers a node keeps links to. Each is an overlay machine with one contract, so
 * the broadcast layer (Plumtree) and the agents above run unchanged on all three: feed it the
 * membership's `member-up` / `member-down` as `peer-up` / `peer-down` (and, for HyParView, its
 * messages and timers); it emits `neighbor-up` / `neighbor-down` for the links to open or close.
 *
 * - `fullMesh()`: every member is a neighbour. Simplest, lowest latency; O(N) links per node.
 * - `clientServer({ servers })`: servers link to every member; clients link to servers only.
 * - `hyparview(opts)`: a small symmetric active view per node, repaired from a passive view.
 *
 * `chooseTopology(size)` picks by cluster size, see {@link TOPOLOGY_THRESHOLDS}.
 */
export type TopologyKind = 'full-mesh' | 'client-server' | 'hyparview'

export type NeighborEvent = HyParViewEvent

/** A static topology's state: the members it knows and the neighbours it derived from them. */
export interface StaticOverlayState {
  readonly kind: 'static'
  readonly members: readonly NodeId[]
  readonly neighbors: readonly NodeId[]
}

export type OverlayState = StaticOverlayState | { readonly kind: 'hyparview'; readonly hv: HyParViewState }
/** Only HyParView sends messages of its own. */
export type OverlayMsg = HyParViewMsg
export type OverlayRequest = HyParViewRequest
export type OverlayInit = HyParViewInit

export interface Topology {
  readonly kind: TopologyKind
  readonly machine: Machine<OverlayState, OverlayMsg, OverlayRequest, NeighborEvent, OverlayInit>
}

export interface TopologyComponents {
  readonly self: NodeId
}

/** A factory takes its options and returns a function of the node's components. */
export type TopologyFactory = (components: TopologyComponents) => Topology

/** The current neighbours in any topology's state. */
export function neighborsOf(state: OverlayState): readonly NodeId[] {
  return state.kind === 'static' ? state.neighbors : state.hv.active
}

type Eff = Effect<OverlayMsg, NeighborEvent>

/** A topology whose neighbours are a function of the known members. */
function staticTopology(kind: TopologyKind, select: (self: NodeId, members: readonly NodeId[]) => NodeId[]): Topology {
  const rederive = (state: StaticOverlayState, members: readonly NodeId[], self: NodeId): Step<OverlayState, OverlayMsg, NeighborEvent> => {
    const neighbors = select(self, members).filter((p) => p !== self)
    const fx: Eff[] = [
      ...state.neighbors.filter((p) => !neighbors.includes(p)).map((peer): Eff => ({ type: 'emit', event: { type: 'neighbor-down', peer } })),
      ...neighbors.filter((p) => !state.neighbors.includes(p)).map((peer): Eff => ({ type: 'emit', event: { type: 'neighbor-up', peer } })),
    ]
    return { state: { kind: 'static', members, neighbors }, effects: fx }
  }
  return {
    kind,
    machine: {
      init: () => ({ state: { kind: 'static', members: [], neighbors: [] }, effects: [] }),
      step(state, input, ctx) {
        if (state.kind !== 'static') return { state, effects: [] }
        if (input.type === 'peer-up' && !state.members.includes(input.peer) && input.peer !== ctx.self) return rederive(state, [...state.members, input.peer].sort(), ctx.self)
        if (input.type === 'peer-down' && state.members.includes(input.peer)) return rederive(state, state.members.filter((p) => p !== input.peer), ctx.self)
        return { state, effects: [] }
      },
    },
  }
}

/**
 * Every member links to every other.
 *
 * @example
 * const topology = fullMesh()({ self: 'n1' })
 */
export function fullMesh(): TopologyFactory {
  return () => staticTopology('full-mesh', (_self, members) => [...members])
}

export interface ClientServerOptions {
  /** The server nodes, or how many: then the `count` lowest member ids (this node's included) serve. */
  readonly servers: readonly NodeId[] | { readonly count: number }
}

/**
 * Servers form a mesh and link to every client; clients link to the servers only.
 *
 * @example
 * const topology = clientServer({ servers: ['s1', 's2'] })({ self: 'c7' })
 */
export function clientServer(options: ClientServerOptions): TopologyFactory {
  const serversAmong = (self: NodeId, members: readonly NodeId[]): NodeId[] => {
    const s = options.servers
    return 'count' in s ? [...new Set([...members, self])].sort().slice(0, s.count) : [...s]
  }
  return () =>
    staticTopology('client-server', (self, members) => {
      const servers = serversAmong(self, members)
      return servers.includes(self) ? [...members] : members.filter((m) => servers.includes(m))
    })
}

/**
 * HyParView active/passive views (see {@link hyParView}). Feed it `peer-down` on failed links; its
 * `init` joins through `contact`.
 *
 * @example
 * const topology = hyparview({ activeSize: 5 })({ self: 'n9' })
 * topology.machine.init(ctx, { contact: 'n0' })
 */
export function hyparview(options: HyParViewOptions = {}): TopologyFactory {
  const hv = hyParView(options)
  const wrap = (step: Step<HyParViewState, HyParViewMsg, HyParViewEvent>): Step<OverlayState, OverlayMsg, NeighborEvent> => ({ state: { kind: 'hyparview', hv: step.state }, effects: step.effects })
  return () => ({
    kind: 'hyparview',
    machine: {
      init: (ctx, init) => wrap(hv.init(ctx, init)),
      step: (state, input, ctx) => (state.kind === 'hyparview' ? wrap(hv.step(state.hv, input, ctx)) : { state, effects: [] }),
    },
  })
}

/**
 * Cluster sizes at which `auto` switches: full mesh up to `fullMesh` nodes (at 16, 15 links per
 * node and 120 in all, cheap on any network); client-server up to `clientServer` nodes (with
 * max(3, ⌈√N⌉) servers: at 128, 12 servers, each with 127 links, clients with 12); HyParView above
 * (links per node stay at the active view size, O(log N)).
 */
export const TOPOLOGY_THRESHOLDS = { fullMesh: 16, clientServer: 128 } as const

/** HyParView's view sizes for N nodes: active log10(N) + 1 but at least 5 (the paper's 5 for 10,000), passive 6× that. */
export function hyparviewSizes(size: number): { activeSize: number; passiveSize: number } {
  const activeSize = Math.max(5, Math.ceil(Math.log10(Math.max(size, 1))) + 1)
  return { activeSize, passiveSize: 6 * activeSize }
}

/**
 * The topology `topology: 'auto'` uses for a cluster of `size` nodes.
 *
 * @example
 * chooseTopology(8)     // full mesh
 * chooseTopology(50)    // client-server, 8 servers
 * chooseTopology(1000)  // HyParView, active view 5, passive 30
 */
export function chooseTopology(size: number, thresholds: { readonly fullMesh: number; readonly clientServer: number } = TOPOLOGY_THRESHOLDS): TopologyFactory {
  if (size <= thresholds.fullMesh) return fullMesh()
  if (size <= thresholds.clientServer) return clientServer({ servers: { count: Math.max(3, Math.ceil(Math.sqrt(size))) } })
  return hyparview(hyparviewSizes(size))
}
