import type { Effect, Input, Machine, NodeId } from './internal/sim/machine.js'

/**
 * Causal broadcast: if a node delivered m1 before it broadcast m2 (m1 happened-before m2), every
 * node delivers m1 before m2. Each message carries its sender's vector clock (one entry per node
 * that ever broadcast, so it stays small when few nodes send); a receiver holds a message back until
 * it has delivered everything the clock says came before.
 *
 * It sits on a reliable broadcast (Plumtree): its `emit` `{ type: 'broadcast', msg }` asks the layer
 * below to broadcast `msg` to the other members; feed what that layer delivers back as
 * `{ type: 'recv', from: origin, msg }`. `{ type: 'deliver', msg }` events are the causal deliveries.
 * Needs every message eventually delivered (a lost one holds back its successors for good).
 */
export interface CausalOptions {
  /** Hold back messages that arrive ahead of their causal past. Off only to show what it is for. Default true. */
  readonly holdBack?: boolean
}

/** Delivered-message counts per sender. */
export type VectorClock = Readonly<Record<NodeId, number>>

export interface CausalMsg {
  readonly sender: NodeId
  /** The sender's clock at sending: its own entry is this message's sequence number (from 1). */
  readonly vc: VectorClock
  readonly payload: unknown
}

export type CausalRequest = { readonly type: 'broadcast'; readonly payload: unknown }
export type CausalEvent = { readonly type: 'deliver'; readonly msg: CausalMsg } | { readonly type: 'broadcast'; readonly msg: CausalMsg }

export interface CausalState {
  readonly vc: VectorClock
  /** Received, not yet deliverable. */
  readonly held: readonly CausalMsg[]
}

type Eff = Effect<CausalMsg, CausalEvent>

/** `a` happened-before `b`: a ≤ b entrywise and a ≠ b. */
export function happenedBefore(a: VectorClock, b: VectorClock): boolean {
  let strictly = false
  for (const k of new Set([...Object.keys(a), ...Object.keys(b)])) {
    const x = a[k] ?? 0
    const y = b[k] ?? 0
    if (x > y) return false
    if (x < y) strictly = true
  }
  return strictly
}

/** Deliverable at clock `vc`: the next message of its sender, with every other dependency delivered. */
function deliverable(vc: VectorClock, m: CausalMsg): boolean {
  for (const [k, n] of Object.entries(m.vc)) {
    const have = vc[k] ?? 0
    if (k === m.sender ? n !== have + 1 : n > have) return false
  }
  return true
}

/**
 * @example
 * const cb = causalBroadcast()
 * let { state } = cb.init(ctx, undefined)
 * const out = cb.step(state, { type: 'app', req: { type: 'broadcast', payload: 'hi' } }, ctx)
 * // out.effects: emit deliver (local) and emit broadcast { sender, vc: { [self]: 1 }, payload: 'hi' }
 */
export function causalBroadcast(options: CausalOptions = {}): Machine<CausalState, CausalMsg, CausalRequest, CausalEvent> {
  const holdBack = options.holdBack ?? true
  const tick = (vc: VectorClock, node: NodeId): VectorClock => ({ ...vc, [node]: (vc[node] ?? 0) + 1 })

  const receive = (state: CausalState, m: CausalMsg, fx: Eff[]): CausalState => {
    if ((m.vc[m.sender] ?? 0) <= (state.vc[m.sender] ?? 0)) return state // a duplicate
    if (!holdBack) {
      fx.push({ type: 'emit', event: { type: 'deliver', msg: m } })
      return { ...state, vc: tick(state.vc, m.sender) }
    }
    let vc = state.vc
    let held = [...state.held, m]
    // Delivering one message may make held ones deliverable: repeat until nothing moves.
    for (let moved = true; moved; ) {
      moved = false
      for (const h of held) {
        if (!deliverable(vc, h)) continue
        fx.push({ type: 'emit', event: { type: 'deliver', msg: h } })
        vc = tick(vc, h.sender)
        held = held.filter((x) => x !== h)
        moved = true
      }
    }
    return { vc, held }
  }

  return {
    init: () => ({ state: { vc: {}, held: [] }, effects: [] }),
    step(state, input: Input<CausalMsg, CausalRequest>, ctx) {
      const fx: Eff[] = []
      if (input.type === 'app') {
        const vc = tick(state.vc, ctx.self)
        const msg: CausalMsg = { sender: ctx.self, vc, payload: input.req.payload }
        fx.push({ type: 'emit', event: { type: 'deliver', msg } }, { type: 'emit', event: { type: 'broadcast', msg } })
        return { state: { ...state, vc }, effects: fx }
      }
      if (input.type === 'recv') return { state: receive(state, input.msg, fx), effects: fx }
      return { state, effects: fx }
    },
  }
}
