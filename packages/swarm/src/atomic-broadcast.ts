import type { Clock } from '@murmur/transport'
import { Emitter } from './internal/emitter.js'
import { Driver } from './internal/sim/driver.js'
import type { NodeId } from './internal/sim/machine.js'
import type { Prng } from './internal/sim/prng.js'
import { atomicLog, NoQuorum, refusal, type AtomicLogEvent, type AtomicLogMsg, type AtomicLogRequest, type AtomicLogState } from './atomic-log.js'

/** Events of an {@link AtomicChannel}. */
export interface AtomicEvents {
  /** Delivered in the same order on every member. */
  deliver: { readonly index: number; readonly id: string; readonly payload: unknown }
  role: Extract<AtomicLogEvent, { type: 'role' }>
}

/**
 * Atomic broadcast (`node.atomic(name)`): every member delivers the same messages in the same
 * total order, through a leader-sequenced, majority-acknowledged log. `publish` resolves with the
 * message's position once a majority holds it, and rejects with `NoQuorum` when no majority is
 * reachable. The member list is fixed when the channel is first opened (by default the reachable
 * members at that moment): open it on every member after the cluster formed.
 *
 * @example
 * const orders = node.atomic('orders')
 * orders.on('deliver', ({ index, payload }) => apply(index, payload))
 * await orders.publish({ buy: 'x' })   // NoQuorum on a minority side
 */
export class AtomicChannel {
  readonly driver: Driver<AtomicLogState, AtomicLogMsg, AtomicLogRequest, AtomicLogEvent, { members: readonly string[] }>
  readonly #events = new Emitter<AtomicEvents>()
  readonly #waiting = new Map<string, { resolve: (index: number) => void; reject: (e: Error) => void }>()
  #ref = 0

  constructor(
    readonly name: string,
    readonly members: readonly string[],
    send: (to: NodeId, msg: AtomicLogMsg) => void,
    clock: Clock,
    who: { readonly self: NodeId; readonly rng: Prng },
  ) {
    this.driver = new Driver(atomicLog(), who, { members }, {
      clock,
      send,
      emit: (ev) => this.#onEvent(ev),
    })
  }

  #onEvent(ev: AtomicLogEvent): void {
    if (ev.type === 'deliver') this.#events.emit('deliver', { index: ev.index, id: ev.id, payload: ev.payload })
    else if (ev.type === 'role') this.#events.emit('role', ev)
    else {
      const w = this.#waiting.get(ev.ref)
      if (w === undefined) return
      this.#waiting.delete(ev.ref)
      if (ev.type === 'committed') w.resolve(ev.index)
      else w.reject(refusal(ev))
    }
  }

  /** The current leader as this member knows it. */
  leader(): string | null {
    return this.driver.state.leader
  }

  /** Proposes `payload`; resolves with its index once committed. Rejects with `NoQuorum`. */
  publish(payload: unknown): Promise<number> {
    const ref = String(++this.#ref)
    return new Promise<number>((resolve, reject) => {
      this.#waiting.set(ref, { resolve, reject })
      this.driver.input({ type: 'app', req: { type: 'propose', ref, payload } })
    })
  }

  on<E extends keyof AtomicEvents>(event: E, fn: (data: AtomicEvents[E]) => void): () => void {
    return this.#events.on(event, fn)
  }

  close(): void {
    this.driver.stop()
    for (const w of this.#waiting.values()) w.reject(new NoQuorum(`atomic channel ${this.name} closed`))
    this.#waiting.clear()
  }
}
