import type { ActorSystem, AgentAddress, AgentClass, Envelope } from '@murmur/actor-core'
import type { Clock, Guarantee, TimerHandle, Transport } from '@murmur/transport'
import type { SwarmEngine } from './swarm-engine.js'
import { directoryKey, digest as directoryDigest } from './directory.js'
import { CONTROL } from './internal/wire.js'
import type { Counters } from './internal/fifo-order.js'
import { Emitter } from './internal/emitter.js'
import { Driver } from './internal/sim/driver.js'
import type { Machine, NodeId } from './internal/sim/machine.js'
import { prng, type Prng } from './internal/sim/prng.js'
import { OverlayStack, type StackEvent, type StackMsg, type StackRequest } from './internal/sim/stack.js'
import { causalBroadcast, type CausalEvent, type CausalMsg, type CausalRequest, type CausalState } from './causal-broadcast.js'
import { CRDT_TICK, type CrdtMapMsg, type Semantics } from './crdt-map.js'
import { SharedState } from './gossip-state.js'
import { AtomicChannel, type AtomicWire } from './atomic-broadcast.js'
import { memberId, NoQuorum } from './atomic-log.js'
import { chooseTopology, clientServer, fullMesh, hyparview, hyparviewSizes, type TopologyFactory, type TopologyKind } from './topology.js'
import { coordinatorOf, hasQuorum, partitionChange, partitionView, type PartitionView } from './partition.js'

/**
 * The cluster services that sit beside the routing engine: partition detection and heal,
 * quorum mode, duplicate-activation conflicts, and the broadcast primitives (reliable and causal
 * broadcast over Plumtree on the chosen topology, atomic broadcast, replicated state, groups,
 * coordinators). Each protocol is a pure machine (see `plumtree.ts`, `crdt-map.ts`, …) run by a
 * {@link Driver} on the node's clock; their messages travel on the transport's `control` channel
 * as `{ k: 'x', s: <service>, m: <message> }`, which the engine hands over through its hooks.
 */

/** `topology` of `Swarm.start`: a name, or any {@link TopologyFactory}. */
export type TopologyOption = TopologyKind | 'auto' | TopologyFactory

/** Events of the cluster services, merged into the node's events. */
export interface ClusterEvents {
  /** Members became unreachable (or the unreachable set changed): both sides as this node sees them. */
  partition: PartitionView
  /** Unreachable members came back (`unreachable` lists any still missing, e.g. a node that crashed for good). */
  heal: PartitionView & { readonly rejoined: readonly string[] }
  /** This side's coordinator of `group` changed (see `node.coordinator(group)`). */
  'coordinator-changed': { readonly group: string; readonly coordinator: string | undefined; readonly previous: string | undefined }
  /** A reliable (or causal) broadcast delivered here, own ones included. */
  broadcast: { readonly topic: string; readonly origin: string; readonly payload: unknown; readonly order: 'reliable' | 'causal' }
  /** Quorum mode: this side lost (`false`) or regained (`true`) the quorum. */
  quorum: { readonly quorum: boolean; readonly view: PartitionView }
}

/** Tunables of the cluster services (ms). */
export interface ServiceTimings {
  /** How often members held unreachable are dialled to see whether the partition healed (1000). */
  readonly reconnect: number
  /** How often a conflict message waits for its winner to finish activating, and how many times (100, 50). */
  readonly conflictRetry: number
  readonly conflictTries: number
}

const DEFAULT_SERVICE_TIMINGS: ServiceTimings = { reconnect: 1000, conflictRetry: 100, conflictTries: 50 }

export interface ServicesInit {
  readonly self: string
  readonly engine: SwarmEngine
  readonly transport: Transport
  readonly system: ActorSystem
  readonly clock: Clock
  readonly agents: ReadonlyMap<string, AgentClass>
  /** Protocol names of the agent classes in quorum mode. */
  readonly quorum: ReadonlySet<string>
  readonly topology?: TopologyOption
  /** The cluster size `auto` picks the topology for (16 unless told: full mesh). */
  readonly clusterSize?: number
  readonly timings?: Partial<ServiceTimings>
}

