/**
 * Gossip membership with a SWIM failure detector, as pure transition functions:
 * `(state, input) → { state, effects }`. Nothing here touches a socket or a clock; the swarm runs
 * the effects (send on the transport's `control` channel, connect, emit events) and feeds inputs
 * (ticks with the time, messages, hints that a connection dropped).
 *
 * Why SWIM rather than phi-accrual: SWIM's load per node is constant whatever the cluster size
 * (one probe per period, k indirect probes only on a miss), suspicion with incarnation numbers
 * lets a slow but live node refute before it is declared down (what keeps a busy machine free of
 * false downs), and its piggybacked dissemination is the same gossip that spreads joins, leaves
 * and metadata. Phi-accrual needs every node to heartbeat every other (O(N²) traffic) and its
 * threshold is hard to pick for a 2-second bound on a loaded machine. We add one hint SWIM lacks:
 * when the transport reports a peer gone (`peer-down`), the member is probed at once instead of
 * waiting its turn.
 *
 * Precedence of updates about a member (SWIM §4.2, plus `left`):
 * - `alive(i)` beats `alive(j)`/`suspect(j)`/`dead(j)` when i > j;
 * - `suspect(i)` beats `alive(j)` when i ≥ j and `suspect(j)` when i > j;
 * - `dead(i)` / `left(i)` beat `alive(j)` / `suspect(j)` when i ≥ j.
 * A live node that hears `suspect` or `dead` about itself refutes with `alive(i + 1)`.
 */

export type MemberStatus = 'alive' | 'suspect' | 'dead' | 'left'

/** Metadata gossiped with a member. */
export interface MemberMeta {
  readonly capabilities: readonly string[]
  /** Agents hosted; a hint for `leastLoaded`, refreshed on every message from the member. */
  readonly load: number
}

/** A member as gossip carries it. */
export interface MemberUpdate {
  readonly id: string
  readonly address: string
  readonly incarnation: number
  readonly status: MemberStatus
  readonly meta: MemberMeta
}

/** A member as one node knows it. */
export interface Member extends MemberUpdate {
  /** Local time of the last status change (drives the suspicion timeout). */
  readonly since: number
}

export interface MembershipConfig {
  /** Time between two probes started by this node. */
  readonly probeInterval: number
  /** How long a direct ping waits for its ack before asking others. */
  readonly pingTimeout: number
  /** How long the indirect probes (ping-req) get before the member is suspected. */
  readonly indirectTimeout: number
  /** How many members relay an indirect probe. */
  readonly indirectProbes: number
  /** How long a suspect has to refute before it is declared dead. */
  readonly suspicionTimeout: number
  /** Each update rides on this many × log2(N + 1) outgoing messages. */
  readonly retransmitMultiplier: number
  /** Most updates piggybacked on one message. */
  readonly maxPiggyback: number
  /** How long dead / left members are remembered (so stale gossip cannot revive them). */
  readonly tombstoneTimeout: number
}

/**
 * Defaults for a `kill -9` detected everywhere in ≤ 2 s on 127.0.0.1 with the CPU loaded. The
 * transport redials silently and says nothing when a link drops, so detection rests on probing:
 * a probe every 100 ms (round-robin, so each member is probed by some node every ~100 ms in a
 * 4-node cluster), 250 ms for the direct ack, 250 ms more for the indirect ones, then 600 ms of
 * suspicion, and the obituary goes to everyone at once: ≈ 1.2 s typical, ≈ 1.6 s worst case from
 * the kill to `member-down` on an idle machine, leaving room for timer lag on a loaded one.
 * A live node gets 500 ms to answer a probe and 600 ms more to refute a suspicion.
 */
export const DEFAULT_MEMBERSHIP_CONFIG: MembershipConfig = {
  probeInterval: 100,
  pingTimeout: 250,
  indirectTimeout: 250,
  indirectProbes: 3,
  suspicionTimeout: 600,
  retransmitMultiplier: 4,
  maxPiggyback: 16,
  tombstoneTimeout: 60_000,
}

/** Messages between membership instances (sent on the `control` channel). */
export type MembershipMessage =
  | { readonly t: 'ping'; readonly seq: number; readonly updates: readonly MemberUpdate[] }
  | { readonly t: 'ack'; readonly seq: number; readonly updates: readonly MemberUpdate[] }
  | { readonly t: 'ping-req'; readonly seq: number; readonly target: string; readonly updates: readonly MemberUpdate[] }
  | { readonly t: 'join'; readonly updates: readonly MemberUpdate[] }
  | { readonly t: 'sync'; readonly updates: readonly MemberUpdate[] }

