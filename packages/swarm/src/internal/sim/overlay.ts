import type { NodeId } from './machine.js'
import { deriveSeed, prng } from './prng.js'
import { Simulator, type SimOptions } from './simulator.js'
import { OverlayStack, type StackEvent, type StackMsg, type StackOptions, type StackRequest } from './stack.js'

/** Scenarios of a HyParView + Plumtree overlay on the simulator: what the tests and `sim.*` benchmarks run. */
export interface OverlaySim {
  readonly sim: Simulator<StackMsg, StackEvent>
  readonly ids: readonly NodeId[]
  /** Per node, the message ids it delivered, in order. */
  readonly delivered: Map<NodeId, string[]>
  /** Ms per maintenance round (HyParView's tick interval). */
  readonly round: number
}

export interface OverlayOptions extends StackOptions {
  readonly nodes: number
  readonly seed: number
  readonly net?: Omit<SimOptions, 'seed'>
}

export const nodeName = (i: number): NodeId => `n${i}`

/**
 * A cold start: node n0 first, every other node joins through n0 at a random instant of the first
 * round (a single seed, as a fresh cluster has).
 */
export function coldStart(options: OverlayOptions): OverlaySim {
  const o = emptyOverlay(options)
  const start = prng(deriveSeed(options.seed, 'start'))
  o.ids.forEach((id, i) => {
    const at = i === 0 ? 0 : 1 + start.int(o.round - 1)
    o.sim.at(at, () => addNode(o, options, id, i === 0 ? {} : { contact: 'n0' }))
  })
  return o
}

/**
 * All nodes at once, each told of every other by `peer-up` (as a converged membership would): the
 * start for the static topologies (full mesh, client-server).
 */
export function knownStart(options: OverlayOptions): OverlaySim {
  const o = emptyOverlay(options)
  for (const id of o.ids) addNode(o, options, id, {})
  for (const id of o.ids) for (const peer of o.ids) if (peer !== id) o.sim.input(id, { type: 'peer-up', peer })
  return o
}

function emptyOverlay(options: OverlayOptions): OverlaySim {
  const sim = new Simulator<StackMsg, StackEvent>({ ...options.net, seed: options.seed })
  const ids = Array.from({ length: options.nodes }, (_, i) => nodeName(i))
  const delivered = new Map<NodeId, string[]>()
  sim.onEmit = (node, ev) => {
    if (ev.type !== 'deliver') return
    const list = delivered.get(node) ?? []
    list.push(ev.id)
    delivered.set(node, list)
  }
  return { sim, ids, delivered, round: options.hyparview?.interval ?? 1000 }
}

function addNode(o: OverlaySim, options: OverlayOptions, id: NodeId, init: { contact?: NodeId }): void {
  o.sim.add(id, (ctx) => {
    const proc = new OverlayStack(ctx, init, options)
    return { proc, effects: proc.initialEffects }
  })
}

/** What the overlay checks read: any simulation whose processes report their links. */
export interface OverlayView<M, O> {
  readonly sim: Simulator<M, O>
  readonly ids: readonly NodeId[]
  readonly round: number
}

/** The live nodes' active views (their links). */
export function activeViews<M, O>(o: OverlayView<M, O>): Map<NodeId, readonly NodeId[]> {
  const views = new Map<NodeId, readonly NodeId[]>()
  for (const id of o.sim.aliveIds()) views.set(id, [...o.sim.process(id).links()])
  return views
}

export interface OverlayHealth {
  readonly nodes: number
  /** Every live node reaches every other over active links to live nodes. */
  readonly connected: boolean
  /** Every active link among live nodes is in both nodes' views. */
  readonly symmetric: boolean
  /** Live nodes whose active view is full. */
  readonly full: number
  /** Active-view entries that point at crashed nodes. */
  readonly stale: number
  readonly minDegree: number
}

export function health<M, O>(o: OverlayView<M, O>, activeSize = 5): OverlayHealth {
  const views = activeViews(o)
  let symmetric = true
  let full = 0
  let stale = 0
  let minDegree = Infinity
  for (const [id, active] of views) {
    if (active.length >= activeSize) full++
    minDegree = Math.min(minDegree, active.length)
    for (const p of active) {
      const back = views.get(p)
      if (back === undefined) stale++
      else if (!back.includes(id)) symmetric = false
    }
  }
  const first = views.keys().next().value
  const seen = new Set<NodeId>()
  if (first !== undefined) {
    const stack = [first]
    seen.add(first)
    while (stack.length > 0) {
      const cur = stack.pop() as NodeId
      for (const p of views.get(cur) ?? []) {
        if (views.has(p) && !seen.has(p)) {
          seen.add(p)
          stack.push(p)
        }
      }
    }
  }
  return { nodes: views.size, connected: seen.size === views.size, symmetric, full, stale, minDegree: views.size === 0 ? 0 : minDegree }
}