/** An agent that can merge a losing duplicate's state (see `node.on('heal')`). */
interface ConflictAware {
  onConflict(otherSnapshot: unknown): unknown
}

type XWire = { readonly k: 'x'; readonly s: string; readonly m: unknown }
const isXWire = (x: unknown): x is XWire => typeof x === 'object' && x !== null && (x as { k?: unknown }).k === 'x' && typeof (x as { s?: unknown }).s === 'string'

const isObject = (x: unknown): x is Record<string, unknown> => typeof x === 'object' && x !== null && !Array.isArray(x)

/** The outer shape of each service's messages (the machines read nothing else without checking). */
function wellFormed({ s, m }: XWire): boolean {
  if (!isObject(m)) return false
  if (s === 'ov') return (m['l'] === 'ov' || m['l'] === 'pt') && isObject(m['m']) && typeof m['m']['t'] === 'string'
  if (s === 'cf') return typeof m['type'] === 'string' && typeof m['id'] === 'string' && typeof m['h'] === 'number' && (m['u'] === undefined || typeof m['u'] === 'string')
  if (s === 'dq' || s === 'dr') return typeof m['type'] === 'string' && typeof m['id'] === 'string'
  if (s.startsWith('st:')) return (m['t'] === 'digest' && isObject(m['digest'])) || ((m['t'] === 'delta' || m['t'] === 'sync') && isObject(m['delta']))
  if (s.startsWith('at:')) {
    const a = m['m']
    return typeof m['f'] === 'string' && typeof m['to'] === 'string' && isObject(a) && (typeof a['term'] === 'number' || a['t'] === 'propose' || (a['t'] === 'join' && typeof a['who'] === 'string'))
  }
  return false
}

/** A reliable / causal broadcast's payload on the Plumtree tree. */
type TreePayload = { readonly r: string; readonly p: unknown } | { readonly c: CausalMsg } | { readonly g: string; readonly t: string; readonly p: unknown }

interface Conflict {
  readonly type: string
  readonly id: string
  readonly state: unknown
  readonly h: number
  /** The loser's fifo counters: what it delivered stays delivered at the winner. */
  readonly f?: Counters
  /** Unique per conflict (`node#incarnation/n`): a copy sent again after a lost ack merges once. */
  readonly u?: string
}

/** Counters off the wire; anything else is left out (the conflict still carries its state). */
function countersOf(f: unknown): Counters | undefined {
  if (!Array.isArray(f)) return undefined
  const int = (n: unknown): boolean => Number.isSafeInteger(n)
  const ok = f.every(
    (c) =>
      Array.isArray(c) &&
      c.length >= 2 &&
      c.length <= 4 &&
      typeof c[0] === 'string' &&
      int(c[1]) &&
      (c[2] === undefined || c[2] === null || int(c[2])) &&
      (c[3] === undefined || (Array.isArray(c[3]) && c[3].length <= 4096 && c[3].every(int))),
  )
  return ok ? (f as Counters) : undefined
}

interface Suspended {
  readonly state: unknown
  readonly input: unknown
}

/** How long a node remembers a conflict it merged (a copy sent again after a lost ack comes within seconds). */
const MERGED_TTL = 10 * 60_000

/** Conflict retries (× `conflictRetry` ms) before an agent no copy of which runs is restored from the conflict's state. */
const ORPHAN_TRIES = 10

const GROUPS = '__groups'
const groupKey = (group: string, a: AgentAddress) => `${group}\u0000${a.type}\u0000${a.id}`

function topologyFactory(option: TopologyOption | undefined, size: number): TopologyFactory {
  if (typeof option === 'function') return option
  switch (option ?? 'auto') {
    case 'full-mesh':
      return fullMesh()
    case 'client-server':
      return clientServer({ servers: { count: Math.max(2, Math.ceil(Math.sqrt(size))) } })
    case 'hyparview':
      return hyparview(hyparviewSizes(size))
    default:
      return chooseTopology(size)
  }
}