export type MembershipEvent = 'member-up' | 'member-suspect' | 'member-down' | 'member-left'

export type MembershipEffect =
  | { readonly kind: 'send'; readonly to: string; readonly message: MembershipMessage }
  | { readonly kind: 'connect'; readonly address: string }
  | { readonly kind: 'event'; readonly event: MembershipEvent; readonly member: MemberUpdate }

interface Probe {
  readonly target: string
  readonly seq: number
  readonly startedAt: number
  readonly phase: 'direct' | 'indirect'
}

interface Relay {
  readonly requester: string
  readonly requesterSeq: number
  readonly expires: number
}

interface Pending {
  readonly update: MemberUpdate
  readonly remaining: number
}

export interface MembershipState {
  readonly self: string
  readonly config: MembershipConfig
  readonly members: ReadonlyMap<string, Member>
  readonly probes: ReadonlyMap<string, Probe>
  readonly relays: ReadonlyMap<number, Relay>
  readonly pending: ReadonlyMap<string, Pending>
  readonly nextProbeAt: number
  readonly probeOrder: readonly string[]
  readonly seq: number
  /** xorshift32 state: the only randomness, so a run is a function of its seed. */
  readonly rng: number
}

export interface Transition {
  readonly state: MembershipState
  readonly effects: readonly MembershipEffect[]
}

/** Inputs the runner feeds in. */
export type MembershipInput =
  /**
   * Time passes. `lag`: how late this tick ran (ms). A node whose own timers run late was starved
   * (GC, a busy CPU): the acks it waited for may be sitting unread, so its deadlines move by the
   * lag instead of turning its own slowness into suspicions of others (Lifeguard's local health).
   */
  | { readonly kind: 'tick'; readonly now: number; readonly lag?: number }
  | { readonly kind: 'message'; readonly now: number; readonly from: string; readonly message: MembershipMessage }
  /** A connection to a seed is up: introduce ourselves. */
  | { readonly kind: 'seed-connected'; readonly now: number; readonly nodeId: string }
  /** The transport lost its connection to `nodeId`: probe it now. */
  | { readonly kind: 'connection-lost'; readonly now: number; readonly nodeId: string }
  | { readonly kind: 'set-meta'; readonly now: number; readonly meta: MemberMeta }
  /** Graceful leave: tell everyone, then the runner stops after a short grace. */
  | { readonly kind: 'leave'; readonly now: number }

export interface MembershipInit {
  readonly self: string
  readonly address: string
  /** Must grow across restarts of the same node id (a process start time works). */
  readonly incarnation: number
  readonly meta: MemberMeta
  readonly now: number
  readonly seed?: number
  readonly config?: Partial<MembershipConfig>
}

/**
 * A new membership with only this node in it.
 *
 * @example
 * let m = createMembership({ self: 'a', address: '127.0.0.1:7000', incarnation: Date.now(), meta, now: 0 })
 * const { state, effects } = step(m, { kind: 'tick', now: 300 })
 */
export function createMembership(init: MembershipInit): MembershipState {
  const self: Member = {
    id: init.self,
    address: init.address,
    incarnation: init.incarnation,
    status: 'alive',
    meta: init.meta,
    since: init.now,
  }
  return {
    self: init.self,
    config: { ...DEFAULT_MEMBERSHIP_CONFIG, ...init.config },
    members: new Map([[init.self, self]]),
    probes: new Map(),
    relays: new Map(),
    pending: new Map(),
    nextProbeAt: init.now,
    probeOrder: [],
    seq: 0,
    rng: (init.seed ?? 0x2545f491) >>> 0 || 1,
  }
}

/** Members that count as part of the cluster (alive or suspect), self included, sorted by id. */
export function liveMembers(state: MembershipState): Member[] {
  return [...state.members.values()]
    .filter((m) => m.status === 'alive' || m.status === 'suspect')
    .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** Every member this node remembers (tombstones included), sorted by id. */
export function allMembers(state: MembershipState): Member[] {
  return [...state.members.values()].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0))
}