/**
 * Converged, precisely: all nodes have joined, the overlay of active views is connected and
 * symmetric, and every node's active view is full or one short of full (a node one short needs
 * another node one short to pair with, which the random passive views find only slowly; over 99%
 * of nodes are full at that point, see {@link health}). Returns the rounds (HyParView ticks, 1 s each by
 * default) from the cold start until that first holds at a round boundary, or null within `maxRounds`.
 */
export function roundsToConverge<M, O>(o: OverlayView<M, O>, activeSize = 5, maxRounds = 60): number | null {
  for (let r = 1; r <= maxRounds; r++) {
    o.sim.runUntil(r * o.round)
    if (o.sim.ids().length < o.ids.length) continue
    const h = health(o, activeSize)
    if (h.connected && h.symmetric && h.minDegree >= activeSize - 1) return r
  }
  return null
}

/** Crashes `fraction` of the nodes, chosen by a PRNG of `seed` (never the node named `keep`). */
export function crashFraction(o: OverlaySim, fraction: number, seed: number, keep: NodeId[] = []): NodeId[] {
  const rng = prng(deriveSeed(seed, 'crash'))
  const candidates = o.sim.aliveIds().filter((id) => !keep.includes(id))
  const victims = rng.sample(candidates, Math.round(fraction * o.sim.aliveIds().length))
  for (const v of victims) o.sim.crash(v)
  return victims
}

export interface BroadcastResult {
  /** Live nodes that delivered it, over live nodes. */
  readonly reach: number
  /** Messages of all kinds sent during the broadcast (overlay maintenance excluded), per live node. */
  readonly messagesPerNode: number
  /** Payload-carrying messages per live node. */
  readonly payloadsPerNode: number
  /** Nodes that delivered it more than once (must be 0). */
  readonly duplicates: number
}

/**
 * One broadcast by Plumtree from `origin`, run for `settle` ms, counting the broadcast layer's
 * messages. HyParView's own maintenance keeps running but is not counted.
 */
export function broadcastOnce(o: OverlaySim, origin: NodeId, settle = 3000): BroadcastResult {
  let all = 0
  let payloads = 0
  const prev = o.sim.onSend
  o.sim.onSend = (from, to, msg) => {
    prev(from, to, msg)
    if (msg.l !== 'pt') return
    all++
    if (msg.m.t === 'gossip') payloads++
  }
  const before = new Map([...o.delivered].map(([k, v]) => [k, v.length]))
  o.sim.input(origin, { type: 'app', req: { layer: 'pt', req: { type: 'broadcast', payload: 'x' } } satisfies StackRequest })
  o.sim.runFor(settle)
  o.sim.onSend = prev
  const alive = o.sim.aliveIds()
  let reached = 0
  let duplicates = 0
  for (const id of alive) {
    const list = o.delivered.get(id) ?? []
    const fresh = list.slice(before.get(id) ?? 0)
    if (fresh.length > 0) reached++
    if (new Set(list).size !== list.length) duplicates++
  }
  return { reach: reached / alive.length, messagesPerNode: all / alive.length, payloadsPerNode: payloads / alive.length, duplicates }
}

/**
 * The baseline: flooding on a full mesh. Every node, on first receipt, sends the payload to every
 * other node; duplicates are dropped. Run as a plain loop over receipts rather than on the event
 * simulator: timing cannot change how many messages flooding sends (each node sends once, to all),
 * and a million simulated events would only cost time. Returns messages per broadcast per node.
 */
export function floodCost(nodes: number, seed: number): number {
  const rng = prng(deriveSeed(seed, 'flood'))
  const seen = new Uint8Array(nodes)
  const pending = [rng.int(nodes)]
  let sent = 0
  while (pending.length > 0) {
    const node = pending.pop() as number
    if (seen[node] === 1) continue
    seen[node] = 1
    for (let peer = 0; peer < nodes; peer++) {
      if (peer === node) continue
      sent++
      if (seen[peer] === 0) pending.push(peer)
    }
  }
  return sent / nodes
}