/** A protocol machine whose state is an object that changes in place (the overlay stack). */
function stackMachine(stack: OverlayStack): Machine<OverlayStack, StackMsg, StackRequest, StackEvent> {
  return {
    init: () => ({ state: stack, effects: stack.initialEffects }),
    step: (s, input) => ({ state: s, effects: s.input(input) }),
  }
}

/**
 * Seeds a node's protocol randomness from its id and its clock (different across nodes and across
 * restarts; the same in a replayed simulation, whose clock is virtual).
 */
function seedOf(self: string, clock: Clock): number {
  let h = 0x811c9dc5
  for (let i = 0; i < self.length; i++) h = Math.imul(h ^ self.charCodeAt(i), 0x01000193) >>> 0
  return h ^ ((clock.wallTime?.() ?? Date.now()) & 0xffff)
}

export class ClusterServices {
  readonly events = new Emitter<ClusterEvents>()
  readonly #i: ServicesInit
  /** The overlay broadcasts travel on. */
  readonly topologyKind: TopologyKind
  readonly #timings: ServiceTimings
  readonly #rng: Prng
  #view: PartitionView
  #quorum = true
  /** Members ever seen live (not left): kept even after membership forgets their tombstones. */
  readonly #remembered = new Map<string, string>()
  readonly #peers = new Set<string>()
  readonly #connecting = new Set<string>()
  readonly #suspended = new Map<string, Suspended>()
  readonly #timers: TimerHandle[] = []
  readonly #stack: Driver<OverlayStack, StackMsg, StackRequest, StackEvent>
  readonly #causal: Driver<CausalState, CausalMsg, CausalRequest, CausalEvent>
  readonly #maps = new Map<string, SharedState>()
  readonly #logs = new Map<string, AtomicChannel>()
  readonly #coordinators = new Map<string, string | undefined>()
  /** Conflicts merged here (by `u`), until when they are remembered; insertion-ordered. */
  readonly #merged = new Map<string, number>()
  #conflictSeq = 0
  #joinedOverlay = false
  #closed = false
  /** Local agents the directory gave to another live node at the last sweep. */
  #stale = new Set<string>()
  readonly counters = { restoredFromConflict: 0, badInput: 0, duplicatesStopped: 0, conflicts: 0, conflictsMerged: 0, conflictsRepeated: 0, conflictsLost: 0, reconnects: 0, refused: 0 }