/** One transition. Pure: the input state is not modified. */
export function step(state: MembershipState, input: MembershipInput): Transition {
  const m = new Mutable(state)
  switch (input.kind) {
    case 'tick':
      if (input.lag !== undefined && input.lag > m.config.probeInterval) m.excuse(input.lag)
      m.tick(input.now)
      break
    case 'message':
      m.receive(input.now, input.from, input.message)
      break
    case 'seed-connected':
      m.send(input.nodeId, { t: 'join', updates: [toUpdate(m.selfMember())] })
      break
    case 'connection-lost':
      m.probeNow(input.now, input.nodeId)
      break
    case 'set-meta':
      m.bumpSelf(input.now, 'alive', input.meta)
      break
    case 'leave':
      m.leave(input.now)
      break
  }
  return m.result()
}

function toUpdate(m: Member): MemberUpdate {
  return { id: m.id, address: m.address, incarnation: m.incarnation, status: m.status, meta: m.meta }
}

/** Does update `u` supersede what we know (`known`)? SWIM precedence, see the file comment. */
export function supersedes(u: MemberUpdate, known: MemberUpdate | undefined): boolean {
  if (known === undefined) return true
  if (known.status === 'left') return u.incarnation > known.incarnation && u.status === 'alive'
  switch (u.status) {
    case 'alive':
      return u.incarnation > known.incarnation
    case 'suspect':
      return known.status === 'alive'
        ? u.incarnation >= known.incarnation
        : known.status === 'suspect'
          ? u.incarnation > known.incarnation
          : false
    case 'dead':
      return known.status === 'dead' ? false : u.incarnation >= known.incarnation
    case 'left':
      return u.incarnation >= known.incarnation
  }
}

const isLive = (s: MemberStatus) => s === 'alive' || s === 'suspect'

/**
 * A scratch copy used inside one transition. Kept private so the public surface stays the pure
 * `step`; a class only because a dozen small steps share the same copied maps and effect list.
 */
class Mutable {
  readonly self: string
  readonly config: MembershipConfig
  members: Map<string, Member>
  probes: Map<string, Probe>
  relays: Map<number, Relay>
  pending: Map<string, Pending>
  nextProbeAt: number
  probeOrder: string[]
  seq: number
  rng: number
  effects: MembershipEffect[] = []

  constructor(s: MembershipState) {
    this.self = s.self
    this.config = s.config
    this.members = new Map(s.members)
    this.probes = new Map(s.probes)
    this.relays = new Map(s.relays)
    this.pending = new Map(s.pending)
    this.nextProbeAt = s.nextProbeAt
    this.probeOrder = [...s.probeOrder]
    this.seq = s.seq
    this.rng = s.rng
  }

  result(): Transition {
    return {
      state: {
        self: this.self,
        config: this.config,
        members: this.members,
        probes: this.probes,
        relays: this.relays,
        pending: this.pending,
        nextProbeAt: this.nextProbeAt,
        probeOrder: this.probeOrder,
        seq: this.seq,
        rng: this.rng,
      },
      effects: this.effects,
    }
  }

  selfMember(): Member {
    return this.members.get(this.self)!
  }

  random(n: number): number {
    let x = this.rng
    x ^= x << 13
    x ^= x >>> 17
    x ^= x << 5
    this.rng = x >>> 0 || 1
    return this.rng % n
  }

  others(): Member[] {
    return [...this.members.values()].filter((m) => m.id !== this.self && isLive(m.status))
  }

  /** Send with piggybacked updates; each update rides on a bounded number of messages. */
  send(to: string, message: MembershipMessage): void {
    this.effects.push({ kind: 'send', to, message: { ...message, updates: [...message.updates, ...this.piggyback()] } })
  }

  piggyback(): MemberUpdate[] {
    const out: MemberUpdate[] = []
    const entries = [...this.pending.entries()].sort((a, b) => b[1].remaining - a[1].remaining)
    for (const [id, p] of entries.slice(0, this.config.maxPiggyback)) {
      out.push(p.update)
      if (p.remaining <= 1) this.pending.delete(id)
      else this.pending.set(id, { update: p.update, remaining: p.remaining - 1 })
    }
    return out
  }

  disseminate(u: MemberUpdate): void {
    const n = this.others().length + 1
    const times = Math.max(1, Math.ceil(this.config.retransmitMultiplier * Math.log2(n + 1)))
    this.pending.set(u.id, { update: u, remaining: times })
  }

