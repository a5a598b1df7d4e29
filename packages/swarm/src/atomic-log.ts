import { MurmurError, registerErrorClass } from '@murmur/actor-core'
import type { Ctx, Effect, Input, Machine, NodeId } from './internal/sim/machine.js'

/**
 * Atomic (total-order) broadcast: a leader-sequenced, majority-acknowledged log, after Raft
 * (Ongaro & Ousterhout, 2014) — leader election with terms and votes, log replication with the
 * consistency check, commit on a majority in the leader's term, follower catch-up. Every member
 * delivers the same entries in the same order. A member on the minority side of a partition (or in
 * a cluster that lost its majority) refuses proposals with {@link NoQuorum}.
 *
 * Membership changes one member at a time (Raft's single-server changes, §4 of Ongaro's thesis):
 * the member list in force is the last `config` entry in a node's log, or the bootstrap list given
 * at init while the log holds none (a leader's first entry writes it down). A node not in the
 * config, or one that hears no leader, asks to `join` at every election timeout; the leader adds it
 * (it then receives, and delivers, the whole log from the first entry), and removes a member it has
 * not heard from for `removeAfter` ms, or whose node asks to join under a new id. Ids are
 * `node#epoch` by convention: a process that lost its state (a restart, a reopened channel) must
 * come back under a new epoch, because its votes and acknowledgements before are gone with it;
 * {@link nodeOfMember} reads the node back, so a join under a new epoch replaces the old one.
 *
 * Subset of Raft: no snapshots or log compaction, no pre-vote. Inputs: `recv` of {@link AtomicLogMsg}, `timer`, `app` `{ type: 'propose', ref, payload }`,
 * and `peer-down` / `peer-up` from the runner's connections or failure detector: they tell a member
 * which side of a partition it is on, so that it refuses at once rather than after a timeout.
 * Effects: `send` and `emit` of {@link AtomicLogEvent} (`deliver` in log order; `committed` /
 * `refused` for this node's own proposals, by `ref`; `role` on leadership changes).
 */
export interface AtomicLogOptions {
  /** Base election timeout, ms; each wait is drawn uniformly from [t, 2t). Default 300. */
  readonly electionTimeout?: number
  /** Leader heartbeat (and member housekeeping) period, ms. Default 50. */
  readonly heartbeat?: number
  /** A proposal not committed within this many ms is refused with NO_QUORUM. Default 3000. */
  readonly proposalTimeout?: number
  /** Most entries in one append. Default 64. */
  readonly maxBatch?: number
  /** The leader removes a member it has not heard from for this long, ms. Default 10 election timeouts. */
  readonly removeAfter?: number
}

export interface AtomicLogInit {
  /**
   * The bootstrap member list, this node included: in force until the log holds a config entry.
   * The nodes that open the log first must pass the same list; a node that opens it later is
   * added by the leader whatever list it passed (it is not in the log's config).
   */
  readonly members: readonly NodeId[]
}

export interface LogEntry {
  readonly term: number
  /**
   * `origin/ref` of the proposal; null for the entries the log writes for itself: the no-op a new
   * leader appends to commit earlier terms, and config entries.
   */
  readonly id: string | null
  readonly payload: unknown
  /** A config entry: the member list from this entry on (in force as soon as it is in a log). */
  readonly config?: readonly NodeId[]
}

export type AtomicLogMsg =
  | { readonly t: 'vote-req'; readonly term: number; readonly lastIndex: number; readonly lastTerm: number }
  | { readonly t: 'vote'; readonly term: number; readonly granted: boolean }
  | { readonly t: 'append'; readonly term: number; readonly prevIndex: number; readonly prevTerm: number; readonly entries: readonly LogEntry[]; readonly commit: number }
  /** `match`: on success the last index now matching the leader; on failure the follower's hint where to retry from. */
  | { readonly t: 'append-reply'; readonly term: number; readonly ok: boolean; readonly match: number }
  /** A follower forwards a proposal to the leader. */
  | { readonly t: 'propose'; readonly id: string; readonly payload: unknown }
  /** `who` asks to become a member (sent by itself, or passed on to the leader by a member). */
  | { readonly t: 'join'; readonly who: NodeId }

export type AtomicLogRequest = { readonly type: 'propose'; readonly ref: string; readonly payload: unknown }

