import type { Ctx, Effect, Input, Machine, NodeId, Step } from './internal/sim/machine.js'

/**
 * HyParView (Leitão, Pereira, Rodrigues, DSN 2007): a peer-sampling overlay. Each node keeps a small
 * symmetric *active* view (its open connections, the neighbours a broadcast layer uses) and a larger
 * *passive* view (a reserve of known nodes, refreshed by shuffles) from which it promotes a node when
 * an active neighbour fails.
 *
 * A pure machine: `hyParView(options)` returns `{ init, step }`. Over a real transport, feed it
 * `recv` for each {@link HyParViewMsg} received, `peer-down` when a connection to a peer fails,
 * `timer` when a timer it set fires; carry out its `send` / `set-timer` effects; its `emit` effects
 * are {@link HyParViewEvent}s (active view changes) to hand to the broadcast layer as peer-up/down.
 */
export interface HyParViewOptions {
  /** Active view size; log(N) + 1 suits N nodes. Default 5. */
  readonly activeSize?: number
  /** Passive view size. Default 30. */
  readonly passiveSize?: number
  /** Active random walk length: hops of a FORWARD_JOIN (and a SHUFFLE). Default 6. */
  readonly arwl?: number
  /** Passive random walk length: the hop at which a FORWARD_JOIN adds the new node to the passive view. Default 3. */
  readonly prwl?: number
  /** Active nodes sent in a SHUFFLE. Default 3. */
  readonly shuffleActive?: number
  /** Passive nodes sent in a SHUFFLE. Default 4. */
  readonly shufflePassive?: number
  /** Period of the maintenance tick (shuffle, refill of the active view), ms. Default 1000. */
  readonly interval?: number
  /** How long to wait for a NEIGHBOR reply before trying another passive node, ms. Default 500. */
  readonly neighborTimeout?: number
  /**
   * Period of the attempt to rejoin through an active neighbour that was lost (a JOIN to one of
   * them), so that the two sides of a healed partition link up again; 0 turns it off. Default 5000.
   */
  readonly rejoinInterval?: number
  /** How long a lost neighbour is kept for rejoin attempts, ms. Default 120 000. */
  readonly lostTtl?: number
  /** Lost neighbours remembered at most. Default 8. */
  readonly lostSize?: number
}

export type HyParViewMsg =
  /** A new node asks its contact to let it in. */
  | { readonly t: 'join' }
  /** A random walk that spreads a new node into active and passive views. */
  | { readonly t: 'forward-join'; readonly node: NodeId; readonly ttl: number }
  /** "I put you in my active view": the receiver adds the sender too, to keep views symmetric. */
  | { readonly t: 'connect' }
  /** A request to be promoted into the receiver's active view; `high` ones (the sender has no neighbours) are always accepted. */
  | { readonly t: 'neighbor'; readonly high: boolean; readonly degree: number }
  | { readonly t: 'neighbor-reply'; readonly accepted: boolean }
  /**
   * The sender dropped the receiver from its active view (it moves to the passive view). With
   * `replace`, the receiver connects to that node instead: the sender swapped the link to it.
   */
  | { readonly t: 'disconnect'; readonly replace?: NodeId }
  | { readonly t: 'shuffle'; readonly origin: NodeId; readonly nodes: readonly NodeId[]; readonly ttl: number }
  | { readonly t: 'shuffle-reply'; readonly nodes: readonly NodeId[] }

export type HyParViewEvent = { readonly type: 'neighbor-up'; readonly peer: NodeId } | { readonly type: 'neighbor-down'; readonly peer: NodeId }

/** Application requests: join (again) through a contact. */
export type HyParViewRequest = { readonly type: 'join'; readonly contact: NodeId }

export interface HyParViewState {
  readonly active: readonly NodeId[]
  readonly passive: readonly NodeId[]
  /** The passive node asked by a NEIGHBOR request in flight, if any. */
  readonly pending: NodeId | null
  /** The nodes this node sent in its last SHUFFLE: the first to drop when the reply arrives. */
  readonly shuffled: readonly NodeId[]
  readonly contact: NodeId | null
  /** Active neighbours lost to a failure, and when: rejoin candidates after a partition heals. */
  readonly lost: readonly { readonly peer: NodeId; readonly at: number }[]
}

