import type { Clock } from '@murmur/transport'
import { Emitter } from './internal/emitter.js'
import { Driver } from './internal/sim/driver.js'
import type { NodeId } from './internal/sim/machine.js'
import type { Prng } from './internal/sim/prng.js'
import { crdtMapMachine, get as crdtGet, has as crdtHas, toObject, type Change, type CrdtMapMsg, type CrdtMapRequest, type CrdtReplica, type Semantics } from './crdt-map.js'

/** Events of a {@link SharedState}. */
export interface SharedStateEvents {
  change: Change
}

/**
 * A replicated map (`node.state(name)`): reads are local, writes apply here at once and spread by
 * push and anti-entropy; every replica converges to the same contents (a CRDT: `lww` or
 * `add-wins`). `change` fires for every visible change, local or merged.
 *
 * @example
 * const prices = node.state('prices')
 * prices.put('eur', 1.08)
 * prices.on('change', ({ key, value }) => console.log(key, value))
 * other.state('prices').get('eur') // 1.08, once gossip reached it
 */
export class SharedState {
  readonly driver: Driver<CrdtReplica, CrdtMapMsg, CrdtMapRequest, Change>
  readonly #events = new Emitter<SharedStateEvents>()

  constructor(
    readonly name: string,
    readonly semantics: Semantics,
    send: (to: NodeId, msg: CrdtMapMsg) => void,
    clock: Clock,
    who: { readonly self: NodeId; readonly rng: Prng },
    tombstoneGrace?: number,
  ) {
    this.driver = new Driver(crdtMapMachine(tombstoneGrace === undefined ? { semantics } : { semantics, tombstoneGrace }), who, undefined, {
      clock,
      send,
      emit: (change) => this.#events.emit('change', change),
    })
  }

  get(key: string): unknown {
    return crdtGet(this.driver.state.map, key)
  }

  has(key: string): boolean {
    return crdtHas(this.driver.state.map, key)
  }

  /** The visible contents, keys sorted. */
  entries(): Record<string, unknown> {
    return toObject(this.driver.state.map)
  }

  put(key: string, value: unknown): void {
    this.driver.input({ type: 'app', req: { type: 'put', key, value } })
  }

  remove(key: string): void {
    this.driver.input({ type: 'app', req: { type: 'remove', key } })
  }

  on<E extends keyof SharedStateEvents>(event: E, fn: (data: SharedStateEvents[E]) => void): () => void {
    return this.#events.on(event, fn)
  }
}

