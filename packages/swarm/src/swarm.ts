import { nanoid } from 'nanoid'
import {
  ActorSystem,
  resolveSupervision,
  type ActorSystemOptions,
  type AgentAddress,
  type AgentClass,
  type AnyProtocol,
  type Ref,
  type Agent,
  type SupervisionOptions,
} from '@murmur/actor-core'
import { createUwsTransport, systemClock, type TlsInit, type ChannelConfig, type Clock, type Guarantee, type Transport, type TransportInit } from '@murmur/transport'
import { swim, type FailureDetectorFactory } from './failure-detector.js'
import { rendezvous, type PlacementStrategy } from './placement.js'
import { SwarmEngine, type EngineTimings, type MemberInfo, type SwarmEvents } from './swarm-engine.js'
import { JoinTimeout, SwarmStopped, UnknownAgentType } from './errors.js'
import type { Host } from './internal/host.js'
import type { Persistence } from './persistence.js'
import { ClusterServices, type ClusterEvents, type ServiceTimings, type TopologyOption } from './cluster-services.js'
import type { SharedState } from './gossip-state.js'
import type { AtomicChannel } from './atomic-broadcast.js'
import { Group } from './groups.js'
import type { PartitionView } from './partition.js'
import type { Semantics } from './crdt-map.js'
import type { TopologyKind } from './topology.js'
import { streamFlow } from './stream-flow.js'

export type { MemberInfo, SwarmEvents, EngineTimings }

/**
 * Any agent class, for lists of classes (`agents`). `AgentClass<P>` checks handlers per protocol;
 * a list mixes protocols, so it only asks for what the swarm reads: the protocol and a constructor.
 */
export interface AnyAgentClass {
  new (): Agent<any, any>
  readonly protocol: AnyProtocol
  readonly supervision?: SupervisionOptions
}

/** Options of {@link Swarm.start}. */
export interface SwarmOptions {
  /** Port to listen on (0: any free one; see `node.address`). */
  readonly port: number
  /** Interface to listen on; `127.0.0.1` by default. */
  readonly host?: string
  /**
   * `host:port` other nodes dial to reach this one, when it differs from `host:port` (listening on
   * `0.0.0.0`, NAT, a container). Default: the address listened on.
   */
  readonly advertise?: string
  /**
   * TLS for every connection this node accepts and opens (PEM text). Peers dial it as `wss://`;
   * `ca` is the authority this node trusts when it dials others.
   */
  readonly tls?: TlsInit
  /**
   * µs the event loop keeps polling after the last frame in or out, instead of sleeping (see
   * `UwsConnectorInit.busyPollMicros`): it spares the kernel's wake-up on every round trip, at the
   * cost of that much CPU per burst of traffic. 0 turns it off. Default 50. Raise it to about
   * two round trips where those are longer (between machines).
   */
  readonly busyPollMicros?: number
  /** `host:port` of nodes to join through; empty or absent for the first node. */
  readonly seeds?: readonly string[]
  /** Shared cluster secret: nodes prove it in the handshake (never sent). */
  readonly secret: string | Uint8Array
  /** Cluster name; nodes of other clusters are refused. Default `murmur`. */
  readonly cluster?: string
  /** This node's id; default a random one. Must be unique in the cluster. */
  readonly nodeId?: string
  /** The agent classes this node can host (every node of a cluster lists the same ones). */
  readonly agents: readonly AnyAgentClass[]
  /** Default placement; `rendezvous()` unless told. A class's `static placement` overrides it. */
  readonly placement?: PlacementStrategy
  /** Transport channels besides `control` (e.g. `{ default: { parallelism: 2 } }`). */
  readonly channels?: Readonly<Record<string, ChannelConfig>>
  /** Picks a message type's channel from its declared guarantee; `default` for all unless told. */
  readonly channelFor?: (guarantee: readonly Guarantee[]) => string
  /** Membership / failure detection; `swim()` unless told. */
  readonly failureDetector?: FailureDetectorFactory
  /** Tags this node advertises (for `capability(tag)` placement). */
  readonly capabilities?: readonly string[]
  /**
   * A ready-made (not yet started) transport, e.g. `createMemoryTransport(net, …)` in tests; then
   * `port`, `host`, `secret`, `cluster` and `channels` are the transport's business.
   */
  readonly transport?: Transport
  /** Clock for timers; the transport's virtual one in memory-network tests. */
  readonly clock?: Clock
  /** Options of the local `ActorSystem`. */
  readonly system?: Omit<ActorSystemOptions, 'name'>
  readonly timings?: Partial<EngineTimings>
  /**
   * The overlay broadcasts travel on: `full-mesh`, `client-server`, `hyparview`, or `auto` (the
   * default: by cluster size, see `chooseTopology`). Agent messages go straight to their node in
   * every topology, so agent code is the same on all of them.
   */
  readonly topology?: TopologyOption
  /**
   * The size the cluster is expected to reach: `topology: 'auto'` picks by it (full mesh up to 16,
   * client-server up to 128, HyParView above; see `chooseTopology`), as do the view sizes of
   * `hyparview` and the server count of `client-server`. Default 16. The choice is made at start
   * and kept (every node of a cluster should be given the same figure).
   */
  readonly clusterSize?: number
  /**
   * Protocol names of agent classes in quorum mode, besides classes that declare `static quorum = true`:
   * on a side without a majority of the members they stop, and messages to them fail with `NoQuorum`.
   */
  readonly quorum?: readonly string[]
  /** Tunables of partition handling (reconnect period) and conflict delivery. */
  readonly serviceTimings?: Partial<ServiceTimings>
  /**
   * What one peer may cost this node (see `@murmur/transport`): `rateLimit` (messages per second
   * per peer; best-effort excess dropped, reliable excess resent later), `maxHeldBytes` (held for
   * a gap or a causal cause), `maxFrameSize`, `maxMessageSize`. Bound the agents' side with a
   * class's `static mailbox = { capacity, overflow }`. Ignored with a ready-made `transport`.
   *
   * @example
   * Swarm.start({ port: 7000, secret, agents, limits: { rateLimit: { messagesPerSecond: 50_000 } } })
   */
  readonly limits?: Pick<TransportInit, 'rateLimit' | 'maxHeldBytes' | 'maxFrameSize' | 'maxMessageSize'>
}