export type Role = 'follower' | 'candidate' | 'leader'

export type AtomicLogEvent =
  | { readonly type: 'deliver'; readonly index: number; readonly id: string; readonly payload: unknown }
  | { readonly type: 'committed'; readonly ref: string; readonly index: number }
  /**
   * `definite`: refused before it entered any log (no majority reachable), so it will never be
   * delivered. Otherwise it was not committed in time and, as with any consensus timeout, the
   * outcome is unknown to this node (in practice a later leader discards it).
   */
  | { readonly type: 'refused'; readonly ref: string; readonly code: typeof NoQuorum.code; readonly message: string; readonly definite: boolean }
  | { readonly type: 'role'; readonly role: Role; readonly term: number; readonly leader: NodeId | null }

/**
 * No majority of the members is reachable (or none committed the proposal in time): the atomic
 * log cannot order it. Build it from a `refused` event with {@link refusal}.
 *
 * @example
 * if (event.type === 'refused') reject(refusal(event))
 */
export class NoQuorum extends MurmurError {
  static readonly code = 'NO_QUORUM'
  constructor(message: string, details?: Readonly<Record<string, unknown>>, options?: ErrorOptions) {
    super(NoQuorum.code, message, details, options)
  }
}
registerErrorClass(NoQuorum)

export const refusal = (e: Extract<AtomicLogEvent, { type: 'refused' }>): NoQuorum => new NoQuorum(e.message, { ref: e.ref, definite: e.definite })

export interface AtomicLogState {
  /** The config in force: the last config entry in the log, else `bootstrap`. */
  readonly members: readonly NodeId[]
  /** Index of the config entry in force; 0 while the bootstrap list is. */
  readonly configIndex: number
  readonly bootstrap: readonly NodeId[]
  /** Leader only: nodes that asked to join, and when they last asked. */
  readonly joining: Readonly<Record<NodeId, number>>
  /** Leader only: when it took office (the floor of `heard` for members it never heard from). */
  readonly since: number
  readonly term: number
  readonly votedFor: NodeId | null
  readonly role: Role
  readonly leader: NodeId | null
  /** Entry i (from 1) is `log[i - 1]`. */
  readonly log: readonly LogEntry[]
  readonly commit: number
  readonly applied: number
  readonly votes: readonly NodeId[]
  readonly next: Readonly<Record<NodeId, number>>
  readonly match: Readonly<Record<NodeId, number>>
  /** When each member was last heard from (any message). */
  readonly heard: Readonly<Record<NodeId, number>>
  /** When the runner last reported each member down (a failed connection, a failure detector). */
  readonly down: Readonly<Record<NodeId, number>>
  /** This node's proposals not yet delivered: ref → payload and deadline. */
  readonly pending: Readonly<Record<string, { readonly payload: unknown; readonly deadline: number }>>
}

export const ATOMIC_ELECTION = 'raft:election'
export const ATOMIC_TICK = 'raft:tick'

type Eff = Effect<AtomicLogMsg, AtomicLogEvent>
type Draft = { -readonly [K in keyof AtomicLogState]: AtomicLogState[K] }

const lastIndex = (d: Draft): number => d.log.length
const termAt = (d: Draft, i: number): number => (i === 0 ? 0 : (d.log[i - 1]?.term ?? -1))
const majority = (d: Draft): number => Math.floor(d.members.length / 2) + 1
const idOf = (self: NodeId, ref: string): string => `${self}/${ref}`
const refOf = (self: NodeId, id: string): string | null => (id.startsWith(`${self}/`) ? id.slice(self.length + 1) : null)

/**
 * A member id: the node and the epoch of its state (the swarm uses the process incarnation).
 *
 * @example
 * memberId('n3', 1732) // 'n3#1732'
 */
export const memberId = (node: string, epoch: number): NodeId => `${node}#${epoch}`

/**
 * The node part of a member id (`node#epoch`, or a bare node id).
 *
 * @example
 * nodeOfMember('n3#1732') // 'n3'
 */
export const nodeOfMember = (id: NodeId): string => {
  const at = id.indexOf('#')
  return at < 0 ? id : id.slice(0, at)
}

