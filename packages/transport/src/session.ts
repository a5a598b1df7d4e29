import type { Link } from './connector.js'
import type { TimerHandle } from './clock.js'
import type { Hello, LaneRef } from './handshake.js'
import { LatestWins } from './monotonic.js'
import { reliableIn, reliableOut, unackedCount, type ReliableIn, type ReliableOut } from './reliable.js'
import type { PeerInfo } from './transport.js'
import { INITIAL_WINDOW } from './flow-control.js'
import type { TokenBucket } from './rate-limit.js'

/** The channel every node has: membership, acks of the cluster, never behind bulk data. */
export const CONTROL = 'control'

export interface Channel {
  readonly name: string
  readonly parallelism: number
  readonly monotonic: boolean
  /** Index of its first lane in a session's `lanes`. */
  readonly firstLane: number
}

/** One link's life: handshake phases, then open, then closed. */
export type Phase = 'hello' | 'welcome' | 'proof' | 'open' | 'closed'

/** A link with the state the core keeps about it. */
export interface Conn {
  readonly role: 'dialer' | 'acceptor'
  link: Link | undefined
  phase: Phase
  /** The HELLO we sent (dialer) or received (acceptor). */
  hello: Hello | undefined
  /** Acceptor: the nonce it sent in WELCOME (the dialer's proof covers it). */
  nonce: Uint8Array | undefined
  /** Acceptor: the session epoch it announced in WELCOME. */
  epoch: number
  /** Acceptor: whether that epoch was an existing session's (not a provisional one for a session to come). */
  epochOfSession: boolean
  peer: PeerInfo | undefined
  lane: Lane | undefined
  readonly openedAt: number
  lastReceived: number
  lastSent: number
  /** Chunked frame being reassembled: its id and parts. */
  reassembly: { id: number; parts: Array<Uint8Array | undefined>; missing: number; bytes: number } | undefined
  /** Chunk frames still to send, one per turn, so newer small frames overtake a big one. */
  chunkQueue: Uint8Array[]
  /** Settles the `connect`/dial waiting for this link's handshake. */
  settle: ((error: Error | undefined, peer?: PeerInfo) => void) | undefined
  /** Set when the core retired this link on purpose (duplicate, disconnect): its close is expected. */
  retired: boolean
}

export function newConn(role: 'dialer' | 'acceptor', now: number): Conn {
  return {
    role,
    link: undefined,
    phase: role === 'dialer' ? 'welcome' : 'hello',
    hello: undefined,
    nonce: undefined,
    epoch: 0,
    epochOfSession: false,
    peer: undefined,
    lane: undefined,
    openedAt: now,
    lastReceived: now,
    lastSent: now,
    reassembly: undefined,
    chunkQueue: [],
    settle: undefined,
    retired: false,
  }
}

/** One lane of one channel toward one peer: its link, its reliable stream both ways, its queues. */
export interface Lane {
  readonly session: Session
  readonly channel: Channel
  readonly ref: LaneRef
  link: Conn | undefined
  /** A dial for this lane is in progress or scheduled. */
  dialing: boolean
  redialTimer: TimerHandle | undefined
  /** Since when this side has seen the lane with no link, no dial and no redial due (see `#tick`). */
  orphanSince: number | undefined
  attempts: number
  readonly out: ReliableOut
  readonly in: ReliableIn
  /** Best-effort messages waiting for the next flush: `flags, seq, key, payload` (stride 4). */
  readonly queue: unknown[]
  bestEffortSeq: number
  /** Last best-effort fifo sequence number delivered. */
  fifoLast: number
  readonly latest: LatestWins
  /** Reliable data arrived since the last ack we sent. */
  ackDue: boolean
  /** In the core's list of lanes to flush this turn. */
  dirty: boolean
  /** The link's own buffered bytes when last sampled (part of `Session.linkBytes`). */
  linkBytes: number
  /** When the reliable stream last made progress (an ack advanced, or the first unacked was sent). */
  progressAt: number
}