/** Options of {@link Swarm.spawn}. */
export interface SwarmSpawnOptions<I = unknown> {
  /** Unique per protocol across the cluster; default a random id. */
  readonly id?: string
  /** Available to the agent as `this.input`; kept so a restart after a crash gets it again. */
  readonly input?: I
  /** Overrides the class's and the node's placement for this agent. */
  readonly placement?: PlacementStrategy
}

/** What `node.find(id)` and `node.agents()` return: where an agent lives, as the directory says. */
export interface AgentLocation {
  readonly type: string
  readonly id: string
  readonly node: string
  readonly version: number
}

/**
 * One node of a Murmur cluster. It offers the same `spawn` / `ref` as the local `ActorSystem`
 * (refs' `tell` / `ask` work from any node, before and after the agent moves), plus membership,
 * the directory, and typed events.
 *
 * @example
 * const a = await Swarm.start({ port: 7000, secret, agents: [WorkerAgent] })
 * const b = await Swarm.start({ port: 7001, seeds: ['127.0.0.1:7000'], secret, agents: [WorkerAgent] })
 * const w = await a.spawn(WorkerAgent, { id: 'worker-7' })      // placed by rendezvous hashing
 * w.tell('assign', { taskId: 't1', input: 'x' })
 * const { done } = await b.ref(WorkerAgent, 'worker-7').ask('report', {}, { timeout: 1000 })
 * b.on('member-down', (m) => console.log('lost', m.id))
 * await b.stop() // hands its agents off first
 */
export class Swarm {
  /** The local actor runtime: agents hosted here run in it. */
  readonly system: ActorSystem
  readonly nodeId: string
  readonly #engine: SwarmEngine
  readonly #transport: Transport
  readonly #agents: ReadonlyMap<string, AgentClass>
  readonly #services: ClusterServices
  #stopped: Promise<void> | undefined
  /** Told once when `stop` begins (waiters of `joined`). */
  readonly #stopListeners = new Set<() => void>()