  /** Apply one update from gossip; emits events and queues it for further dissemination. */
  apply(now: number, u: MemberUpdate): void {
    if (u.id === this.self) {
      const me = this.selfMember()
      if ((u.status === 'suspect' || u.status === 'dead') && u.incarnation >= me.incarnation && me.status === 'alive') {
        this.bumpSelf(now, 'alive', me.meta, u.incarnation)
      }
      return
    }
    const known = this.members.get(u.id)
    if (!supersedes(u, known)) {
      // Same incarnation, same status: metadata may still be newer (load rides on every message).
      if (known && known.incarnation === u.incarnation && known.status === u.status && known.meta !== u.meta) {
        this.members.set(u.id, { ...known, meta: u.meta })
      }
      return
    }
    const member: Member = { ...u, since: known && known.status === u.status ? known.since : now }
    this.members.set(u.id, member)
    this.disseminate(u)
    const wasLive = known !== undefined && isLive(known.status)
    if (u.status === 'alive' && !wasLive) {
      this.effects.push({ kind: 'connect', address: u.address })
      this.emit('member-up', u)
    } else if (u.status === 'suspect' && !wasLive) {
      this.effects.push({ kind: 'connect', address: u.address })
      this.emit('member-up', u)
      this.emit('member-suspect', u)
    } else if (u.status === 'suspect' && known?.status === 'alive') {
      this.emit('member-suspect', u)
    } else if (u.status === 'dead' && wasLive) {
      this.probes.delete(u.id)
      this.emit('member-down', u)
    } else if (u.status === 'left' && wasLive) {
      this.probes.delete(u.id)
      this.emit('member-left', u)
    }
  }

  emit(event: MembershipEvent, member: MemberUpdate): void {
    this.effects.push({ kind: 'event', event, member })
  }

  bumpSelf(now: number, status: 'alive' | 'left', meta: MemberMeta, atLeast = 0): void {
    const me = this.selfMember()
    const next: Member = {
      ...me,
      status,
      meta,
      incarnation: Math.max(me.incarnation, atLeast) + 1,
      since: now,
    }
    this.members.set(this.self, next)
    this.disseminate(toUpdate(next))
  }

  receive(now: number, from: string, msg: MembershipMessage): void {
    const sender = this.members.get(from)
    // A member we hold dead or left that still talks to us missed its own obituary: its next
    // message carries its refutation (a higher incarnation); until then ignore it. A dead one is
    // told (the obituary may have stopped spreading, and members that hold it alive at the same
    // incarnation never pass it on: sim --swarm seed 868, a restarted node held a live member
    // dead for good, and dead-lettered every tell to that member's agents).
    for (const u of msg.updates) this.apply(now, u)
    // A node that talks to us and that we never heard of (we joined while it was held dead, and
    // the gossip of its return ran out before it reached us: sim --swarm seed 868): join through
    // it, and its full answer brings it in.
    if (sender === undefined && !this.members.has(from) && from !== this.self && msg.t !== 'join' && msg.t !== 'sync') {
      this.send(from, { t: 'join', updates: [toUpdate(this.selfMember())] })
    }
    if (sender && (sender.status === 'dead' || sender.status === 'left') && this.members.get(from) === sender) {
      if (msg.t === 'join') this.apply(now, { ...toUpdate(sender), status: 'alive', incarnation: sender.incarnation + 1 })
      else {
        if (sender.status === 'dead' && msg.t !== 'sync') this.send(from, { t: 'sync', updates: [toUpdate(sender)] })
        return
      }
    }
    switch (msg.t) {
      case 'ping':
        this.send(from, { t: 'ack', seq: msg.seq, updates: [] })
        break
      case 'ack': {
        for (const [target, p] of this.probes) {
          if (p.seq === msg.seq) this.probes.delete(target)
        }
        const relay = this.relays.get(msg.seq)
        if (relay) {
          this.relays.delete(msg.seq)
          this.send(relay.requester, { t: 'ack', seq: relay.requesterSeq, updates: [] })
        }
        break
      }
      case 'ping-req': {
        const seq = ++this.seq
        this.relays.set(seq, { requester: from, requesterSeq: msg.seq, expires: now + this.config.indirectTimeout * 2 })
        this.send(msg.target, { t: 'ping', seq, updates: [] })
        break
      }
      case 'join': {
        // Full state back, so the newcomer learns everyone at once (and connects to them), and
        // the newcomer to everyone now rather than by piggyback over several probe periods.
        // Obituaries stay out: after a partition heals, each side holds the other dead at the same
        // incarnation as the live view the joiner has of its own side, and `dead(i)` beats
        // `alive(i)`: shipping them made the joiner declare its own side's members dead.
        this.send(from, { t: 'sync', updates: [...this.members.values()].filter((m) => m.status !== 'dead').map(toUpdate) })
        const newcomer = this.members.get(from)
        if (newcomer) {
          for (const o of this.others()) {
            if (o.id !== from) this.effects.push({ kind: 'send', to: o.id, message: { t: 'sync', updates: [toUpdate(newcomer)] } })
          }
        }
        break
      }
      case 'sync':
        break
    }
  }