export interface HyParViewInit {
  /** The node to join through; none for the first node. */
  readonly contact?: NodeId
}

export type HyParViewInput = Input<HyParViewMsg, HyParViewRequest>
type Eff = Effect<HyParViewMsg, HyParViewEvent>

/** Timer names this machine sets. */
export const HYPARVIEW_TICK = 'hv:tick'
export const HYPARVIEW_NEIGHBOR = 'hv:neighbor'
export const HYPARVIEW_REJOIN = 'hv:rejoin'

interface Draft {
  active: NodeId[]
  passive: NodeId[]
  pending: NodeId | null
  shuffled: readonly NodeId[]
  contact: NodeId | null
  lost: HyParViewState['lost']
}

/**
 * @example
 * const hv = hyParView({ activeSize: 5 })
 * let { state, effects } = hv.init(ctx, { contact: 'seed' })      // effects: send join to 'seed', set tick timer
 * ;({ state, effects } = hv.step(state, { type: 'recv', from: 'seed', msg: { t: 'connect' } }, ctx))
 * // effects: [{ type: 'emit', event: { type: 'neighbor-up', peer: 'seed' } }]
 */
export function hyParView(options: HyParViewOptions = {}): Machine<HyParViewState, HyParViewMsg, HyParViewRequest, HyParViewEvent, HyParViewInit> {
  const o = {
    activeSize: options.activeSize ?? 5,
    passiveSize: options.passiveSize ?? 30,
    arwl: options.arwl ?? 6,
    prwl: options.prwl ?? 3,
    shuffleActive: options.shuffleActive ?? 3,
    shufflePassive: options.shufflePassive ?? 4,
    interval: options.interval ?? 1000,
    neighborTimeout: options.neighborTimeout ?? 500,
    rejoinInterval: options.rejoinInterval ?? 5000,
    lostTtl: options.lostTtl ?? 120_000,
    lostSize: options.lostSize ?? 8,
  }

  const addPassive = (d: Draft, ctx: Ctx, node: NodeId, dropFirst: readonly NodeId[] = []): void => {
    if (node === ctx.self || d.active.includes(node) || d.passive.includes(node)) return
    if (d.passive.length >= o.passiveSize) {
      const preferred = d.passive.filter((p) => dropFirst.includes(p))
      const victim = ctx.rng.pick(preferred.length > 0 ? preferred : d.passive)
      d.passive = d.passive.filter((p) => p !== victim)
    }
    d.passive.push(node)
  }

  const removeActive = (d: Draft, peer: NodeId, fx: Eff[]): boolean => {
    if (!d.active.includes(peer)) return false
    d.active = d.active.filter((p) => p !== peer)
    fx.push({ type: 'emit', event: { type: 'neighbor-down', peer } })
    return true
  }

  const addActive = (d: Draft, ctx: Ctx, peer: NodeId, fx: Eff[]): void => {
    if (peer === ctx.self || d.active.includes(peer)) return
    if (d.active.length >= o.activeSize) {
      const victim = ctx.rng.pick(d.active) as NodeId
      removeActive(d, victim, fx)
      fx.push({ type: 'send', to: victim, msg: { t: 'disconnect' } })
      addPassive(d, ctx, victim)
    }
    d.passive = d.passive.filter((p) => p !== peer)
    if (d.lost.some((l) => l.peer === peer)) d.lost = d.lost.filter((l) => l.peer !== peer)
    if (d.pending === peer) {
      d.pending = null
      fx.push({ type: 'cancel-timer', name: HYPARVIEW_NEIGHBOR })
    }
    d.active.push(peer)
    fx.push({ type: 'emit', event: { type: 'neighbor-up', peer } })
  }

  /** Asks a random passive node to become a neighbour, one request at a time. */
  const promote = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    if (d.pending !== null || d.active.length >= o.activeSize) return
    const candidate = ctx.rng.pick(d.passive)
    if (candidate === undefined) return
    d.pending = candidate
    fx.push({ type: 'send', to: candidate, msg: { t: 'neighbor', high: d.active.length === 0, degree: d.active.length } })
    fx.push({ type: 'set-timer', name: HYPARVIEW_NEIGHBOR, after: o.neighborTimeout })
  }

  /** A NEIGHBOR request that failed or timed out: forget that node and try another. */
  const abandonPending = (d: Draft, ctx: Ctx, fx: Eff[], dead: boolean): void => {
    const p = d.pending
    if (p === null) return
    d.pending = null
    fx.push({ type: 'cancel-timer', name: HYPARVIEW_NEIGHBOR })
    if (dead) d.passive = d.passive.filter((x) => x !== p)
    promote(d, ctx, fx)
  }

  const tick = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    fx.push({ type: 'set-timer', name: HYPARVIEW_TICK, after: o.interval })
    if (d.active.length === 0 && d.passive.length === 0 && d.contact !== null && d.contact !== ctx.self) {
      fx.push({ type: 'send', to: d.contact, msg: { t: 'join' } })
      return
    }
    promote(d, ctx, fx)
    const target = ctx.rng.pick(d.active)
    if (target === undefined) return
    const nodes = [
      ctx.self,
      ...ctx.rng.sample(d.active.filter((p) => p !== target), o.shuffleActive),
      ...ctx.rng.sample(d.passive, o.shufflePassive),
    ]
    d.shuffled = nodes
    fx.push({ type: 'send', to: target, msg: { t: 'shuffle', origin: ctx.self, nodes, ttl: o.arwl } })
  }

  /**
   * A partition empties both sides' views of each other, and HyParView alone never links two
   * converged components again. So a node retries, now and then, a JOIN through a neighbour it lost
   * to a failure: dead ones just fail again; across a healed partition the JOIN succeeds and its
   * random walks splice the two overlays together.
   */
  const rejoin = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    fx.push({ type: 'set-timer', name: HYPARVIEW_REJOIN, after: o.rejoinInterval })
    d.lost = d.lost.filter((l) => ctx.now - l.at < o.lostTtl && !d.active.includes(l.peer))
    const target = ctx.rng.pick(d.lost)
    if (target !== undefined) fx.push({ type: 'send', to: target.peer, msg: { t: 'join' } })
  }

  const receive = (d: Draft, ctx: Ctx, from: NodeId, msg: HyParViewMsg, fx: Eff[]): void => {
    switch (msg.t) {
      case 'join': {
        addActive(d, ctx, from, fx)
        fx.push({ type: 'send', to: from, msg: { t: 'connect' } })
        for (const p of d.active) if (p !== from) fx.push({ type: 'send', to: p, msg: { t: 'forward-join', node: from, ttl: o.arwl } })
        break
      }
      case 'forward-join': {
        if (msg.node === ctx.self || d.active.includes(msg.node)) break
        const next = ctx.rng.pick(d.active.filter((p) => p !== from && p !== msg.node))
        if (msg.ttl <= 0 || d.active.length <= 1 || next === undefined) {
          addActive(d, ctx, msg.node, fx)
          fx.push({ type: 'send', to: msg.node, msg: { t: 'connect' } })
          break
        }
        if (msg.ttl === o.prwl) addPassive(d, ctx, msg.node)
        fx.push({ type: 'send', to: next, msg: { t: 'forward-join', node: msg.node, ttl: msg.ttl - 1 } })
        break
      }
      case 'connect':
        addActive(d, ctx, from, fx)
        break
      case 'neighbor': {
        // A full node still helps a requester short of two or more links, by an edge swap: it
        // drops a neighbour X and asks X to link to the requester, who so gains two links while
        // the full nodes keep theirs. Without it a few nodes stay below a full view for good once
        // everyone else is full (low-priority requests are refused by full nodes).
        const swap = !msg.high && d.active.length >= o.activeSize && msg.degree <= o.activeSize - 2 && !d.active.includes(from)
        const victim = swap ? ctx.rng.pick(d.active) : undefined
        if (victim !== undefined) {
          removeActive(d, victim, fx)
          addPassive(d, ctx, victim)
          fx.push({ type: 'send', to: victim, msg: { t: 'disconnect', replace: from } })
        }
        const accepted = msg.high || d.active.length < o.activeSize || d.active.includes(from)
        if (accepted) addActive(d, ctx, from, fx)
        fx.push({ type: 'send', to: from, msg: { t: 'neighbor-reply', accepted } })
        break
      }
      case 'neighbor-reply':
        // An acceptance means the peer put us in its active view: take it, even if late. A late one
        // (the request was settled otherwise meanwhile, maybe by a DISCONNECT we sent after it) is
        // confirmed by a CONNECT, which reaches the peer after that DISCONNECT and restores symmetry.
        if (msg.accepted) {
          const late = d.pending !== from && !d.active.includes(from)
          addActive(d, ctx, from, fx)
          if (late) fx.push({ type: 'send', to: from, msg: { t: 'connect' } })
        } else if (d.pending === from) abandonPending(d, ctx, fx, false)
        break
      case 'disconnect':
        if (removeActive(d, from, fx)) addPassive(d, ctx, from)
        if (msg.replace !== undefined && !d.active.includes(msg.replace) && msg.replace !== ctx.self) {
          addActive(d, ctx, msg.replace, fx)
          fx.push({ type: 'send', to: msg.replace, msg: { t: 'connect' } })
        }
        break
      case 'shuffle': {
        if (msg.origin === ctx.self) break
        const next = ctx.rng.pick(d.active.filter((p) => p !== from && p !== msg.origin))
        if (msg.ttl - 1 > 0 && d.active.length > 1 && next !== undefined) {
          fx.push({ type: 'send', to: next, msg: { ...msg, ttl: msg.ttl - 1 } })
          break
        }
        const reply = ctx.rng.sample(d.passive, msg.nodes.length)
        fx.push({ type: 'send', to: msg.origin, msg: { t: 'shuffle-reply', nodes: reply } })
        for (const n of msg.nodes) addPassive(d, ctx, n, reply)
        break
      }
      case 'shuffle-reply':
        for (const n of msg.nodes) addPassive(d, ctx, n, d.shuffled)
        break
    }
  }

  return {
    init(ctx, init): Step<HyParViewState, HyParViewMsg, HyParViewEvent> {
      const fx: Eff[] = [{ type: 'set-timer', name: HYPARVIEW_TICK, after: ctx.rng.int(o.interval) + 1 }]
      if (o.rejoinInterval > 0) fx.push({ type: 'set-timer', name: HYPARVIEW_REJOIN, after: ctx.rng.int(o.rejoinInterval) + 1 })
      if (init.contact !== undefined && init.contact !== ctx.self) fx.push({ type: 'send', to: init.contact, msg: { t: 'join' } })
      return { state: { active: [], passive: [], pending: null, shuffled: [], contact: init.contact ?? null, lost: [] }, effects: fx }
    },

    step(state, input, ctx) {
      const d: Draft = { ...state, active: [...state.active], passive: [...state.passive] }
      const fx: Eff[] = []
      switch (input.type) {
        case 'recv':
          receive(d, ctx, input.from, input.msg, fx)
          break
        case 'timer':
          if (input.name === HYPARVIEW_TICK) tick(d, ctx, fx)
          else if (input.name === HYPARVIEW_NEIGHBOR) abandonPending(d, ctx, fx, true)
          else if (input.name === HYPARVIEW_REJOIN) rejoin(d, ctx, fx)
          break
        case 'peer-down':
          if (removeActive(d, input.peer, fx)) d.lost = [...d.lost.filter((l) => l.peer !== input.peer), { peer: input.peer, at: ctx.now }].slice(-o.lostSize)
          d.passive = d.passive.filter((p) => p !== input.peer)
          if (d.pending === input.peer) abandonPending(d, ctx, fx, true)
          else promote(d, ctx, fx)
          break
        case 'peer-up':
          addPassive(d, ctx, input.peer)
          break
        case 'app':
          d.contact = input.req.contact
          if (input.req.contact !== ctx.self) fx.push({ type: 'send', to: input.req.contact, msg: { t: 'join' } })
          break
      }
      return { state: d, effects: fx }
    },
  }
}
