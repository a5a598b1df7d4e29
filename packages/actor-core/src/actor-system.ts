import type { Agent, AgentClass, SpawnOptions } from './agent.js'
import type { DeadLetters } from './dead-letters.js'
import type { AgentAddress, Envelope, Router } from './envelope.js'
import { AgentNotFound } from './errors.js'
import type { InspectionObserver } from './inspection.js'
import { Engine, type Handoff, type Logger } from './internal/engine.js'
import type { AnyProtocol } from './protocol.js'
import type { Ref } from './ref.js'
import type { FlowControl } from './stream.js'

export type { Handoff, Logger }

/** Options of {@link ActorSystem}. */
export interface ActorSystemOptions {
  /**
   * `boundary` (default): payloads are validated when they enter the process (`deliver`);
   * `always`: also on every local tell / ask (throws `SchemaViolation` at the sender).
   */
  readonly validate?: 'boundary' | 'always'
  /** This node's id: set as `replyTo` on asks that leave through the router. */
  readonly name?: string
  /** A pino-compatible logger for what cannot be thrown (onStop failures, router errors). */
  readonly logger?: Logger
  /** Default ask timeout, ms; default 30 000. */
  readonly askTimeout?: number
  /**
   * Liveness of outgoing streams: a sender waiting on a silent receiver probes it every
   * `probeEvery` ms (default 1 000) and rejects with `StreamBroken` after `giveUpAfter` ms of
   * silence (default 15 000). A live receiver answers probes however slowly its agent consumes.
   */
  readonly streams?: { readonly probeEvery?: number; readonly giveUpAfter?: number }
}

/** Options of {@link ActorSystem.stop}. */
export interface StopOptions {
  /** How long to wait for mailboxes to drain before stopping agents anyway, ms; default 10 000. */
  readonly drainTimeout?: number
}

/**
 * Everything an agent needs inside one process: spawn, refs, tell / ask, stop, supervision,
 * timers, dead letters, inspection; and the seam a cluster plugs into (`useRouter`, `deliver`,
 * `hosts`, `localAgents`, `handoff`, `restoreAgent`, `register`).
 *
 * @example
 * const system = new ActorSystem()
 * const w = system.spawn(WorkerAgent, { id: 'worker-7' })
 * w.tell('assign', { taskId: 't1', input: 'x' })
 * const { done } = await system.ref(WorkerAgent, 'worker-7').ask('report', {}, { timeout: 1000 })
 * await system.stop()
 */
export class ActorSystem {
  readonly #engine: Engine

  constructor(options: ActorSystemOptions = {}) {
    this.#engine = new Engine(options)
  }

  /** This node's id, when given. */
  get name(): string | undefined {
    return this.#engine.name
  }

  /**
   * Dead letters: messages that reached no handler, with their reason. An async iterable and,
   * through `deadLetters.on(listener)`, an event.
   */
  get deadLetters(): DeadLetters {
    return this.#engine.deadLetters
  }

  /**
   * Starts an agent here. Throws `DuplicateAgentId` when `id` is taken for this protocol.
   *
   * @example
   * const c = system.spawn(CounterAgent, { id: 'c1', mailbox: { capacity: 100, overflow: 'drop-oldest' } })
   */
  spawn<P extends AnyProtocol, I>(cls: AgentClass<P, I>, options?: SpawnOptions<I>): Ref<P> {
    return this.#engine.spawn(cls, options, undefined) as Ref<P>
  }

  /**
   * A ref by class (or protocol) and id. The agent need not exist yet, nor live here: messages to
   * an agent not hosted here go to the router (or to dead letters without one).
   *
   * @example
   * system.ref(WorkerAgent, 'worker-7').tell('assign', { taskId: 't1', input: 'x' })
   * system.ref(Worker, 'worker-7') // by protocol, when the class is not at hand
   */
  ref<P extends AnyProtocol>(target: { readonly protocol: P } | P, id: string): Ref<P> {
    const p = 'messages' in target ? target : target.protocol
    return this.#engine.refFrom(undefined, p, id) as Ref<P>
  }

  /** An untyped ref to any address (typed by the registered class of `address.type`, if any). */
  refOf(address: AgentAddress): Ref {
    return this.#engine.refOf(address)
  }

  /** Stops one agent after its current message; its children first. Waiting messages become dead letters. */
  async stop(ref: Ref): Promise<void>
  /** Stops the system: waits for mailboxes to drain, then stops every agent in reverse spawn order. */
  async stop(options?: StopOptions): Promise<void>
  async stop(target?: Ref | StopOptions): Promise<void> {
    if (target !== undefined && 'address' in target) {
      const cell = this.#engine.lookup(target.address)
      if (cell === undefined) return
      return this.#engine.stop(cell, 'stopped')
    }
    return this.#engine.stopAll(target?.drainTimeout ?? 10_000)
  }