  startProbe(now: number, target: string): void {
    const seq = ++this.seq
    this.probes.set(target, { target, seq, startedAt: now, phase: 'direct' })
    this.send(target, { t: 'ping', seq, updates: [] })
  }

  probeNow(now: number, target: string): void {
    const m = this.members.get(target)
    if (!m || !isLive(m.status) || target === this.self || this.probes.has(target)) return
    this.startProbe(now, target)
  }

  /** Push every running deadline back by `ms`: this node was not running, it could not judge. */
  excuse(ms: number): void {
    for (const [id, p] of this.probes) this.probes.set(id, { ...p, startedAt: p.startedAt + ms })
    for (const [id, m] of this.members) if (m.status === 'suspect' && id !== this.self) this.members.set(id, { ...m, since: m.since + ms })
  }

  tick(now: number): void {
    const c = this.config
    // Suspicion that was not refuted in time becomes death.
    for (const m of [...this.members.values()]) {
      if (m.id !== this.self && m.status === 'suspect' && now - m.since >= c.suspicionTimeout) {
        const obituary: MemberUpdate = { ...toUpdate(m), status: 'dead' }
        this.apply(now, obituary)
        // Tell everyone now rather than by piggyback: `member-down` everywhere is what users wait for.
        for (const o of this.others()) this.effects.push({ kind: 'send', to: o.id, message: { t: 'sync', updates: [obituary] } })
      }
      if ((m.status === 'dead' || m.status === 'left') && now - m.since >= c.tombstoneTimeout) {
        this.members.delete(m.id)
      }
    }
    for (const [seq, r] of this.relays) if (r.expires <= now) this.relays.delete(seq)
    // Outstanding probes: direct miss → indirect; indirect miss → suspect.
    for (const p of [...this.probes.values()]) {
      const target = this.members.get(p.target)
      if (!target || !isLive(target.status)) {
        this.probes.delete(p.target)
      } else if (p.phase === 'direct' && now - p.startedAt >= c.pingTimeout) {
        const helpers = this.pick(this.others().filter((o) => o.id !== p.target && o.status === 'alive'), c.indirectProbes)
        this.probes.set(p.target, { ...p, phase: 'indirect', startedAt: now })
        for (const h of helpers) this.send(h.id, { t: 'ping-req', seq: p.seq, target: p.target, updates: [] })
      } else if (p.phase === 'indirect' && now - p.startedAt >= c.indirectTimeout) {
        this.probes.delete(p.target)
        if (target.status === 'alive') {
          const suspicion: MemberUpdate = { ...toUpdate(target), status: 'suspect' }
          this.apply(now, suspicion)
          // Tell the suspect directly too: if it is merely slow, it refutes without waiting for
          // the rumour to reach it by piggyback.
          this.effects.push({ kind: 'send', to: target.id, message: { t: 'sync', updates: [suspicion] } })
        }
      }
    }
    // One new probe per interval, round-robin over a shuffled list (SWIM §4.3).
    if (now >= this.nextProbeAt) {
      this.nextProbeAt = now + c.probeInterval
      const target = this.nextTarget()
      if (target !== undefined && !this.probes.has(target)) this.startProbe(now, target)
    }
  }

  nextTarget(): string | undefined {
    for (let tries = 0; tries < 2; tries++) {
      while (this.probeOrder.length > 0) {
        const id = this.probeOrder.shift()!
        const m = this.members.get(id)
        if (m && isLive(m.status)) return id
      }
      this.probeOrder = this.pick(this.others(), Infinity).map((o) => o.id)
    }
    return undefined
  }

  /** `n` members at random (Fisher–Yates on a sorted copy: deterministic for a seed). */
  pick(from: Member[], n: number): Member[] {
    const a = [...from].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0))
    for (let i = a.length - 1; i > 0; i--) {
      const j = this.random(i + 1)
      const tmp = a[i]!
      a[i] = a[j]!
      a[j] = tmp
    }
    return a.slice(0, n)
  }

  leave(now: number): void {
    const me = this.selfMember()
    this.bumpSelf(now, 'left', me.meta)
    const update = toUpdate(this.selfMember())
    for (const o of this.others()) this.effects.push({ kind: 'send', to: o.id, message: { t: 'sync', updates: [update] } })
  }
}