  private constructor(system: ActorSystem, engine: SwarmEngine, transport: Transport, agents: ReadonlyMap<string, AgentClass>, services: ClusterServices) {
    this.system = system
    this.nodeId = engine.self
    this.#engine = engine
    this.#transport = transport
    this.#agents = agents
    this.#services = services
  }

  /**
   * Starts a node: listens, joins the cluster through `seeds`, and begins hosting agents.
   * Resolves once it listens (joining continues in the background; watch `member-up`).
   *
   * @example
   * const node = await Swarm.start({ port: 7001, seeds: ['127.0.0.1:7000'], secret, agents: [WorkerAgent] })
   */
  static async start(options: SwarmOptions): Promise<Swarm> {
    const nodeId = options.nodeId ?? options.transport?.nodeId ?? `node-${nanoid(10)}`
    const transport =
      options.transport ??
      createUwsTransport({
        nodeId,
        cluster: options.cluster ?? 'murmur',
        secret: options.secret,
        host: options.host ?? '127.0.0.1',
        port: options.port,
        channels: options.channels ?? { default: { parallelism: 1 } },
        ...(options.advertise !== undefined ? { advertise: options.advertise } : {}),
        uws: {
          ...(options.tls !== undefined ? { tls: options.tls } : {}),
          ...(options.busyPollMicros !== undefined ? { busyPollMicros: options.busyPollMicros } : {}),
        },
        // Measured: with the transport's default of 4096 messages per frame, frames of ~150-byte
        // envelopes go over its chunk size and reliable traffic collapses into retransmissions
        // (≈ 14k msg/s); 1024 per frame keeps frames whole (≈ 130k msg/s in one process).
        maxBatch: 1024,
        ...options.limits,
      })
    await transport.start()
    const clock = options.clock ?? systemClock
    const system = new ActorSystem({ ...options.system, name: nodeId })
    const agents = new Map<string, AgentClass>()
    const classPlacement = new Map<string, PlacementStrategy>()
    for (const listed of options.agents) {
      const cls = listed as AgentClass
      agents.set(cls.protocol.name, cls)
      system.register(cls)
      const p = (cls as { placement?: PlacementStrategy }).placement
      if (p !== undefined) classPlacement.set(cls.protocol.name, p)
    }
    const detector = (options.failureDetector ?? swim())({
      self: nodeId,
      address: transport.address,
      // Grows across restarts of the same node id, so a restarted node overrides its obituary.
      incarnation: clock.wallTime?.() ?? Date.now(),
      meta: { capabilities: [...(options.capabilities ?? [])], load: 0 },
      now: clock.now(),
    })
    const engine = new SwarmEngine({
      nodeId,
      transport,
      host: actorSystemHost(system, agents),
      detector,
      clock,
      seeds: options.seeds ?? [],
      placement: options.placement ?? rendezvous(),
      classPlacement,
      channelFor: options.channelFor ?? (() => 'default'),
      ...(options.timings !== undefined ? { timings: options.timings } : {}),
    })
    const quorum = new Set(options.quorum ?? [])
    for (const [type, cls] of agents) if ((cls as { quorum?: unknown }).quorum === true) quorum.add(type)
    const services = new ClusterServices({
      self: nodeId,
      engine,
      transport,
      system,
      clock,
      agents,
      quorum,
      ...(options.topology !== undefined ? { topology: options.topology } : {}),
      ...(options.clusterSize !== undefined ? { clusterSize: options.clusterSize } : {}),
      ...(options.serviceTimings !== undefined ? { timings: options.serviceTimings } : {}),
    })
    engine.start()
    system.useFlowControl(streamFlow(transport, () => engine.directory(), nodeId))
    return new Swarm(system, engine, transport, agents, services)
  }

  /** `host:port` this node listens on. */
  get address(): string {
    return this.#transport.address
  }

  /** The transport, for metrics and capacity. */
  get transport(): Transport {
    return this.#transport
  }

