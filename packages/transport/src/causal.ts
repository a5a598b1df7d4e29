/**
 * Causal order for point-to-point messages (Raynal–Schiper–Toueg matrix clocks), one clock per
 * causal group. A plain vector clock suffices for broadcast, but the transport sends to one peer
 * at a time: m1 from A to C and m2 from A to B must not make B wait for m1. So each message
 * carries what its sender knows of `sent[k][l]` (messages k → l that causally precede it), and the
 * receiver `me` holds it back until it has delivered, from every k, at least `sent[k][me]`.
 *
 * The stamp is a flat `[k, l, n, …]` array of the non-zero entries, so its size grows with the
 * pairs of the group that talk: meant for groups of tens of nodes, not thousands.
 *
 * Counts are per session, not per node: `l` is `node#session` (the session between `k` and `l`).
 * When a session ends, the messages it never delivered are handed back to the sender's
 * application, so nothing may wait for them any more: a new session starts its counts at zero, and
 * entries about a session that is not the current one wait only for that session's messages still
 * held here (acked, so nobody hands them back), in their order. (Keyed by node alone, one
 * handed-back message held every later causal message to that node back for ever.) A session this
 * incarnation has not opened yet is waited for until it opens or a session with that peer ends,
 * also while a session with an older incarnation of that peer is still up here (incarnations grow
 * across restarts).
 */
export type Stamp = Array<string | number>

interface Held {
  readonly from: string
  /** Its place among the messages of `from` (sender#session) to this node: 1, 2, … */
  readonly index: number
  readonly stamp: Stamp
  readonly deliver: () => void
}

export class CausalGroup {
  readonly #sent = new Map<string, Map<string, number>>()
  /** Delivered counts per `sender#session`. */
  readonly #delivered = new Map<string, number>()
  #held: Held[] = []
  /** `peer#session` of the sessions that ended. */
  readonly #ended = new Set<string>()
  /** `peer#session` of unopened sessions held messages wait for, and since when (see {@link expireUnopened}). */
  readonly #unopened = new Map<string, number>()
  /** Messages that could not be delivered on arrival (their causes were still on the way). */
  delayed = 0

  /**
   * @param sessionOf the id of the current session between `self` and a peer (the same string on
   *   both sides), `undefined` when there is none. By default one session that never ends.
   * @param own what the ids of this node's own sessions contain (its incarnation): a session id
   *   without it was a predecessor's, so it will never open here.
   */
  constructor(
    readonly self: string,
    private readonly sessionOf: (peer: string) => string | undefined = () => '',
    private readonly own = '',
  ) {}