export interface Session {
  readonly peer: PeerInfo
  /** This node's epoch for the session: random, new with every session object. */
  readonly epoch: number
  /** The peer's epoch this session is synchronised with (0: not yet). */
  peerEpoch: number
  readonly lanes: Lane[]
  /** Where to redial (the address it announced). */
  readonly address: string
  /** `disconnect` was called: keep the state, but do not redial until `connect`. */
  suspended: boolean
  ended: boolean
  /** AIMD window over all of the session's reliable lanes. */
  window: number
  /** Messages queued or unacked, all lanes (for the buffered-bytes estimate). */
  queued: number
  /** Bytes in the links' own buffers, sampled at each flush and drain. */
  linkBytes: number
  overHighWater: boolean
  /** Running when the control lane has no link: when it fires, the peer is gone. */
  giveUpTimer: TimerHandle | undefined
  readyWaiters: Set<() => void>
  /** Acks owed on data lanes with nothing to ride on: `channel, lane, ack` triples for the control lane. */
  readonly controlAcks: Array<string | number>
  /** The peer's message rate limit (when one is configured): created on its first frame. */
  bucket: TokenBucket | undefined
  /**
   * Bytes (encoded size) of the peer's messages held here: out of order on a reliable lane, or
   * waiting for their causes. Bounded by `maxHeldBytes`.
   */
  heldBytes: number
  /** When a rate-limit or hold-back refusal was last reported (reported once per tick, counted always). */
  rateReportedAt: number
  holdReportedAt: number
}

export function newSession(peer: PeerInfo, channels: readonly Channel[], now: number, epoch: number, peerEpoch: number): Session {
  const lanes: Lane[] = []
  const session: Session = {
    peer,
    epoch,
    peerEpoch,
    lanes,
    address: peer.address,
    suspended: false,
    ended: false,
    window: INITIAL_WINDOW,
    queued: 0,
    linkBytes: 0,
    overHighWater: false,
    giveUpTimer: undefined,
    readyWaiters: new Set(),
    controlAcks: [],
    bucket: undefined,
    heldBytes: 0,
    rateReportedAt: -1,
    holdReportedAt: -1,
  }
  for (const channel of channels) {
    for (let lane = 0; lane < channel.parallelism; lane++) {
      lanes.push({
        session,
        channel,
        ref: { channel: channel.name, lane },
        link: undefined,
        dialing: false,
        redialTimer: undefined,
        orphanSince: undefined,
        attempts: 0,
        out: reliableOut(),
        in: reliableIn(),
        queue: [],
        bestEffortSeq: 0,
        fifoLast: 0,
        latest: new LatestWins(),
        ackDue: false,
        dirty: false,
        linkBytes: 0,
        progressAt: now,
      })
    }
  }
  return session
}

export function inFlight(session: Session): number {
  let n = 0
  for (const lane of session.lanes) n += lane.out.sent - lane.out.acked
  return n
}

export function unacked(session: Session): number {
  let n = 0
  for (const lane of session.lanes) n += unackedCount(lane.out)
  return n
}

/**
 * Two nodes that dial each other at once end with two authenticated links for one lane. Both
 * sides keep the same one without talking about it: the link dialled by the smaller node id (the
 * newer one when both were dialled by the same node, i.e. a redial).
 */
export function keepsExisting(existingDialer: string, incomingDialer: string): boolean {
  return existingDialer < incomingDialer
}

export function dialerOf(conn: Conn, self: string): string {
  return conn.role === 'dialer' ? self : (conn.peer?.nodeId ?? '')
}

/**
 * Whether a link may resume a session. Sequence numbers only mean something while both sides hold
 * the same session: if one side forgot the other (`forget`, give-up) and the peer comes back with
 * the same incarnation, resuming would drop (as "duplicates") or stall on every message. So each
 * session has an epoch, and in the handshake each side says its epoch and the epoch of the peer's
 * session it is synchronised with (`claim`, 0 for none). Given what this side holds (`local`,
 * `undefined` for no session) and what the peer said:
 * - `stale-claim`: the peer resumes a session of ours that no longer exists: refuse with
 *   `SessionLost`; the peer ends its session (its unacked messages go out in `peer-down`).
 * - `reset`: the peer has a new session (it forgot us): end ours the same way, start afresh.
 * - `resume` / `new`: carry on, or start the first session.
 */
export type Reconciliation = 'resume' | 'new' | 'reset' | 'stale-claim'

export function reconcile(local: { readonly epoch: number; readonly peerEpoch: number } | undefined, peerEpoch: number, claim: number): Reconciliation {
  if (claim !== 0 && (local === undefined || local.epoch !== claim)) return 'stale-claim'
  if (local === undefined) return 'new'
  return local.peerEpoch === 0 || local.peerEpoch === peerEpoch ? 'resume' : 'reset'
}