  /**
   * Spawns an agent where its placement puts it (this node or another) and resolves once it runs.
   *
   * @example
   * const w = await node.spawn(WorkerAgent, { id: 'worker-7', input: { region: 'eu' } })
   * await node.spawn(GpuAgent, { id: 'g-1', placement: capability('gpu') })
   */
  async spawn<P extends AnyProtocol, I>(cls: AgentClass<P, I>, options: SwarmSpawnOptions<I> = {}): Promise<Ref<P>> {
    const type = cls.protocol.name
    if (!this.#agents.has(type)) throw new UnknownAgentType(`${type} is not among this node's agents`, { type })
    const id = options.id ?? nanoid()
    await this.#engine.spawn(type, id, options.input, options.placement)
    return this.system.ref(cls, id)
  }

  /**
   * A ref to an agent by class (or protocol) and id, wherever it lives.
   *
   * @example
   * const { done } = await node.ref(WorkerAgent, 'worker-7').ask('report', {})
   */
  ref<P extends AnyProtocol>(target: { readonly protocol: P } | P, id: string): Ref<P> {
    return this.system.ref(target, id)
  }

  /**
   * Counters of this node's cluster work: messages `forwarded` for agents that live elsewhere,
   * directory `corrections` sent to stale senders, messages `parked` while an agent had no home,
   * `deadLetters`, `handoffs` (and `handoffsFailed`), `bufferedDuringMove` (messages held while their agent
   * moved away, sent after it), `restarts` after crashes, `rerouted`
   * unacknowledged messages of dead nodes, `malformed` envelopes from peers, and `fifoLate` fifo
   * messages delivered out of order rather than dropped (a re-routed one arriving after newer ones).
   *
   * @example
   * const { forwarded, corrections } = node.metrics()
   */
  metrics(): Readonly<Record<string, number>> {
    return { ...this.#engine.counters, fifoLate: this.#engine.fifoLate, ...this.#services.counters }
  }

  /** Every member this node knows, tombstones (`dead`, `left`) included, sorted by id. */
  members(): MemberInfo[] {
    return this.#engine.members()
  }

  /**
   * Where the agent with this id lives, per this node's directory (`type` narrows when ids repeat
   * across protocols); `undefined` when no active agent has it.
   *
   * @example
   * node.find('worker-7') // { type: 'worker', id: 'worker-7', node: 'node-b', version: 2 }
   */
  find(id: string, type?: string): AgentLocation | undefined {
    for (const e of this.#engine.directory().values()) {
      if (e.id === id && e.status === 'active' && (type === undefined || e.type === type)) {
        return { type: e.type, id: e.id, node: e.node, version: e.version }
      }
    }
    return undefined
  }

  /**
   * The active agents of the cluster as this node's directory knows them, optionally only of one
   * protocol (`type`) or only on nodes that advertise `capability`.
   *
   * @example
   * node.agents({ type: 'worker' }).length
   */
  agents(filter: { type?: string; capability?: string } = {}): AgentLocation[] {
    const caps = new Map(this.members().map((m) => [m.id, m.capabilities]))
    const out: AgentLocation[] = []
    for (const e of this.#engine.directory().values()) {
      if (e.status !== 'active') continue
      if (filter.type !== undefined && e.type !== filter.type) continue
      if (filter.capability !== undefined && !(caps.get(e.node) ?? []).includes(filter.capability)) continue
      out.push({ type: e.type, id: e.id, node: e.node, version: e.version })
    }
    return out
  }

  /**
   * Resolves once this node has joined its cluster: a member answered its join with the member
   * list and synced this node's directory with its own (at the first anti-entropy round after a
   * member came up: within about a second). `Swarm.start` resolves when the node
   * listens; until it has joined, placement sees only this node and an agent spawned elsewhere is
   * unknown here. A node without seeds (the first) has joined at once. Rejects with `JoinTimeout`
   * after `timeout` ms (none by default), with the signal's reason when `signal` aborts, and with
   * `SwarmStopped` if the node stops first.
   *
   * @example
   * const b = await Swarm.start({ port: 7001, seeds: ['127.0.0.1:7000'], secret, agents: [WorkerAgent] })
   * await b.joined({ timeout: 5000 })
   * await b.ref(WorkerAgent, 'worker-7').ask('report', {})
   */
  joined(options: { readonly timeout?: number; readonly signal?: AbortSignal } = {}): Promise<void> {
    if (this.#engine.joinedVia !== undefined) return Promise.resolve()
    if (this.#stopped !== undefined) return Promise.reject(new SwarmStopped(`node ${this.nodeId} is stopping`))
    if (options.signal?.aborted) return Promise.reject(options.signal.reason)
    return new Promise<void>((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined
      const finish = (error?: unknown): void => {
        offJoined()
        offStopped()
        clearTimeout(timer)
        options.signal?.removeEventListener('abort', onAbort)
        if (error === undefined) resolve()
        else reject(error)
      }
      const offJoined = this.#engine.events.on('joined', () => finish())
      const offStopped = this.#onStop(() => finish(new SwarmStopped(`node ${this.nodeId} stopped before it joined`)))
      const onAbort = (): void => finish(options.signal?.reason)
      options.signal?.addEventListener('abort', onAbort, { once: true })
      if (options.timeout !== undefined) {
        const ms = options.timeout
        timer = setTimeout(() => finish(new JoinTimeout(`node ${this.nodeId} did not join within ${ms} ms`, { timeout: ms })), ms)
      }
    })
  }

  #onStop(listener: () => void): () => void {
    this.#stopListeners.add(listener)
    return () => this.#stopListeners.delete(listener)
  }

  /**
   * Typed events: `member-up`, `member-suspect`, `member-down`, `member-left`, `agent-activated`,
   * `agent-moved`, `dead-letter`, `joined`. Returns the function that unsubscribes.
   *
   * @example
   * node.on('member-down', (m) => console.log(m.id, 'is gone'))
   */
  on<E extends keyof SwarmEvents | keyof ClusterEvents>(event: E, listener: (data: (SwarmEvents & ClusterEvents)[E]) => void): () => void {
    if (CLUSTER_EVENTS.has(event)) return this.#services.events.on(event as keyof ClusterEvents, listener as never)
    return this.#engine.events.on(event as keyof SwarmEvents, listener as never)
  }

  /**
   * The two sides of a partition as this node sees them: `reachable` (this side, this node
   * included) and `unreachable` (members declared dead that did not leave). Events `partition`
   * and `heal` report changes.
   *
   * @example
   * node.on('partition', ({ reachable, unreachable }) => console.log('cut off from', unreachable))
   * node.on('heal', ({ rejoined }) => console.log('back:', rejoined))
   * node.partition() // { reachable: ['a', 'b'], unreachable: ['c', 'd'] }
   */
  partition(): PartitionView {
    return this.#services.view()
  }

  /**
   * Reliable broadcast to every member over the topology's Plumtree tree (O(1) messages per node
   * per broadcast), or `order: 'causal'`: every member delivers in an order that respects
   * happened-before across all senders. Delivered as `broadcast` events everywhere, here included.
   *
   * @example
   * node.on('broadcast', ({ topic, origin, payload }) => console.log(topic, origin, payload))
   * node.broadcast('prices', { eur: 1.08 })
   * node.broadcast('chat', { text: 'reply' }, { order: 'causal' })
   */
  broadcast(topic: string, payload: unknown, options: { order?: 'reliable' | 'causal' } = {}): void {
    this.#services.broadcast(topic, payload, options.order ?? 'reliable')
  }

  /**
   * A replicated map shared by every node (gossip state): local reads, writes that converge by
   * anti-entropy, `change` events. `lww` (default) or `add-wins` semantics. Removed keys leave
   * tombstones, collected after `tombstoneGrace` ms (default 24 h): a node cut off for longer that
   * still holds a removed key brings it back when it returns. The first call for a name fixes its
   * options on this node.
   *
   * @example
   * const flags = node.state('flags')
   * flags.put('beta', true)
   * flags.on('change', ({ key, value, deleted }) => console.log(key, value, deleted))
   */
  state(name: string, options: { semantics?: Semantics; tombstoneGrace?: number } = {}): SharedState {
    return this.#services.state(name, options.semantics ?? 'lww', options.tombstoneGrace)
  }

  /**
   * An atomic (total-order) broadcast channel. `members` (node ids, default: the reachable members)
   * bootstraps it when no channel of that name runs yet: open it on the first members after the
   * cluster formed, so that they agree. A node that opens it later, or again after a restart, is
   * added by the leader and delivers the whole log; a member silent for 3 s is removed.
   *
   * @example
   * const log = node.atomic('ledger')
   * log.on('deliver', ({ index, payload }) => ledger.apply(index, payload))
   * await log.publish({ debit: 5 })  // rejects with NoQuorum without a majority
   */
  atomic(name: string, options: { members?: readonly string[] } = {}): AtomicChannel {
    return this.#services.atomic(name, options.members)
  }

  /**
   * A named group of agents across the cluster.
   *
   * @example
   * node.group('reviewers').join(node.ref(ReviewerAgent, 'r-1'))
   * node.group('reviewers').broadcast('review', { doc: 'd-7' })
   */
  group(name: string): Group {
    return new Group(name, this.#services)
  }

  /**
   * This side's coordinator for `group`: the lowest node id among reachable nodes hosting a member
   * of the group (any reachable node when none does). Every node of one side agrees once their
   * views converge; `coordinator-changed` events report changes (after the first call per group).
   *
   * @example
   * if (node.coordinator('billing') === node.nodeId) runNightlyJob()
   * node.on('coordinator-changed', ({ group, coordinator }) => console.log(group, coordinator))
   */
  coordinator(group: string): string | undefined {
    return this.#services.coordinator(group)
  }

  /**
   * The broadcast overlay: its topology and this node's current neighbours on it.
   *
   * @example
   * node.overlay() // { kind: 'hyparview', neighbors: ['node-3', 'node-9', …] }
   */
  overlay(): { kind: TopologyKind; neighbors: readonly string[] } {
    return { kind: this.#services.topologyKind, neighbors: this.#services.neighbors() }
  }

  /**
   * Leaves gracefully: hands every local agent (state and waiting messages) to its new home,
   * tells the cluster, then stops the transport and the local system. Idempotent.
   */
  stop(): Promise<void> {
    if (this.#stopped === undefined) for (const listener of [...this.#stopListeners]) listener()
    this.#stopped ??= (async () => {
      await this.#engine.leave()
      this.#services.close()
      this.#engine.close()
      await this.#transport.stop()
      await this.system.stop({ drainTimeout: 1000 })
    })()
    return this.#stopped
  }
}

const CLUSTER_EVENTS: ReadonlySet<string> = new Set<keyof ClusterEvents>(['partition', 'heal', 'coordinator-changed', 'broadcast', 'quorum'])

/** The swarm's view of an `ActorSystem` (see `internal/host.ts`). */
function actorSystemHost(system: ActorSystem, agents: ReadonlyMap<string, AgentClass>): Host {
  const classOf = (type: string) => {
    const cls = agents.get(type)
    if (cls === undefined) throw new UnknownAgentType(`${type} is not among this node's agents`, { type })
    return cls
  }
  return {
    useRouter: (router) => system.useRouter(router),
    deliver: (envelope, settle) => system.deliver(envelope, settle),
    routeThrough: (address, on) => system.routeThrough(address, on),
    hosts: (address) => system.hosts(address),
    local: () => system.localAgents().filter((a: AgentAddress) => agents.has(a.type)),
    activate: async (type, id, input, state, restored) => {
      const cls = classOf(type)
      const options = input === undefined ? {} : { input }
      if (restored) system.restoreAgent(cls, id, state, options)
      else system.spawn(cls, { ...options, id })
    },
    recover: async (type, id) => {
      const persistence = (agents.get(type) as { persistence?: Persistence } | undefined)?.persistence
      return persistence === undefined ? undefined : await persistence.load({ type, id })
    },
    passivate: async (address) => {
      const h = await system.handoff(address)
      return { state: h.state, pending: [...h.pending] }
    },
    restartPolicy: (type) => {
      const cls = agents.get(type)
      return cls === undefined ? undefined : resolveSupervision(cls.supervision).restart
    },
    stop: () => system.stop({ drainTimeout: 1000 }),
  }
}