  /** The stamp for a message from `self` to `to`; records the send. */
  stamp(to: string): Stamp {
    const flat: Stamp = []
    for (const [k, row] of this.#sent) for (const [l, n] of row) flat.push(k, l, n)
    const receiver = `${to}#${this.sessionOf(to) ?? ''}`
    this.#bump(this.self, receiver, this.#get(this.self, receiver) + 1)
    return flat
  }

  /** A message from `from` arrived (exactly once, by the reliable layer): deliver it when its causes are. */
  receive(from: string, stamp: Stamp, deliver: () => void): void {
    const session = `#${this.sessionOf(from) ?? ''}`
    this.#held.push({ from: from + session, index: countIn(stamp, from, this.self + session) + 1, stamp, deliver })
    if (!this.#ready(stamp)) this.delayed++
    this.recheck()
  }

  /** Deliver what became ready without a new arrival (a session ended or opened). */
  recheck(): void {
    let progressed = true
    while (progressed) {
      progressed = false
      for (let i = 0; i < this.#held.length; i++) {
        const h = this.#held[i] as Held
        if (!this.#ready(h.stamp)) continue
        this.#held.splice(i, 1)
        this.#merge(h.stamp)
        const count = (this.#delivered.get(h.from) ?? 0) + 1
        this.#delivered.set(h.from, count)
        const hash = h.from.lastIndexOf('#')
        this.#bump(h.from.slice(0, hash), `${this.self}${h.from.slice(hash)}`, count)
        h.deliver()
        progressed = true
        break
      }
    }
  }

  /**
   * The session with `peer` ended: nothing more will come on it. Then re-checks the held messages,
   * since the entries that held one back may all be about that session now (its undelivered
   * messages went back to their senders, so nothing will come to meet them).
   */
  end(peer: string, session: string): void {
    this.#ended.add(`${peer}#${session}`)
    // Sessions with this same incarnation of `peer` that held messages name and this node never
    // had: the two ends did not agree on them (the peer reset or gave them up), so they are over
    // too. (A session with the peer's next incarnation may be about to open: not those.)
    const theirs = session.split('.').find((part) => !part.startsWith(this.own))
    const incarnation = theirs?.slice(0, theirs.indexOf(':') + 1)
    for (const h of this.#held) {
      for (let i = 0; i < h.stamp.length; i += 3) {
        const l = h.stamp[i + 1] as string
        if (h.stamp[i] !== peer || !l.startsWith(`${this.self}#`)) continue
        const named = l.slice(this.self.length + 1)
        if (incarnation && named.split('.').some((part) => part.startsWith(incarnation))) this.#ended.add(`${peer}#${named}`)
      }
    }
    this.recheck()
  }

  /**
   * Sessions this node never opened, named by held messages, stop being waited for after `after`
   * ms: the peer opened its side in a handshake this side never finished, and once its links have
   * been down for its give-up time it ends that session and hands its messages back (without
   * this, one lost handshake message could hold causal messages for ever: sim seed 5865).
   */
  expireUnopened(now: number, after: number): void {
    if (this.#held.length === 0) {
      if (this.#unopened.size > 0) this.#unopened.clear()
      return
    }
    let expired = false
    for (const h of this.#held) {
      for (let i = 0; i < h.stamp.length; i += 3) {
        const from = this.#unopenedWait(h.stamp, i)
        if (from === undefined) continue
        const since = this.#unopened.get(from)
        if (since === undefined) this.#unopened.set(from, now)
        else if (now - since >= after) {
          this.#ended.add(from)
          this.#unopened.delete(from)
          expired = true
        }
      }
    }
    if (expired) this.recheck()
  }

  /** Whether a message with this stamp, arriving now, would wait for its causes (be held back). */
  wouldWait(stamp: Stamp): boolean {
    return !this.#ready(stamp)
  }

  /** Messages waiting for their causes. */
  get heldBack(): number {
    return this.#held.length
  }

  #ready(stamp: Stamp): boolean {
    const mine = `${this.self}#`
    for (let i = 0; i < stamp.length; i += 3) {
      const l = stamp[i + 1] as string
      if (!l.startsWith(mine)) continue
      const k = stamp[i] as string
      const session = this.sessionOf(k)
      const n = stamp[i + 2] as number
      if (session !== undefined && l.length === mine.length + session.length && l.endsWith(session)) {
        if ((this.#delivered.get(`${k}#${session}`) ?? 0) < n) return false
        continue
      }
      // A count about an ended session with k: what it never delivered went back to k's sender
      // (or died with it), so only its messages still held here are waited for, in their order.
      // With no session to k, a session of this incarnation it never heard of may still be opening: wait.
      if (this.#unopenedWait(stamp, i) !== undefined) return false
      const from = k + l.slice(mine.length - 1)
      if (this.#held.some((h) => h.from === from && h.index <= n)) return false
    }
    return true
  }

  /**
   * For the stamp entry at `i` about a session of this incarnation that has not opened here and
   * has not ended: its `k#session` key, when a message naming it must wait for it to open. That is
   * when there is no session with k, or when it is with a newer incarnation of k than the current
   * session (k restarted, and this node will hear of it: sim seed 1204 delivered a message before
   * its cause from k's new incarnation while the old one's session was still up here).
   */
  #unopenedWait(stamp: Stamp, i: number): string | undefined {
    const l = stamp[i + 1] as string
    const mine = `${this.self}#`
    if (!l.startsWith(mine)) return undefined
    const k = stamp[i] as string
    const session = this.sessionOf(k)
    const named = l.slice(mine.length)
    if (session === named) return undefined
    const from = `${k}#${named}`
    if (this.#ended.has(from) || !this.#isOwn(named)) return undefined
    if (session === undefined) return from
    const next = peerIncarnation(named, this.own)
    const current = peerIncarnation(session, this.own)
    return next !== undefined && current !== undefined && next > current ? from : undefined
  }

  #isOwn(session: string): boolean {
    return session.startsWith(this.own) || session.includes(`.${this.own}`)
  }

  #merge(stamp: Stamp): void {
    for (let i = 0; i < stamp.length; i += 3) this.#bump(stamp[i] as string, stamp[i + 1] as string, stamp[i + 2] as number)
  }

  #get(k: string, l: string): number {
    return this.#sent.get(k)?.get(l) ?? 0
  }

  #bump(k: string, l: string, n: number): void {
    let row = this.#sent.get(k)
    if (!row) this.#sent.set(k, (row = new Map()))
    if ((row.get(l) ?? 0) < n) row.set(l, n)
  }
}

/** The peer's incarnation in a session id (`incarnation:epoch.incarnation:epoch`), as a number. */
function peerIncarnation(session: string, own: string): number | undefined {
  for (const part of session.split('.')) if (!part.startsWith(own)) return Number(part.slice(0, part.indexOf(':')))
  return undefined
}

/** The count `k → l` a stamp carries (0 when absent). */
function countIn(stamp: Stamp, k: string, l: string): number {
  for (let i = 0; i < stamp.length; i += 3) if (stamp[i] === k && stamp[i + 1] === l) return stamp[i + 2] as number
  return 0
}

/** Shape check for a stamp that came off the wire. */
export function isStamp(v: unknown): v is Stamp {
  if (!Array.isArray(v) || v.length % 3 !== 0) return false
  for (let i = 0; i < v.length; i += 3) {
    if (typeof v[i] !== 'string' || typeof v[i + 1] !== 'string' || !Number.isInteger(v[i + 2])) return false
  }
  return true
}
