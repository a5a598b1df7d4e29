import type { Clock, TimerHandle } from '@murmur/transport'
import type { Effect, Input, Machine, NodeId } from './machine.js'
import { Runner } from './machine.js'
import type { Prng } from './prng.js'

/** What a machine's effects act on outside the simulator: a clock for timers, a way to send, a sink for events. */
export interface DriverIo<M, O> {
  readonly clock: Clock
  send(to: NodeId, msg: M): void
  emit(event: O): void
}

/**
 * Runs one protocol machine for real: carries out its effects with the transport's {@link Clock}
 * (named timers, a new one replacing the old) and the given `send` / `emit`. The simulator does the
 * same with virtual time; the machine cannot tell the two apart.
 *
 * @example
 * const d = new Driver(plumtree(), { self: 'n1', rng: prng(seed) }, undefined, {
 *   clock: systemClock,
 *   send: (to, msg) => channel.send(to, { l: 'pt', m: msg }),
 *   emit: (ev) => { if (ev.type === 'deliver') onBroadcast(ev) },
 * })
 * d.input({ type: 'peer-up', peer: 'n2' })
 */
export class Driver<S, M, A, O, I = void> {
  readonly runner: Runner<S, M, A, O, I>
  private readonly timers = new Map<string, TimerHandle>()
  private stopped = false

  constructor(machine: Machine<S, M, A, O, I>, who: { readonly self: NodeId; readonly rng: Prng }, init: I, private readonly io: DriverIo<M, O>) {
    this.runner = new Runner(machine, () => ({ self: who.self, now: io.clock.now(), rng: who.rng }), init)
    this.apply(this.runner.initialEffects)
  }

  get state(): S {
    return this.runner.state
  }

  input(input: Input<M, A>): void {
    if (this.stopped) return
    this.apply(this.runner.input(input))
  }

  /** Cancels every timer; later inputs are ignored. */
  stop(): void {
    this.stopped = true
    for (const h of this.timers.values()) this.io.clock.clearTimeout(h)
    this.timers.clear()
  }

  private apply(effects: readonly Effect<M, O>[]): void {
    for (const e of effects) {
      if (this.stopped) return
      switch (e.type) {
        case 'send':
          this.io.send(e.to, e.msg)
          break
        case 'emit':
          this.io.emit(e.event)
          break
        case 'set-timer': {
          this.cancel(e.name)
          const name = e.name
          this.timers.set(
            name,
            this.io.clock.setTimeout(() => {
              this.timers.delete(name)
              this.input({ type: 'timer', name })
            }, e.after),
          )
          break
        }
        case 'cancel-timer':
          this.cancel(e.name)
          break
      }
    }
  }

  private cancel(name: string): void {
    const h = this.timers.get(name)
    if (h === undefined) return
    this.io.clock.clearTimeout(h)
    this.timers.delete(name)
  }
}