  /**
   * Observes spawned, received, handled (with duration), failed, restarted, stopped and
   * dead-lettered events. Returns the function that stops observing.
   */
  inspect(observer: InspectionObserver): () => void {
    return this.#engine.inspect(observer)
  }

  // ---- the cluster seam -------------------------------------------------------------------

  /**
   * Plugs in the cluster: every envelope for an agent not hosted here, and every reply to an ask
   * that came from another node, goes to `router.route`. `false` (or no router) dead-letters it,
   * and an ask then rejects with `AgentNotFound`.
   */
  useRouter(router: Router | undefined): void {
    this.#engine.useRouter(router)
  }

  /**
   * Plugs in flow control toward agents (see {@link FlowControl}): streams wait for `ready` before
   * each item, so large items do not pile up in front of a slow connection.
   */
  useFlowControl(flow: FlowControl | undefined): void {
    this.#engine.useFlowControl(flow)
  }

  /**
   * Takes an envelope from another node. `tell` / `ask`: the payload is validated against its
   * schema (always); an unknown agent, unknown type or invalid payload is dead-lettered and, for
   * an ask, answered with a `fail` envelope through the router. A handled ask is answered with a
   * `reply` (or `fail`) envelope carrying the ask's `correlationId` and `replyTo`. `reply` /
   * `fail`: settles the pending ask with that correlation id. Never throws for bad input.
   *
   * `settle`, for a `tell`: called once (with this envelope) when the message is done with here:
   * handled (or failed in its handler), refused as bad input, or dropped by the mailbox's overflow
   * policy or a stop. Not called when the agent moves first: then the envelope itself is among the
   * handoff's `pending` ones. A cluster keeps a tell in custody until then.
   *
   * @example
   * system.deliver(envelope, (e) => acknowledgeToSender(e))
   */
  deliver(envelope: Envelope, settle?: (envelope: Envelope) => void): void {
    this.#engine.deliver(envelope, settle)
  }

  /**
   * Send the messages for a local agent through the router too, as if it were remote, until
   * called again with `false`. A cluster uses it to order a sender's local messages behind the
   * ones it sent to the agent's old home that are still on their way (the agent just moved here).
   * No effect when the agent does not run here; a new activation starts with it off.
   *
   * @example
   * system.routeThrough({ type: 'worker', id: 'w-7' }, true)
   */
  routeThrough(address: AgentAddress, on: boolean): void {
    this.#engine.routeThrough(address, on)
  }

  /** Whether the agent at `address` runs here (and is not stopping). */
  hosts(address: AgentAddress): boolean {
    return this.#engine.hosts(address)
  }

  /** The addresses of every agent running here (for rebalancing). */
  localAgents(): AgentAddress[] {
    return this.#engine.localAgents()
  }

  /** Makes envelopes for `cls.protocol.name` mappable to `cls` (spawn registers too). */
  register(cls: AgentClass<any, any>): void {
    this.#engine.register(cls)
  }

  /** The registered class of a protocol name. */
  classOf(type: string): AgentClass | undefined {
    return this.#engine.classOf(type) as AgentClass | undefined
  }

  /** The agent's current `snapshot()`, without stopping it. Throws `AgentNotFound`. */
  snapshotAgent(address: AgentAddress): unknown {
    return this.#engine.snapshot(address)
  }

  /**
   * Moves an agent out: waits for its current message, takes `onHandoff()` (default `snapshot()`), stops it (`onStop`
   * runs, children stop) and returns its state and the messages still waiting, as envelopes to
   * forward to the new home. Local asks among them stay pending and settle when the reply comes
   * back through `deliver`.
   *
   * @example
   * const h = await nodeA.handoff({ type: 'worker', id: 'w-7' })
   * nodeB.restoreAgent(h.agentClass, h.address.id, h.state); for (const e of h.pending) nodeB.deliver(e)
   */
  handoff(address: AgentAddress): Promise<Handoff> {
    return this.#engine.handoff(address)
  }

  /** Starts an agent from a snapshot: constructed, `restore(state)`, then `onStart`. */
  restoreAgent<P extends AnyProtocol, I>(cls: AgentClass<P, I>, id: string, state: unknown,
    options?: Omit<SpawnOptions<I>, 'id'>): Ref<P> {
    return this.#engine.spawn(cls, { ...options, id }, undefined, { state }) as Ref<P>
  }

  /** The local agent instance behind a ref, for tests and tools; throws `AgentNotFound`. */
  agentOf<P extends AnyProtocol>(ref: Ref<P>): Agent<P, unknown> {
    const cell = this.#engine.lookup(ref.address)
    if (cell === undefined) throw new AgentNotFound(`no agent ${ref.address.type}/${ref.address.id} here`, { ...ref.address })
    return cell.agent as unknown as Agent<P, unknown>
  }
}

