import type { TraceContext } from './envelope.js'
import { takeCell, type Cell } from './internal/cell.js'
import type { AnyProtocol, MessageType, Payload, Reply } from './protocol.js'
import type { Cancellable, Ref } from './ref.js'
import type { MailboxOptions } from './mailbox.js'
import type { SupervisionOptions } from './supervision.js'
import { StreamRefused, type InboundStream } from './stream.js'
import { REFUSES_STREAMS } from './internal/stream-frames.js'
import type { z } from 'zod'

/**
 * The handler methods an agent of protocol `P` must have: one per message type, taking its
 * payload and returning its reply (or a promise of it). Declared as function-typed properties so
 * TypeScript checks parameters strictly (methods would be checked bivariantly).
 *
 * @example
 * class WorkerAgent extends Agent<typeof Worker> implements Handlers<typeof Worker> {
 *   static protocol = Worker
 *   assign(p: Payload<typeof Worker, 'assign'>) {}
 *   report(): Reply<typeof Worker, 'report'> { return { done: 0 } }
 * }
 */
export type Handlers<P extends AnyProtocol> = {
  [K in MessageType<P>]: P['messages'][K]['reply'] extends z.ZodType
    ? (payload: Payload<P, K>) => Reply<P, K> | PromiseLike<Reply<P, K>>
    : (payload: Payload<P, K>) => unknown
}

/**
 * An agent class as `spawn` accepts it: a no-argument constructor of an `Agent<P>` that has every
 * handler of `P`, and the static `protocol`. A class missing a handler, or with a handler of the
 * wrong payload or reply type, is not an `AgentClass` (a compile error at `spawn`).
 */
export interface AgentClass<P extends AnyProtocol = AnyProtocol, I = any> {
  new (): Agent<P, I> & Handlers<P>
  readonly protocol: P
  readonly supervision?: SupervisionOptions
  /**
   * The mailbox of every agent of this class unless `spawn` says otherwise: how agents the cluster
   * activates by itself (a first message, a move, a restart after a crash) are bounded.
   */
  readonly mailbox?: MailboxOptions
  readonly name: string
}

/** Options of `spawn` (and of `this.spawn` inside an agent). */
export interface SpawnOptions<I = unknown> {
  /** Unique per protocol; default a nanoid. */
  readonly id?: string
  /** Available to the agent as `this.input`. */
  readonly input?: I
  /** A local agent to supervise this one (`this.spawn` sets it). */
  readonly parent?: Ref
  /** Overrides the class's `static supervision`. */
  readonly supervision?: SupervisionOptions
  readonly mailbox?: MailboxOptions
}

/**
 * Base class of every agent. Subclasses declare `static protocol` and one handler method per
 * message type; `implements Handlers<typeof P>` makes a missing or mistyped handler a compile
 * error on the class itself (spawn checks the same). Agents are created by `spawn`, never `new`.
 *
 * @example
 * const Counter = protocol('counter', {
 *   add: message(z.object({ n: z.number() })),
 *   get: message(z.object({}), { reply: z.number() }),
 * })
 * class CounterAgent extends Agent<typeof Counter> implements Handlers<typeof Counter> {
 *   static protocol = Counter
 *   total = 0
 *   add({ n }: Payload<typeof Counter, 'add'>) { this.total += n }
 *   get() { return this.total }
 * }
 * const c = new ActorSystem().spawn(CounterAgent, { id: 'c1' })
 * c.tell('add', { n: 2 })
 * await c.ask('get', {}) // 2
 */
export abstract class Agent<P extends AnyProtocol = AnyProtocol, I = unknown> {
  readonly #cell: Cell

  constructor() {
    this.#cell = takeCell()
  }

  /** This agent's id, unique per protocol. */
  get id(): string {
    return this.#cell.address.id
  }

  /** A ref to this agent. */
  get self(): Ref<P> {
    return this.#cell.rt.refFrom(this.#cell, this.#cell.cls.protocol, this.#cell.address.id) as Ref<P>
  }

