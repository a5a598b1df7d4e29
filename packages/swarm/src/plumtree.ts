import type { Ctx, Effect, Input, Machine, NodeId, Step } from './internal/sim/machine.js'

/**
 * Plumtree (Leitão, Pereira, Rodrigues, SRDS 2007): epidemic broadcast trees. Over the neighbours a
 * peer-sampling layer gives it (HyParView's active view, or any topology's links), each node pushes
 * a message's payload eagerly to its *eager* peers and announces it lazily (batched IHAVE) to its
 * *lazy* peers. A duplicate payload PRUNEs the link that carried it to lazy, so the eager links
 * settle into a spanning tree and each node forwards a payload about once: O(1) load per node per
 * broadcast instead of O(N). A node that hears of a message by IHAVE but does not receive it in time
 * GRAFTs the announcing link back into the tree, which repairs it after failures.
 *
 * Inputs: `recv` a {@link PlumtreeMsg}; `peer-up` / `peer-down` from the layer below (neighbour
 * events); `timer`; `app` {@link PlumtreeRequest}. Effects: `send`, timers, and `emit` of
 * `{ type: 'deliver', … }` exactly once per message per node (within `retention`).
 */
export interface PlumtreeOptions {
  /** Wait after the first IHAVE of a missing message before GRAFTing, ms. Default 250. */
  readonly missingTimeout?: number
  /** Wait before GRAFTing the next announcer when a GRAFT brought nothing, ms. Default 125. */
  readonly graftTimeout?: number
  /** IHAVE batching period, ms. Default 25. */
  readonly flushInterval?: number
  /** How long a delivered message is kept (to answer GRAFTs and to drop duplicates), ms. Default 60 000. */
  readonly retention?: number
  /** Repair by GRAFT. Off only to show what it is for. Default true. */
  readonly graft?: boolean
  /** PRUNE duplicate links to lazy. Off only to show what it is for. Default true. */
  readonly prune?: boolean
}

/** A message id: the origin node, its incarnation, and its sequence number. */
export type MessageId = string

export interface Announcement {
  readonly id: MessageId
  readonly round: number
}

export type PlumtreeMsg =
  | { readonly t: 'gossip'; readonly id: MessageId; readonly origin: NodeId; readonly round: number; readonly payload: unknown; readonly group?: string }
  | { readonly t: 'ihave'; readonly items: readonly Announcement[] }
  | { readonly t: 'graft'; readonly id: MessageId; readonly round: number }
  | { readonly t: 'prune' }

/**
 * `broadcast` to all, or to the members of `group`; `join-group` / `leave-group` set which group
 * messages this node delivers. Every node relays every message, member or not, so a group message
 * rides the one tree and costs what any broadcast costs.
 */
export type PlumtreeRequest =
  | { readonly type: 'broadcast'; readonly payload: unknown; readonly group?: string }
  | { readonly type: 'join-group'; readonly group: string }
  | { readonly type: 'leave-group'; readonly group: string }

export type PlumtreeEvent = {
  readonly type: 'deliver'
  readonly id: MessageId
  readonly origin: NodeId
  readonly payload: unknown
  readonly group?: string
  /** Hops from the origin. */
  readonly round: number
}

interface Stored {
  readonly origin: NodeId
  readonly payload: unknown
  readonly group?: string
  readonly at: number
}

export interface PlumtreeState {
  readonly eager: readonly NodeId[]
  readonly lazy: readonly NodeId[]
  /**
   * Drawn at start, so that a node that restarts under the same id does not reuse ids that others
   * still hold as delivered (they would drop its new messages as duplicates).
   */
  readonly incarnation: string
  readonly seq: number
  readonly received: ReadonlyMap<MessageId, Stored>
  /** Announcers of messages heard of by IHAVE but not received, oldest first. */
  readonly missing: ReadonlyMap<MessageId, readonly { readonly peer: NodeId; readonly round: number }[]>
  /** IHAVE announcements waiting for the next flush, per lazy peer. */
  readonly queue: ReadonlyMap<NodeId, readonly Announcement[]>
  /** Groups whose messages this node delivers. */
  readonly groups: readonly string[]
}

export type PlumtreeInput = Input<PlumtreeMsg, PlumtreeRequest>
type Eff = Effect<PlumtreeMsg, PlumtreeEvent>

export const PLUMTREE_FLUSH = 'pt:flush'
export const PLUMTREE_GC = 'pt:gc'
const graftTimer = (id: MessageId): string => `pt:graft:${id}`

