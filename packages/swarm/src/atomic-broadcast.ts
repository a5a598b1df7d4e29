import type { Clock } from '@murmur/transport'
import { Emitter } from './internal/emitter.js'
import { Driver } from './internal/sim/driver.js'
import type { NodeId } from './internal/sim/machine.js'
import type { Prng } from './internal/sim/prng.js'
import { atomicLog, nodeOfMember, NoQuorum, refusal, type AtomicLogEvent, type AtomicLogMsg, type AtomicLogRequest, type AtomicLogState } from './atomic-log.js'

/** An atomic log's message between nodes: from and to member ids (`node#incarnation`). */
export interface AtomicWire {
  readonly f: string
  readonly to: string
  readonly m: AtomicLogMsg
}

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
 * reachable.
 *
 * Membership follows the cluster: the nodes that open the channel first bootstrap it with the
 * members reachable then (open it on those after the cluster formed, so that they agree); a node
 * that opens it later is added by the leader and delivers the whole log from the first message; a
 * member not heard from for a while is removed. Each node takes part as `nodeId#incarnation`: a
 * restarted node lost its log and its past votes, so it joins again as a new member (see
 * {@link atomicLog}).
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
  readonly #self: string
  #ref = 0

  /**
   * @param who `self` is this node's member id (`nodeId#incarnation`)
   * @param bootstrap member ids, this node's included
   * @param send carries a message to a node (the part of the member id before `#`)
   */
  constructor(
    readonly name: string,
    bootstrap: readonly string[],
    send: (node: string, wire: AtomicWire) => void,
    clock: Clock,
    who: { readonly self: NodeId; readonly rng: Prng },
  ) {
    this.#self = who.self
    this.driver = new Driver(atomicLog(), who, { members: bootstrap }, {
      clock,
      send: (to, m) => send(nodeOfMember(to), { f: who.self, to, m }),
      emit: (ev) => this.#onEvent(ev),
    })
  }

  /** The members in force (`nodeId#incarnation`), as this node's log has them. */
  get members(): readonly string[] {
    return this.driver.state.members
  }

  /**
   * A message from node `from` (as the transport authenticated it). One addressed to an earlier
   * incarnation of this node, or claiming another node as its sender, is dropped.
   */
  receive(from: string, wire: AtomicWire): void {
    if (wire.to !== this.#self || nodeOfMember(wire.f) !== from) return
    this.driver.input({ type: 'recv', from: wire.f, msg: wire.m })
  }

  /** The cluster saw node `node` go down or come back: tell the log about its members. */
  reachability(node: string, up: boolean): void {
    for (const m of this.driver.state.members) if (m !== this.#self && nodeOfMember(m) === node) this.driver.input({ type: up ? 'peer-up' : 'peer-down', peer: m })
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
