import { createActor, type Actor, type AnyActorRef, type AnyStateMachine, type EventObject, type InputFrom, type SnapshotFrom } from 'xstate'
import { Agent, type AgentClass } from './agent.js'
import type { AnyProtocol, AskType, MessageType, Payload, Reply } from './protocol.js'

/** A message a machine sends to an agent: by protocol (or class) and id, so it may cross nodes. */
export interface Outgoing {
  readonly to: AnyProtocol | { readonly protocol: AnyProtocol }
  readonly id: string
  readonly type: string
  readonly payload: unknown
}

/** Options of {@link fromMachine}. */
export type MachineAgentOptions<P extends AnyProtocol, M extends AnyStateMachine> = {
  /** The machine's input from the agent's spawn `input` (default: passed as is). */
  readonly input?: (input: unknown, id: string) => InputFrom<M>
  /** Where events the machine `emit`s go: an agent message, or `undefined` to keep it local. */
  readonly emit?: (event: EventObject) => Outgoing | undefined
} & ([AskType<P>] extends [never]
  ? { readonly reply?: Record<never, never> }
  : {
      /** For each request/response type, the reply computed from the snapshot after the event. */
      readonly reply: { readonly [K in AskType<P>]: (snapshot: SnapshotFrom<M>, payload: Payload<P, K>) => Reply<P, K> }
    })

/** Which agent runs each machine actor, so `agentRef` targets can send as that agent. */
const owners = new WeakMap<AnyActorRef, { ref: Agent["ref"] }>()

/**
 * Base of agents whose behaviour is an xstate v5 machine: each protocol message becomes the event
 * `{ type, ...payload }`; the agent's `snapshot()` is the machine's persisted snapshot, and
 * `restore` starts the machine from one. Build one with {@link fromMachine}.
 */
export abstract class MachineAgent<P extends AnyProtocol = AnyProtocol, M extends AnyStateMachine = AnyStateMachine> extends Agent<P> {
  #actor: Actor<M> | undefined
  #restored: unknown

  protected abstract readonly machine: M
  protected abstract readonly options: MachineAgentOptions<P, M>

  /** The running xstate actor (after `onStart`). */
  get actor(): Actor<M> {
    if (this.#actor === undefined) throw new TypeError('the machine starts in onStart')
    return this.#actor
  }

  override onStart(): void {
    const input = this.options.input?.(this.input, this.id) ?? this.input
    const actor = createActor(this.machine, {
      ...(this.#restored === undefined ? {} : { snapshot: this.#restored as never }),
      ...(input === undefined ? {} : { input: input as never }),
    }) as Actor<M>
    owners.set(actor, this as { ref: Agent['ref'] })
    const route = this.options.emit
    if (route !== undefined) {
      actor.on('*', (event: EventObject) => {
        const out = route(event)
        if (out !== undefined) this.ref(out.to, out.id).tell(out.type, out.payload as never)
      })
    }
    // an error observer keeps xstate from re-throwing machine errors out of band: `#check` turns
    // them into a failure of the message, for supervision
    actor.subscribe({ error: () => {} })
    this.#actor = actor
    actor.start()
    this.#check()
  }

  override onStop(): void {
    this.#actor?.stop()
  }

  /** The persisted xstate snapshot (serializable with cbor-x as long as the context is). */
  override snapshot(): unknown {
    return this.#actor?.getPersistedSnapshot() ?? this.#restored
  }

  override restore(state: unknown): void {
    this.#restored = state
  }

  /** Sends the message to the machine; returns the reply for request/response types. */
  protected handle(type: string, payload: unknown): unknown {
    const actor = this.actor
    actor.send({ ...(payload as object), type } as never)
    this.#check()
    const replies = this.options.reply as Record<string, (s: unknown, p: unknown) => unknown> | undefined
    const reply = replies?.[type]
    return reply === undefined ? undefined : reply(actor.getSnapshot(), payload)
  }

  /** A machine that errored fails the message (supervision restarts it); one that is done stops. */
  #check(): void {
    const snapshot = this.#actor!.getSnapshot() as { status: string; error?: unknown }
    if (snapshot.status === 'error') throw snapshot.error
    if (snapshot.status === 'done') this.stop()
  }
}

/**
 * An agent class whose behaviour is `machine`, speaking protocol `protocol`.
 *
 * @example
 * const Light = protocol('light', { next: message(z.object({})), state: message(z.object({}), { reply: z.string() }) })
 * const machine = setup({}).createMachine({ initial: 'green', states: { green: { on: { next: 'red' } }, red: { on: { next: 'green' } } } })
 * class LightAgent extends fromMachine(Light, machine, { reply: { state: (s) => String(s.value) } }) {}
 * const light = system.spawn(LightAgent, { id: 'l1' })
 * light.tell('next', {})
 * await light.ask('state', {}) // 'red'
 */
export function fromMachine<P extends AnyProtocol, M extends AnyStateMachine>(
  proto: P,
  machine: M,
  ...rest: [AskType<P>] extends [never] ? [options?: MachineAgentOptions<P, M>] : [options: MachineAgentOptions<P, M>]
): AgentClass<P, unknown> & { readonly machine: M } {
  const options = (rest[0] ?? {}) as MachineAgentOptions<P, M>
  class FromMachine extends MachineAgent<P, M> {
    static protocol = proto
    static machine = machine
    protected readonly machine = machine
    protected readonly options = options
  }
  // one handler per message type, all forwarding to the machine
  for (const type of proto.types) {
    Object.defineProperty(FromMachine.prototype, type, {
      value: function (this: FromMachine, payload: unknown) { return this.handle(type, payload) },
      writable: true,
      configurable: true,
    })
  }
  return FromMachine as unknown as AgentClass<P, unknown> & { readonly machine: M }
}

/**
 * A `sendTo` target that reaches a Murmur agent by id (on any node) from inside a machine agent:
 * the event `{ type, ...payload }` becomes the message `type` with that payload.
 *
 * @example
 * actions: sendTo(agentRef(Counter, 'c1'), { type: 'add', n: 1 })
 * actions: sendTo(agentRef(Counter, ({ context }) => context.counterId), ({ event }) => ({ type: 'add', n: event.n }))
 */
export function agentRef<Q extends AnyProtocol, TArgs extends { self: AnyActorRef }>(
  target: Q | { readonly protocol: Q },
  id: string | ((args: TArgs) => string),
): (args: TArgs) => AnyActorRef {
  return (args) => {
    const owner = owners.get(args.self)
    if (owner === undefined) throw new TypeError('agentRef works inside the machine of a MachineAgent')
    const ref = owner.ref(target, typeof id === 'function' ? id(args) : id)
    const send = (event: EventObject): void => {
      const { type, ...payload } = event
      ref.tell(type as MessageType<Q>, payload as never)
    }
    // xstate relays to a target by calling its `_send`; that is all this proxy needs to be
    return { id: ref.id, _send: send, send } as unknown as AnyActorRef
  }
}
