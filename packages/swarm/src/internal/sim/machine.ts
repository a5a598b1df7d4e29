import type { Prng } from './prng.js'

/**
 * The shape every protocol of this package shares: a pure transition function
 * `(state, input, ctx) => { state, effects }`, kept apart from what runs it (the simulator here,
 * the swarm's transport runner in production). Messages are plain serializable objects.
 */
export type NodeId = string

/** What a machine may read besides its state: who it is, the time, and its only source of chance. */
export interface Ctx {
  readonly self: NodeId
  /** Milliseconds, virtual in the simulator. */
  readonly now: number
  readonly rng: Prng
}

/** Inputs every machine understands. `A` is the machine's own application request type. */
export type Input<M, A = never> =
  | { readonly type: 'recv'; readonly from: NodeId; readonly msg: M }
  /** A timer this machine set (by name) fired. */
  | { readonly type: 'timer'; readonly name: string }
  /** A peer became reachable (a link opened, or the membership saw it come up). */
  | { readonly type: 'peer-up'; readonly peer: NodeId }
  /** A peer failed or its link closed. */
  | { readonly type: 'peer-down'; readonly peer: NodeId }
  | { readonly type: 'app'; readonly req: A }

/** Effects a machine asks its runner to carry out. `O` is the machine's own event type. */
export type Effect<M, O = never> =
  | { readonly type: 'send'; readonly to: NodeId; readonly msg: M }
  /** Set (or re-set) the named timer; a timer of the same name set earlier is replaced. */
  | { readonly type: 'set-timer'; readonly name: string; readonly after: number }
  | { readonly type: 'cancel-timer'; readonly name: string }
  /** An event for the layer above: a delivery, a view change, a refusal. */
  | { readonly type: 'emit'; readonly event: O }

export interface Step<S, M, O> {
  readonly state: S
  readonly effects: readonly Effect<M, O>[]
}

/**
 * A protocol: `init` builds the first state (and may set timers); `step` is the transition.
 * Neither touches anything outside its arguments but `ctx.rng`.
 */
export interface Machine<S, M, A, O, I = void> {
  init(ctx: Ctx, init: I): Step<S, M, O>
  step(state: S, input: Input<M, A>, ctx: Ctx): Step<S, M, O>
}

export const send = <M>(to: NodeId, msg: M): Effect<M, never> => ({ type: 'send', to, msg })
export const emit = <O>(event: O): Effect<never, O> => ({ type: 'emit', event })
export const setTimer = (name: string, after: number): Effect<never, never> => ({ type: 'set-timer', name, after })
export const cancelTimer = (name: string): Effect<never, never> => ({ type: 'cancel-timer', name })

/**
 * Holds one machine's state and feeds it inputs: the smallest runner, used by the simulator and
 * usable as is over a real transport (call `input`, carry out the returned effects; carry out
 * `initialEffects` once after construction).
 */
export class Runner<S, M, A, O, I = void> {
  state: S
  readonly initialEffects: readonly Effect<M, O>[]
  constructor(
    readonly machine: Machine<S, M, A, O, I>,
    readonly ctx: () => Ctx,
    init: I,
  ) {
    const first = machine.init(ctx(), init)
    this.state = first.state
    this.initialEffects = first.effects
  }

  input(input: Input<M, A>): readonly Effect<M, O>[] {
    const next = this.machine.step(this.state, input, this.ctx())
    this.state = next.state
    return next.effects
  }
}