interface Draft {
  eager: NodeId[]
  lazy: NodeId[]
  incarnation: string
  seq: number
  received: Map<MessageId, Stored> | ReadonlyMap<MessageId, Stored>
  missing: Map<MessageId, readonly { readonly peer: NodeId; readonly round: number }[]> | PlumtreeState['missing']
  queue: Map<NodeId, readonly Announcement[]> | PlumtreeState['queue']
  groups: readonly string[]
}

// Maps are copied only when a step changes them, so a step that changes little costs little.
const edit = <K, V>(m: ReadonlyMap<K, V>): Map<K, V> => new Map(m)

/**
 * @example
 * const pt = plumtree()
 * let { state } = pt.init(ctx, undefined)
 * ;({ state } = pt.step(state, { type: 'peer-up', peer: 'b' }, ctx))
 * const { effects } = pt.step(state, { type: 'app', req: { type: 'broadcast', payload: 'hi' } }, ctx)
 * // effects: emit deliver (local), send gossip to 'b'
 */
export function plumtree(options: PlumtreeOptions = {}): Machine<PlumtreeState, PlumtreeMsg, PlumtreeRequest, PlumtreeEvent> {
  const o = {
    missingTimeout: options.missingTimeout ?? 250,
    graftTimeout: options.graftTimeout ?? 125,
    flushInterval: options.flushInterval ?? 25,
    retention: options.retention ?? 60_000,
    graft: options.graft ?? true,
    prune: options.prune ?? true,
  }

  const toEager = (d: Draft, peer: NodeId): void => {
    d.lazy = d.lazy.filter((p) => p !== peer)
    if (!d.eager.includes(peer)) d.eager.push(peer)
  }
  const toLazy = (d: Draft, peer: NodeId): void => {
    d.eager = d.eager.filter((p) => p !== peer)
    if (!d.lazy.includes(peer)) d.lazy.push(peer)
  }
  const isNeighbor = (d: Draft, peer: NodeId): boolean => d.eager.includes(peer) || d.lazy.includes(peer)

  /** Delivers a new message and passes it on: payload to eager peers, IHAVE (queued) to lazy ones. */
  const accept = (d: Draft, ctx: Ctx, msg: Extract<PlumtreeMsg, { t: 'gossip' }>, from: NodeId | null, fx: Eff[]): void => {
    const stored: Stored = msg.group === undefined ? { origin: msg.origin, payload: msg.payload, at: ctx.now } : { origin: msg.origin, payload: msg.payload, group: msg.group, at: ctx.now }
    const received = edit(d.received)
    received.set(msg.id, stored)
    d.received = received
    if (msg.group === undefined) fx.push({ type: 'emit', event: { type: 'deliver', id: msg.id, origin: msg.origin, payload: msg.payload, round: msg.round } })
    else if (d.groups.includes(msg.group)) fx.push({ type: 'emit', event: { type: 'deliver', id: msg.id, origin: msg.origin, payload: msg.payload, group: msg.group, round: msg.round } })
    if (d.missing.has(msg.id)) {
      const missing = edit(d.missing)
      missing.delete(msg.id)
      d.missing = missing
      fx.push({ type: 'cancel-timer', name: graftTimer(msg.id) })
    }
    const next = { ...msg, round: msg.round + 1 }
    for (const p of d.eager) if (p !== from) fx.push({ type: 'send', to: p, msg: next })
    const lazy = d.lazy.filter((p) => p !== from)
    if (lazy.length > 0) {
      const queue = edit(d.queue)
      if (queue.size === 0) fx.push({ type: 'set-timer', name: PLUMTREE_FLUSH, after: o.flushInterval })
      for (const p of lazy) queue.set(p, [...(queue.get(p) ?? []), { id: msg.id, round: next.round }])
      d.queue = queue
    }
    if (from !== null && isNeighbor(d, from)) toEager(d, from)
  }

  const receive = (d: Draft, ctx: Ctx, from: NodeId, msg: PlumtreeMsg, fx: Eff[]): void => {
    switch (msg.t) {
      case 'gossip':
        if (!d.received.has(msg.id)) accept(d, ctx, msg, from, fx)
        else if (o.prune && d.eager.includes(from)) {
          toLazy(d, from)
          fx.push({ type: 'send', to: from, msg: { t: 'prune' } })
        }
        break
      case 'prune':
        if (isNeighbor(d, from)) toLazy(d, from)
        break
      case 'graft': {
        if (isNeighbor(d, from)) toEager(d, from)
        const stored = d.received.get(msg.id)
        if (stored !== undefined) {
          const base = { t: 'gossip' as const, id: msg.id, origin: stored.origin, round: msg.round, payload: stored.payload }
          fx.push({ type: 'send', to: from, msg: stored.group === undefined ? base : { ...base, group: stored.group } })
        }
        break
      }
      case 'ihave': {
        if (!o.graft) break
        let missing: Map<MessageId, readonly { readonly peer: NodeId; readonly round: number }[]> | null = null
        for (const { id, round } of msg.items) {
          if (d.received.has(id)) continue
          missing ??= edit(d.missing)
          const known = missing.get(id)
          if (known === undefined) fx.push({ type: 'set-timer', name: graftTimer(id), after: o.missingTimeout })
          missing.set(id, [...(known ?? []), { peer: from, round }])
        }
        if (missing !== null) d.missing = missing
        break
      }
    }
  }

  /** The missing-message timer: GRAFT the oldest announcer into the tree and wait again. */
  const graftMissing = (d: Draft, id: MessageId, fx: Eff[]): void => {
    const announcers = d.missing.get(id)
    if (announcers === undefined || d.received.has(id)) return
    const [first, ...rest] = announcers
    const missing = edit(d.missing)
    if (rest.length > 0) missing.set(id, rest)
    else missing.delete(id)
    d.missing = missing
    if (first === undefined) return
    if (isNeighbor(d, first.peer)) toEager(d, first.peer)
    fx.push({ type: 'send', to: first.peer, msg: { t: 'graft', id, round: first.round } })
    if (rest.length > 0) fx.push({ type: 'set-timer', name: graftTimer(id), after: o.graftTimeout })
  }

  const flush = (d: Draft, fx: Eff[]): void => {
    for (const [peer, items] of d.queue) if (isNeighbor(d, peer)) fx.push({ type: 'send', to: peer, msg: { t: 'ihave', items } })
    d.queue = new Map()
  }

  const collect = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    fx.push({ type: 'set-timer', name: PLUMTREE_GC, after: o.retention })
    const received = new Map([...d.received].filter(([, s]) => ctx.now - s.at < o.retention))
    d.received = received
  }

  const peerDown = (d: Draft, peer: NodeId): void => {
    d.eager = d.eager.filter((p) => p !== peer)
    d.lazy = d.lazy.filter((p) => p !== peer)
    if (d.queue.has(peer)) {
      const queue = edit(d.queue)
      queue.delete(peer)
      d.queue = queue
    }
    // Announcements from the lost peer stay: a GRAFT to it fails fast and the next one is tried.
  }

  return {
    init(ctx): Step<PlumtreeState, PlumtreeMsg, PlumtreeEvent> {
      return {
        state: { eager: [], lazy: [], incarnation: ctx.rng.int(2 ** 31).toString(36), seq: 0, received: new Map(), missing: new Map(), queue: new Map(), groups: [] },
        effects: [{ type: 'set-timer', name: PLUMTREE_GC, after: o.retention }],
      }
    },

    step(state, input, ctx) {
      const d: Draft = { ...state, eager: [...state.eager], lazy: [...state.lazy] }
      const fx: Eff[] = []
      switch (input.type) {
        case 'recv':
          receive(d, ctx, input.from, input.msg, fx)
          break
        case 'app': {
          if (input.req.type === 'join-group') {
            if (!d.groups.includes(input.req.group)) d.groups = [...d.groups, input.req.group]
            break
          }
          if (input.req.type === 'leave-group') {
            const group = input.req.group
            d.groups = d.groups.filter((g) => g !== group)
            break
          }
          const id = `${ctx.self}:${d.incarnation}:${d.seq}`
          d.seq++
          const base = { t: 'gossip' as const, id, origin: ctx.self, round: 0, payload: input.req.payload }
          accept(d, ctx, input.req.group === undefined ? base : { ...base, group: input.req.group }, null, fx)
          break
        }
        case 'timer':
          if (input.name === PLUMTREE_FLUSH) flush(d, fx)
          else if (input.name === PLUMTREE_GC) collect(d, ctx, fx)
          else if (input.name.startsWith('pt:graft:')) graftMissing(d, input.name.slice('pt:graft:'.length), fx)
          break
        case 'peer-up':
          if (!isNeighbor(d, input.peer)) d.eager.push(input.peer)
          break
        case 'peer-down':
          peerDown(d, input.peer)
          break
      }
      return { state: d, effects: fx }
    },
  }
}