  constructor(init: ServicesInit) {
    this.#i = init
    this.#timings = { ...DEFAULT_SERVICE_TIMINGS, ...init.timings }
    this.#rng = prng(seedOf(init.self, init.clock))
    this.#view = partitionView(init.engine.members())
    const who = { self: init.self, rng: this.#rng }
    const topology = topologyFactory(init.topology, init.clusterSize ?? 16)
    this.topologyKind = topology({ self: init.self }).kind
    const ctx = () => ({ self: init.self, now: init.clock.now(), rng: this.#rng })
    const stack = new OverlayStack(ctx, {}, { topology })
    this.#stack = new Driver(stackMachine(stack), who, undefined, {
      clock: init.clock,
      send: (to, msg) => this.send(to, 'ov', msg),
      emit: (ev) => this.#onStackEvent(ev),
    })
    this.#causal = new Driver(causalBroadcast(), who, undefined, {
      clock: init.clock,
      send: () => {},
      emit: (ev) => {
        if (ev.type === 'broadcast') this.#stack.input({ type: 'app', req: { layer: 'pt', req: { type: 'broadcast', payload: { c: ev.msg } satisfies TreePayload } } })
        else {
          const body = ev.msg.payload as { topic: string; payload: unknown }
          this.events.emit('broadcast', { topic: body.topic, origin: ev.msg.sender, payload: body.payload, order: 'causal' })
        }
      },
    })
    init.engine.hooks = {
      onWire: (from, payload) => this.#onWire(from, payload),
      refuse: (address) => this.#refuse(address),
      onDiscard: (address, state, f) => this.#sendConflict({ type: address.type, id: address.id, state, h: 0, ...(f !== undefined ? { f } : {}) }),
      onReturned: (payload) => this.#onReturned(payload),
    }
    for (const ev of ['member-up', 'member-down', 'member-left', 'member-suspect'] as const) init.engine.events.on(ev, () => this.#onMembership())
    // Group membership replicates on every node from the start: a node hosting a member must know
    // it to deliver group broadcasts, whether or not it ever called a group API itself.
    this.#groups()
    this.#every(this.#timings.reconnect, () => {
      this.#reconnect()
      this.#sweepDuplicates()
    })
    this.#onMembership()
  }

  // ───────────────────────────── wire ─────────────────────────────

  /** Sends a service message on the control channel; false when the peer has no session (or dropped a best-effort one). */
  send(to: string, service: string, m: unknown, guarantee: readonly Guarantee[] = ['reliable']): boolean {
    try {
      // `false` from the transport means "above the high-water mark": a reliable message was still accepted.
      return this.#i.transport.send(to, { k: 'x', s: service, m } satisfies XWire, { channel: CONTROL, guarantee }) || guarantee.includes('reliable')
    } catch {
      return false
    }
  }

  /**
   * A service message from a peer. Shapes are checked before a machine sees them; anything
   * malformed is counted and dropped (`badInput`), and a machine that still throws on a message
   * it cannot make sense of loses only that message.
   */
  #onWire(from: string, payload: unknown): void {
    if (this.#closed) return
    if (!isXWire(payload) || !wellFormed(payload)) return void this.counters.badInput++
    const { s, m } = payload
    try {
      if (s === 'ov') this.#stack.input({ type: 'recv', from, msg: m as StackMsg })
      else if (s === 'cf') void this.#onConflict(m as Conflict, 0)
      else if (s === 'dq') this.#answerHostQuery(from, m as AgentAddress)
      else if (s === 'dr') void this.#onHostAnswer(from, m as AgentAddress & { hosts?: unknown })
      else if (s.startsWith('st:')) this.#maps.get(s.slice(3))?.driver.input({ type: 'recv', from, msg: m as CrdtMapMsg })
      else if (s.startsWith('at:')) this.#logs.get(s.slice(3))?.receive(from, m as AtomicWire)
      else this.counters.badInput++
    } catch {
      this.counters.badInput++
    }
  }

  #every(ms: number, fn: () => void): void {
    const loop = () => {
      if (this.#closed) return
      fn()
      this.#timers[idx] = this.#i.clock.setTimeout(loop, ms)
    }
    const idx = this.#timers.length
    this.#timers.push(this.#i.clock.setTimeout(loop, ms))
  }

  // ───────────────────────────── membership, partitions, heal ─────────────────────────────

  /** The sides as this node sees them now. */
  view(): PartitionView {
    return this.#view
  }

  hasQuorum(): boolean {
    return this.#quorum
  }

  #onMembership(): void {
    if (this.#closed) return
    const members = this.#i.engine.members()
    for (const m of members) {
      if (m.status === 'left') this.#remembered.delete(m.id)
      else if (m.id !== this.#i.self) this.#remembered.set(m.id, m.address)
    }
    const before = this.#view
    const after = partitionView(members, new Set(this.#remembered.keys()))
    this.#view = after
    this.#syncPeers(after)
    const change = partitionChange(before, after)
    if (change.rejoined.length > 0) this.events.emit('heal', { ...after, rejoined: change.rejoined })
    if (change.lost.length > 0) this.events.emit('partition', after)
    for (const id of change.rejoined) this.#catchUp(id)
    this.#checkQuorum()
    this.#checkCoordinators()
  }

  /** Feeds reachability to every machine that keeps a peer list. */
  #syncPeers(view: PartitionView): void {
    const live = new Set(view.reachable.filter((id) => id !== this.#i.self))
    const ups = [...live].filter((id) => !this.#peers.has(id))
    const downs = [...this.#peers].filter((id) => !live.has(id))
    for (const peer of downs) {
      this.#peers.delete(peer)
      this.#stack.input({ type: 'peer-down', peer })
      for (const m of this.#maps.values()) m.driver.input({ type: 'peer-down', peer })
      for (const l of this.#logs.values()) l.reachability(peer, false)
    }
    for (const peer of ups) {
      this.#peers.add(peer)
      if (!this.#joinedOverlay) {
        // HyParView joins through a contact; the static topologies ignore the request.
        this.#joinedOverlay = true
        this.#stack.input({ type: 'app', req: { layer: 'ov', req: { type: 'join', contact: peer } } })
      }
      this.#stack.input({ type: 'peer-up', peer })
      for (const m of this.#maps.values()) m.driver.input({ type: 'peer-up', peer })
      for (const l of this.#logs.values()) l.reachability(peer, true)
    }
  }

  /**
   * Serf-style reconnect: a member held dead may only be cut off. Dial it; if it answers, introduce
   * ourselves (`join`), which revives us on its side and, by its answer, it on ours.
   */
  #reconnect(): void {
    for (const id of this.#view.unreachable) {
      const address = this.#remembered.get(id)
      if (address === undefined || this.#connecting.has(id)) continue
      this.#connecting.add(id)
      this.#i.transport.connect(address).then(
        (peer) => {
          this.#connecting.delete(id)
          if (peer.nodeId !== id || this.#closed) return
          this.counters.reconnects++
          this.#i.engine.introduce(peer.nodeId)
        },
        () => this.#connecting.delete(id),
      )
    }
  }

  /** A member came back: exchange directory and state digests with it now rather than at the next round. */
  #catchUp(peer: string): void {
    try {
      this.#i.transport.send(peer, { k: 'ae', d: directoryDigest(this.#i.engine.directory()) }, { channel: CONTROL, guarantee: ['best-effort'] })
    } catch {
      // no session yet: the periodic anti-entropy catches up
    }
    for (const m of this.#maps.values()) m.driver.input({ type: 'timer', name: CRDT_TICK })
    if (this.#view.reachable.length > 1) this.#stack.input({ type: 'app', req: { layer: 'ov', req: { type: 'join', contact: peer } } })
  }

  /**
   * Safety net after a heal: a local agent that the directory has given to another live node for
   * two sweeps in a row (so not one caught between its activation and its directory entry) is a
   * duplicate the merge missed (it was moving or activating when the winning entry arrived). It
   * stops like any losing duplicate: its state goes to the winner's `onConflict`, its mail follows.
   */
  #sweepDuplicates(): void {
    const { system, engine, agents } = this.#i
    const dir = engine.directory()
    const now = new Set<string>()
    for (const a of system.localAgents()) {
      if (!agents.has(a.type)) continue
      const key = directoryKey(a.type, a.id)
      const e = dir.get(key)
      if (e === undefined || e.status !== 'active' || e.node === this.#i.self || !engine.isLive(e.node)) continue
      now.add(key)
      // Stopped only once the named node confirms it runs the agent: a stale entry must not cost the only copy.
      if (this.#stale.has(key)) this.send(e.node, 'dq', { type: a.type, id: a.id })
    }
    this.#stale = now
  }

  #answerHostQuery(from: string, a: AgentAddress): void {
    this.send(from, 'dr', { type: a.type, id: a.id, hosts: this.#i.system.hosts({ type: a.type, id: a.id }) })
  }

  async #onHostAnswer(from: string, a: AgentAddress & { hosts?: unknown }): Promise<void> {
    const { system, engine } = this.#i
    const address = { type: a.type, id: a.id }
    const e = engine.directory().get(directoryKey(a.type, a.id))
    if (a.hosts !== true || e?.node !== from || e.status !== 'active' || !system.hosts(address)) return
    const h = await system.handoff(address).catch(() => undefined)
    if (h === undefined) return
    this.counters.duplicatesStopped++
    this.#sendConflict({ type: a.type, id: a.id, state: h.state, h: 0, f: engine.takeOrder(address) })
    for (const env of h.pending as readonly Envelope[]) engine.route(env)
  }

  // ───────────────────────────── quorum mode ─────────────────────────────

  #refuse(address: AgentAddress): NoQuorum | undefined {
    if (this.#quorum || !this.#i.quorum.has(address.type)) return undefined
    this.counters.refused++
    return new NoQuorum(`${address.type}/${address.id} runs only on the majority side; this side (${this.#view.reachable.join(', ')}) has no quorum`, {
      type: address.type,
      id: address.id,
      reachable: this.#view.reachable,
      unreachable: this.#view.unreachable,
    })
  }

  #checkQuorum(): void {
    if (this.#i.quorum.size === 0) return
    const q = hasQuorum(this.#view)
    if (q === this.#quorum) return
    this.#quorum = q
    this.events.emit('quorum', { quorum: q, view: this.#view })
    if (!q) void this.#suspendQuorumAgents()
    else this.#resumeQuorumAgents()
  }

  /** Minority side: agents that must stay single stop; their state waits here in case the directory still names us after the heal. */
  async #suspendQuorumAgents(): Promise<void> {
    const { system, engine } = this.#i
    for (const address of system.localAgents()) {
      if (!this.#i.quorum.has(address.type)) continue
      const entry = engine.directory().get(directoryKey(address.type, address.id))
      const h = await system.handoff(address).catch(() => undefined)
      if (h === undefined) continue
      this.#suspended.set(directoryKey(address.type, address.id), { state: h.state, input: entry?.input })
      // Their waiting mail goes back through routing, which now refuses it (asks fail with NoQuorum).
      for (const e of h.pending as readonly Envelope[]) engine.route(e)
    }
  }

  #resumeQuorumAgents(): void {
    const { system, engine, agents } = this.#i
    for (const [key, s] of [...this.#suspended]) {
      this.#suspended.delete(key)
      const entry = engine.directory().get(key)
      if (entry === undefined || entry.status !== 'active') continue
      const cls = agents.get(entry.type)
      if (cls === undefined) continue
      if (entry.node === this.#i.self && !system.hosts(entry)) {
        system.restoreAgent(cls, entry.id, s.state, entry.input === undefined ? {} : { input: entry.input })
      } else if (entry.node !== this.#i.self) {
        // The majority side took over: our stopped copy offers its state like any losing duplicate.
        this.#sendConflict({ type: entry.type, id: entry.id, state: s.state, h: 0, f: engine.takeOrder(entry) })
      }
    }
  }

  // ───────────────────────────── conflicts (duplicate activations) ─────────────────────────────

  #sendConflict(c: Conflict): void {
    this.counters.conflicts++
    this.#forwardConflict({ ...c, u: `${this.#i.self}#${this.#i.transport.incarnation}/${++this.#conflictSeq}` }, 0)
  }

  /**
   * Whether conflict `u` was merged here already (the loser sent it again: its session ended
   * before the ack came back, though the first copy arrived). Otherwise remembers it from now.
   */
  #seenConflict(u: string | undefined): boolean {
    if (u === undefined) return false
    const now = this.#i.clock.now()
    for (const [k, until] of this.#merged) {
      if (until > now) break
      this.#merged.delete(k)
    }
    if (this.#merged.has(u)) return true
    this.#merged.set(u, now + MERGED_TTL)
    return false
  }

  /** To the node the directory names as the winner; retried while it has no session yet (right after a heal). */
  #forwardConflict(c: Conflict, tries: number): void {
    const entry = this.#i.engine.directory().get(directoryKey(c.type, c.id))
    if (entry === undefined || entry.node === this.#i.self) return void this.#onConflict(c, tries)
    if (this.send(entry.node, 'cf', c)) return
    if (tries >= this.#timings.conflictTries || this.#closed) return void this.counters.conflictsLost++
    this.#i.clock.setTimeout(() => this.#forwardConflict(c, tries + 1), this.#timings.conflictRetry)
  }

  /**
   * A conflict whose session ended before the peer acknowledged it (a node that forgot us in a
   * membership flap during the heal) carries the loser's only state: it goes out again, to
   * wherever the directory names the winner now. Other services repair themselves.
   */
  #onReturned(payload: unknown): void {
    if (this.#closed || !isXWire(payload) || payload.s !== 'cf' || !wellFormed(payload)) return
    this.#forwardConflict(payload.m as Conflict, 0)
  }

  /** The winner's side: hand the loser's snapshot to `onConflict`, if the agent has one. */
  async #onConflict(c: Conflict, tries: number): Promise<void> {
    const { system, engine } = this.#i
    const address = { type: c.type, id: c.id }
    const f = countersOf(c.f)
    if (system.hosts(address)) {
      if (this.#seenConflict(c.u)) return void this.counters.conflictsRepeated++
      if (f !== undefined) engine.mergeOrder(address, f)
      const agent = system.agentOf(system.refOf(address)) as unknown as Partial<ConflictAware>
      if (typeof agent.onConflict === 'function') {
        try {
          await agent.onConflict(c.state)
          this.counters.conflictsMerged++
        } catch {
          this.counters.conflictsLost++
        }
      }
      return
    }
    const entry = engine.directory().get(directoryKey(c.type, c.id))
    if (entry !== undefined && entry.node !== this.#i.self && engine.isLive(entry.node) && c.h < 4) return this.#forwardConflict({ ...c, h: c.h + 1 }, tries)
    // The directory names this node but no copy runs here any more (both copies stopped, each
    // taking the other for the winner while their directories disagreed): the conflict carries
    // the last state, so the agent comes back from it rather than being lost.
    const cls = this.#i.agents.get(c.type)
    // Not while it moves (sim --swarm seed 119: restored here while its move to a cut-off node
    // hung, it ran twice once the move went through).
    if (tries >= ORPHAN_TRIES && entry?.node === this.#i.self && entry.status === 'active' && cls !== undefined && !this.#closed && !engine.isMoving(address)) {
      try {
        system.restoreAgent(cls, c.id, c.state, entry.input === undefined ? {} : { input: entry.input })
        this.#seenConflict(c.u)
        if (f !== undefined) engine.mergeOrder(address, f)
        this.counters.restoredFromConflict++
        return
      } catch {
        // it came back meanwhile: fall through and merge into it next time
      }
    }
    // The winner is still activating here (or the directory has not caught up): wait a little.
    if (tries >= this.#timings.conflictTries || this.#closed) return void this.counters.conflictsLost++
    this.#i.clock.setTimeout(() => void this.#onConflict(c, tries + 1), this.#timings.conflictRetry)
  }

  // ───────────────────────────── broadcast ─────────────────────────────

  broadcast(topic: string, payload: unknown, order: 'reliable' | 'causal'): void {
    if (order === 'causal') this.#causal.input({ type: 'app', req: { type: 'broadcast', payload: { topic, payload } } })
    else this.#stack.input({ type: 'app', req: { layer: 'pt', req: { type: 'broadcast', payload: { r: topic, p: payload } satisfies TreePayload } } })
  }

  /** The overlay's current neighbours (links the broadcast tree uses). */
  neighbors(): readonly string[] {
    return this.#stack.state.neighbors()
  }

  #onStackEvent(ev: StackEvent): void {
    if (ev.type !== 'deliver') return
    const p = ev.payload as TreePayload
    if ('r' in p) this.events.emit('broadcast', { topic: p.r, origin: ev.origin, payload: p.p, order: 'reliable' })
    else if ('c' in p) {
      if (ev.origin !== this.#i.self) this.#causal.input({ type: 'recv', from: ev.origin, msg: p.c })
    } else this.#deliverToGroup(p.g, p.t, p.p)
  }

  // ───────────────────────────── gossip state ─────────────────────────────

  state(name: string, semantics: Semantics, tombstoneGrace?: number): SharedState {
    let s = this.#maps.get(name)
    if (s === undefined) {
      s = new SharedState(name, semantics, (to, msg) => this.send(to, `st:${name}`, msg, msg.t === 'digest' ? ['best-effort'] : ['reliable']), this.#i.clock, { self: this.#i.self, rng: this.#rng }, tombstoneGrace)
      this.#maps.set(name, s)
      for (const peer of this.#peers) s.driver.input({ type: 'peer-up', peer })
    }
    return s
  }

  // ───────────────────────────── atomic broadcast ─────────────────────────────

  atomic(name: string, members: readonly string[] | undefined): AtomicChannel {
    let a = this.#logs.get(name)
    if (a === undefined) {
      // Members are `nodeId#incarnation` (a restarted node joins again as a new member): the
      // bootstrap list names each node by the incarnation its session here has; a node with no
      // session now is left out, and joins when it opens the channel.
      const { transport } = this.#i
      const incarnations = new Map(transport.peers().map((p) => [p.nodeId, p.incarnation]))
      incarnations.set(this.#i.self, transport.incarnation)
      const nodes = [...new Set(members ?? this.#view.reachable)].filter((id) => incarnations.has(id))
      const list = nodes.map((id) => memberId(id, incarnations.get(id) as number))
      const self = memberId(this.#i.self, transport.incarnation)
      a = new AtomicChannel(name, list, (to, wire) => this.send(to, `at:${name}`, wire), this.#i.clock, { self, rng: this.#rng })
      this.#logs.set(name, a)
      for (const node of nodes) if (node !== this.#i.self && !this.#peers.has(node)) a.reachability(node, false)
    }
    return a
  }

  // ───────────────────────────── groups and coordinators ─────────────────────────────

  #groups(): SharedState {
    return this.state(GROUPS, 'add-wins')
  }

  groupJoin(group: string, address: AgentAddress): void {
    this.#groups().put(groupKey(group, address), { type: address.type, id: address.id })
  }

  groupLeave(group: string, address: AgentAddress): void {
    this.#groups().remove(groupKey(group, address))
  }

  groupMembers(group: string): AgentAddress[] {
    const prefix = `${group}\u0000`
    const out: AgentAddress[] = []
    for (const [key, value] of Object.entries(this.#groups().entries())) if (key.startsWith(prefix)) out.push(value as AgentAddress)
    return out
  }

  groupBroadcast(group: string, type: string, payload: unknown): void {
    this.#stack.input({ type: 'app', req: { layer: 'pt', req: { type: 'broadcast', payload: { g: group, t: type, p: payload } satisfies TreePayload } } })
  }

  /** Tells every member of the group that this node hosts. */
  #deliverToGroup(group: string, type: string, payload: unknown): void {
    const { system } = this.#i
    for (const a of this.groupMembers(group)) {
      if (!system.hosts(a)) continue
      try {
        ;(system.refOf(a) as { tell(type: string, payload: unknown): void }).tell(type, payload)
      } catch {
        // a payload the member's protocol refuses is dropped for that member only
      }
    }
  }

  coordinator(group: string): string | undefined {
    const c = this.#computeCoordinator(group)
    if (!this.#coordinators.has(group)) {
      this.#coordinators.set(group, c)
      // Group membership changes move the coordinator too.
      if (group !== GROUPS) this.#groups().on('change', () => this.#checkCoordinators())
    }
    return c
  }

  #computeCoordinator(group: string): string | undefined {
    const dir = this.#i.engine.directory()
    const hosts = this.groupMembers(group).map((a) => dir.get(directoryKey(a.type, a.id))?.node).filter((n): n is string => n !== undefined)
    return coordinatorOf(this.#view, hosts)
  }

  #checkCoordinators(): void {
    for (const [group, previous] of this.#coordinators) {
      const now = this.#computeCoordinator(group)
      if (now === previous) continue
      this.#coordinators.set(group, now)
      this.events.emit('coordinator-changed', { group, coordinator: now, previous })
    }
  }

  close(): void {
    this.#closed = true
    for (const t of this.#timers) this.#i.clock.clearTimeout(t)
    this.#stack.stop()
    this.#causal.stop()
    for (const m of this.#maps.values()) m.driver.stop()
    for (const l of this.#logs.values()) l.close()
  }
}