  /** The sender of the message being handled, if it was sent by an agent. */
  get sender(): Ref | undefined {
    return this.#cell.rt.senderOf(this.#cell)
  }

  /** The `input` given to spawn. */
  get input(): I {
    return this.#cell.input as I
  }

  /** Trace context of the message being handled; messages this agent sends continue it. */
  get trace(): TraceContext {
    return this.#cell.rt.traceOf(this.#cell)
  }

  /** Spawns a child that this agent supervises (see `static supervision.strategy`). */
  spawn<Q extends AnyProtocol, J>(cls: AgentClass<Q, J>, options?: Omit<SpawnOptions<J>, 'parent'>): Ref<Q> {
    return this.#cell.rt.spawnChild(this.#cell, cls, options) as Ref<Q>
  }

  /** A ref to any agent, by class or protocol and id, sending as this agent. */
  ref<Q extends AnyProtocol>(target: { readonly protocol: Q } | Q, id: string): Ref<Q> {
    const p = 'messages' in target ? target : target.protocol
    return this.#cell.rt.refFrom(this.#cell, p, id) as Ref<Q>
  }

  /**
   * Sends this agent a message later (`after` ms) or repeatedly (`every` ms). Timers are cleared
   * when the agent stops or restarts.
   *
   * @example
   * const tick = this.schedule('tick', {}, { every: 1000 })
   * tick.cancel()
   */
  schedule<T extends MessageType<P>>(type: T, payload: Payload<P, T>, when: { after: number } | { every: number }): Cancellable {
    return this.#cell.rt.schedule(this.#cell, type, payload, when)
  }

  /** Stops this agent once the current message is handled (or restarts it, under `restart: 'always'`). */
  stop(): void {
    this.#cell.rt.stopSelf(this.#cell)
  }

  /**
   * Takes a stream another agent (or any ref holder) started with `ref.stream(type, source)`.
   * Called in the agent's turn, like a message handler: while the promise it returns is pending,
   * the agent handles nothing else; to keep handling messages while the items flow, start the loop
   * without awaiting it. Breaking out of the loop cancels the stream (the sender gets
   * `StreamCancelled`); returning without iterating at all cancels it too; throwing fails it with
   * the error. Items come validated; the iterator throws `SchemaViolation`, `StreamAborted`, … when
   * the stream ends badly, after the items that came before. Default: refuses (`StreamRefused`).
   *
   * @example
   * async onStream(s: InboundStream<typeof Sink>) {
   *   if (s.type !== 'chunk') return
   *   for await (const { data } of s.items) this.bytes += data.byteLength
   * }
   */
  onStream(stream: InboundStream<P>): void | Promise<void> {
    throw new StreamRefused(`agent ${this.#cell.address.type}/${this.#cell.address.id} takes no streams (its class has no onStream)`, {
      ...this.#cell.address, type: stream.type,
    })
  }

  /** Runs after construction (and after `restore` when the agent was moved); messages wait for it. */
  onStart(): void | Promise<void> {}

  /** Runs when the agent stops; the remaining mailbox goes to dead letters after it. */
  onStop(): void | Promise<void> {}

  /** Runs on the fresh instance that replaces a failed one, before `onStart`. */
  onRestart(_error: unknown): void | Promise<void> {}

  /**
   * The state to move this agent to another node; must be encodable with cbor-x.
   * Default: the agent's own enumerable fields.
   */
  snapshot(): unknown {
    const state: Record<string, unknown> = {}
    for (const key of Object.keys(this)) state[key] = (this as Record<string, unknown>)[key]
    return state
  }

  /**
   * The state handed to the agent's next home when the cluster moves it (rebalancing, graceful
   * stop); the new home passes it to `restore`. Default: `snapshot()`.
   */
  onHandoff(): unknown {
    return this.snapshot()
  }

  /** Takes back what `snapshot` returned, before `onStart`. Default: assigns the fields. */
  restore(state: unknown): void {
    if (state !== null && typeof state === 'object') Object.assign(this, state)
  }
}

Object.defineProperty(Agent.prototype.onStream, REFUSES_STREAMS, { value: true })