/** The config in force after the log changed: the last config entry, else the bootstrap list. */
const syncMembers = (d: Draft): void => {
  for (let i = d.log.length; i > 0; i--) {
    const config = d.log[i - 1]?.config
    if (config === undefined) continue
    d.members = config
    d.configIndex = i
    return
  }
  d.members = d.bootstrap
  d.configIndex = 0
}

/**
 * @example
 * const log = atomicLog()
 * let { state, effects } = log.init(ctx, { members: ['a', 'b', 'c'] })
 * ;({ state, effects } = log.step(state, { type: 'app', req: { type: 'propose', ref: '1', payload: 'x' } }, ctx))
 * // later, on every member: emit { type: 'deliver', index, id: 'a/1', payload: 'x' }, in the same order everywhere
 */
export function atomicLog(options: AtomicLogOptions = {}): Machine<AtomicLogState, AtomicLogMsg, AtomicLogRequest, AtomicLogEvent, AtomicLogInit> {
  const o = {
    electionTimeout: options.electionTimeout ?? 300,
    heartbeat: options.heartbeat ?? 50,
    proposalTimeout: options.proposalTimeout ?? 3000,
    maxBatch: options.maxBatch ?? 64,
    removeAfter: options.removeAfter ?? 10 * (options.electionTimeout ?? 300),
  }
  const others = (d: Draft, ctx: Ctx): NodeId[] => d.members.filter((m) => m !== ctx.self)
  const armElection = (ctx: Ctx, fx: Eff[]): void => {
    fx.push({ type: 'set-timer', name: ATOMIC_ELECTION, after: o.electionTimeout + ctx.rng.int(o.electionTimeout) })
  }
  const roleEvent = (d: Draft, fx: Eff[]): void => {
    fx.push({ type: 'emit', event: { type: 'role', role: d.role, term: d.term, leader: d.leader } })
  }

  const becomeFollower = (d: Draft, ctx: Ctx, term: number, leader: NodeId | null, fx: Eff[]): void => {
    const changed = d.role !== 'follower' || d.leader !== leader || d.term !== term
    if (d.role === 'leader') armElection(ctx, fx) // a leader has no election timer running
    if (term > d.term) d.votedFor = null
    d.term = term
    d.role = 'follower'
    d.leader = leader
    d.votes = []
    if (changed) roleEvent(d, fx)
  }

  const sendAppend = (d: Draft, peer: NodeId, fx: Eff[]): void => {
    const next = d.next[peer] ?? lastIndex(d) + 1
    const prevIndex = next - 1
    const entries = d.log.slice(prevIndex, prevIndex + o.maxBatch)
    fx.push({ type: 'send', to: peer, msg: { t: 'append', term: d.term, prevIndex, prevTerm: termAt(d, prevIndex), entries, commit: d.commit } })
  }

  const apply = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    while (d.applied < d.commit) {
      d.applied++
      const e = d.log[d.applied - 1]
      if (e === undefined || e.id === null) continue
      fx.push({ type: 'emit', event: { type: 'deliver', index: d.applied, id: e.id, payload: e.payload } })
      const ref = refOf(ctx.self, e.id)
      if (ref !== null && d.pending[ref] !== undefined) {
        const { [ref]: _done, ...rest } = d.pending
        d.pending = rest
        fx.push({ type: 'emit', event: { type: 'committed', ref, index: d.applied } })
      }
    }
  }

  /** The highest index of this term stored on a majority becomes committed. */
  const advanceCommit = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    for (let n = lastIndex(d); n > d.commit; n--) {
      if (termAt(d, n) !== d.term) break
      const stored = 1 + others(d, ctx).filter((p) => (d.match[p] ?? 0) >= n).length
      if (stored >= majority(d)) {
        d.commit = n
        break
      }
    }
    apply(d, ctx, fx)
  }

  const becomeLeader = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    d.role = 'leader'
    d.leader = ctx.self
    d.since = ctx.now
    d.joining = {}
    // The first leader writes the bootstrap list down, so that a node that joins later learns it
    // from the log like any later config.
    d.log = [...d.log, d.configIndex === 0 ? { term: d.term, id: null, payload: null, config: d.members } : { term: d.term, id: null, payload: null }]
    syncMembers(d)
    const next: Record<NodeId, number> = {}
    const match: Record<NodeId, number> = {}
    for (const p of others(d, ctx)) {
      next[p] = lastIndex(d)
      match[p] = 0
    }
    d.next = next
    d.match = match
    roleEvent(d, fx)
    for (const p of others(d, ctx)) sendAppend(d, p, fx)
    advanceCommit(d, ctx, fx) // a cluster of one commits alone
  }

  /**
   * Writes a new config (one member more or fewer than the one in force) and puts it in force at
   * once, as Raft's single-server changes do: any majority of the old list and any of the new meet.
   */
  const changeConfig = (d: Draft, ctx: Ctx, members: readonly NodeId[], fx: Eff[]): void => {
    d.log = [...d.log, { term: d.term, id: null, payload: null, config: [...members].sort() }]
    syncMembers(d)
    for (const p of others(d, ctx)) {
      if (d.next[p] !== undefined) continue
      d.next = { ...d.next, [p]: lastIndex(d) }
      d.match = { ...d.match, [p]: 0 }
      d.heard = { ...d.heard, [p]: ctx.now }
    }
    for (const p of others(d, ctx)) sendAppend(d, p, fx)
    advanceCommit(d, ctx, fx)
  }

  /**
   * The leader's membership housekeeping, one change at a time and only once it has committed an
   * entry of its own term and the last change (the conditions that keep single-server changes
   * safe): a member it has not heard from for `removeAfter`, or whose node asks to join under a
   * new id (it restarted and lost its state), goes; then a node that asked to join comes in.
   */
  const reconcile = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    if (d.role !== 'leader' || termAt(d, d.commit) !== d.term || d.configIndex > d.commit) return
    const asking = Object.keys(d.joining)
      .filter((j) => ctx.now - (d.joining[j] ?? -Infinity) < o.removeAfter && nodeOfMember(j) !== nodeOfMember(ctx.self))
      .sort()
    const replaced = (p: NodeId): boolean => asking.some((j) => j !== p && nodeOfMember(j) === nodeOfMember(p))
    const silent = (p: NodeId): boolean => ctx.now - Math.max(d.heard[p] ?? -Infinity, d.since) > o.removeAfter
    const gone = others(d, ctx).find((p) => replaced(p) || silent(p))
    if (gone !== undefined) return changeConfig(d, ctx, d.members.filter((m) => m !== gone), fx)
    const joiner = asking.find((j) => !d.members.some((m) => nodeOfMember(m) === nodeOfMember(j)))
    if (joiner === undefined) return
    const { [joiner]: _in, ...rest } = d.joining
    d.joining = rest
    changeConfig(d, ctx, [...d.members, joiner], fx)
  }

  /** No leader heard for an election timeout: ask to join (in case this node is not, or no longer, in the config), and stand for election if it is. */
  const electionTimeout = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    for (const p of others(d, ctx)) fx.push({ type: 'send', to: p, msg: { t: 'join', who: ctx.self } })
    if (d.members.includes(ctx.self)) startElection(d, ctx, fx)
    else armElection(ctx, fx)
  }

  const startElection = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    d.term++
    d.role = 'candidate'
    d.leader = null
    d.votedFor = ctx.self
    d.votes = [ctx.self]
    armElection(ctx, fx)
    if (d.votes.length >= majority(d)) return becomeLeader(d, ctx, fx)
    roleEvent(d, fx)
    for (const p of others(d, ctx)) fx.push({ type: 'send', to: p, msg: { t: 'vote-req', term: d.term, lastIndex: lastIndex(d), lastTerm: termAt(d, lastIndex(d)) } })
  }

  /**
   * Members (this one included) not known to be down: down once the runner reports a peer down,
   * up again when it reports it up or a message from it arrives.
   */
  const reachable = (d: Draft, ctx: Ctx): number =>
    1 + others(d, ctx).filter((p) => d.down[p] === undefined || (d.heard[p] ?? -Infinity) > (d.down[p] ?? 0)).length

  /** Appends at the leader, or forwards to it; duplicates (a re-forwarded proposal) are ignored. */
  const offer = (d: Draft, ctx: Ctx, id: string, payload: unknown, fx: Eff[]): void => {
    if (d.role === 'leader') {
      if (d.log.some((e) => e.id === id)) return
      d.log = [...d.log, { term: d.term, id, payload }]
      for (const p of others(d, ctx)) if ((d.next[p] ?? 0) === lastIndex(d)) sendAppend(d, p, fx)
      advanceCommit(d, ctx, fx)
    } else if (d.leader !== null) {
      fx.push({ type: 'send', to: d.leader, msg: { t: 'propose', id, payload } })
    }
  }

  const propose = (d: Draft, ctx: Ctx, ref: string, payload: unknown, fx: Eff[]): void => {
    const leaderFresh = d.role === 'leader' || (d.leader !== null && ctx.now - (d.heard[d.leader] ?? -Infinity) < o.electionTimeout)
    if (!leaderFresh && reachable(d, ctx) < majority(d)) {
      const message = `no majority reachable: ${reachable(d, ctx)} of ${d.members.length} members`
      fx.push({ type: 'emit', event: { type: 'refused', ref, code: NoQuorum.code, message, definite: true } })
      return
    }
    d.pending = { ...d.pending, [ref]: { payload, deadline: ctx.now + o.proposalTimeout } }
    offer(d, ctx, idOf(ctx.self, ref), payload, fx)
  }

  const tick = (d: Draft, ctx: Ctx, fx: Eff[]): void => {
    fx.push({ type: 'set-timer', name: ATOMIC_TICK, after: o.heartbeat })
    if (d.role === 'candidate') {
      // A vote request or its answer may be lost: ask again each tick those that have not voted
      // for us, rather than wait a whole election timeout and start a new term. Under 30% loss a
      // single try reaches a majority of 5 with both requests and answers only ~24% of the time,
      // and repeated split elections kept a 3-of-5 majority leaderless for seconds (sim seed 324).
      // Granting is idempotent (a member votes once per term, again for the same candidate).
      const request: AtomicLogMsg = { t: 'vote-req', term: d.term, lastIndex: lastIndex(d), lastTerm: termAt(d, lastIndex(d)) }
      for (const p of others(d, ctx)) if (!d.votes.includes(p)) fx.push({ type: 'send', to: p, msg: request })
    }
    if (d.role === 'leader') {
      if (reachable(d, ctx) < majority(d)) {
        // A leader cut off from its majority stops leading, so that its side refuses proposals.
        becomeFollower(d, ctx, d.term, null, fx)
      } else {
        for (const p of others(d, ctx)) sendAppend(d, p, fx)
        reconcile(d, ctx, fx)
      }
    }
    for (const [ref, p] of Object.entries(d.pending)) {
      if (ctx.now >= p.deadline) {
        const { [ref]: _gone, ...rest } = d.pending
        d.pending = rest
        fx.push({ type: 'emit', event: { type: 'refused', ref, code: NoQuorum.code, message: `not committed within ${o.proposalTimeout} ms: no majority reachable`, definite: false } })
      } else if (!d.log.some((e) => e.id === idOf(ctx.self, ref))) {
        // Lost on the way, dropped with a deposed leader's log, or held while this node had no
        // leader (it may be the leader now): offer it again; the leader de-duplicates.
        offer(d, ctx, idOf(ctx.self, ref), p.payload, fx)
      }
    }
  }

  const receive = (d: Draft, ctx: Ctx, from: NodeId, msg: AtomicLogMsg, fx: Eff[]): void => {
    d.heard = { ...d.heard, [from]: ctx.now }
    if (msg.t === 'join') {
      if (d.members.includes(msg.who)) return
      if (d.role === 'leader') d.joining = { ...d.joining, [msg.who]: ctx.now }
      else if (d.leader !== null && from === msg.who) fx.push({ type: 'send', to: d.leader, msg })
      return
    }
    // Votes and acknowledgements count only from members of the config in force: a node removed
    // (or not yet added) must not sway an election or a commit. Appends come from any leader (a
    // joining node may not know the current one yet) and proposals from any node.
    if ((msg.t === 'vote-req' || msg.t === 'vote' || msg.t === 'append-reply') && !d.members.includes(from)) return
    if (msg.t !== 'propose' && msg.term > d.term) becomeFollower(d, ctx, msg.term, null, fx)
    switch (msg.t) {
      case 'vote-req': {
        const upToDate = msg.lastTerm > termAt(d, lastIndex(d)) || (msg.lastTerm === termAt(d, lastIndex(d)) && msg.lastIndex >= lastIndex(d))
        const granted = msg.term === d.term && (d.votedFor === null || d.votedFor === from) && upToDate
        if (granted) {
          d.votedFor = from
          armElection(ctx, fx)
        }
        fx.push({ type: 'send', to: from, msg: { t: 'vote', term: d.term, granted } })
        break
      }
      case 'vote':
        if (d.role === 'candidate' && msg.term === d.term && msg.granted && !d.votes.includes(from)) {
          d.votes = [...d.votes, from]
          if (d.votes.length >= majority(d)) becomeLeader(d, ctx, fx)
        }
        break
      case 'append': {
        if (msg.term < d.term) {
          fx.push({ type: 'send', to: from, msg: { t: 'append-reply', term: d.term, ok: false, match: lastIndex(d) } })
          break
        }
        if (d.role !== 'follower' || d.leader !== from) becomeFollower(d, ctx, msg.term, from, fx)
        armElection(ctx, fx)
        if (msg.prevIndex > lastIndex(d) || termAt(d, msg.prevIndex) !== msg.prevTerm) {
          fx.push({ type: 'send', to: from, msg: { t: 'append-reply', term: d.term, ok: false, match: Math.min(lastIndex(d), msg.prevIndex - 1) } })
          break
        }
        let log = d.log
        msg.entries.forEach((e, i) => {
          const index = msg.prevIndex + 1 + i
          if (index <= log.length && termAt({ ...d, log }, index) === e.term) return
          log = [...log.slice(0, index - 1), e] // a conflicting suffix goes: the leader's log wins
        })
        d.log = log
        syncMembers(d)
        const matched = msg.prevIndex + msg.entries.length
        d.commit = Math.max(d.commit, Math.min(msg.commit, matched))
        apply(d, ctx, fx)
        fx.push({ type: 'send', to: from, msg: { t: 'append-reply', term: d.term, ok: true, match: matched } })
        break
      }
      case 'append-reply': {
        if (d.role !== 'leader' || msg.term !== d.term) break
        if (msg.ok) {
          d.match = { ...d.match, [from]: Math.max(d.match[from] ?? 0, msg.match) }
          d.next = { ...d.next, [from]: (d.match[from] ?? 0) + 1 }
          advanceCommit(d, ctx, fx)
          if ((d.next[from] ?? 0) <= lastIndex(d)) sendAppend(d, from, fx) // catch-up continues at once
        } else {
          d.next = { ...d.next, [from]: Math.max(1, Math.min((d.next[from] ?? 1) - 1, msg.match + 1)) }
          sendAppend(d, from, fx)
        }
        break
      }
      case 'propose':
        offer(d, ctx, msg.id, msg.payload, fx)
        break
    }
  }

  return {
    init(ctx, init) {
      const fx: Eff[] = [{ type: 'set-timer', name: ATOMIC_TICK, after: o.heartbeat }]
      armElection(ctx, fx)
      const members = [...new Set([...init.members, ctx.self])].sort()
      return {
        state: { members, configIndex: 0, bootstrap: members, joining: {}, since: 0, term: 0, votedFor: null, role: 'follower', leader: null, log: [], commit: 0, applied: 0, votes: [], next: {}, match: {}, heard: {}, down: {}, pending: {} },
        effects: fx,
      }
    },
    step(state, input: Input<AtomicLogMsg, AtomicLogRequest>, ctx) {
      const d: Draft = { ...state }
      const fx: Eff[] = []
      switch (input.type) {
        case 'recv':
          receive(d, ctx, input.from, input.msg, fx)
          break
        case 'timer':
          if (input.name === ATOMIC_TICK) tick(d, ctx, fx)
          else if (input.name === ATOMIC_ELECTION && d.role !== 'leader') electionTimeout(d, ctx, fx)
          break
        case 'app':
          propose(d, ctx, input.req.ref, input.req.payload, fx)
          break
        case 'peer-down':
          d.down = { ...d.down, [input.peer]: ctx.now }
          break
        case 'peer-up': {
          const { [input.peer]: _up, ...rest } = d.down
          d.down = rest
          break
        }
      }
      return { state: d, effects: fx }
    },
  }
}
