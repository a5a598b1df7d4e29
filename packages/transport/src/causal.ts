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
 * entries about a session that is not the current one are ignored. (Keyed by node alone, one
 * handed-back message held every later causal message to that node back for ever.)
 */
export type Stamp = Array<string | number>

interface Held {
  readonly from: string
  readonly stamp: Stamp
  readonly deliver: () => void
}

export class CausalGroup {
  readonly #sent = new Map<string, Map<string, number>>()
  /** Delivered counts per `sender#session`. */
  readonly #delivered = new Map<string, number>()
  #held: Held[] = []
  /** Messages that could not be delivered on arrival (their causes were still on the way). */
  delayed = 0

  /**
   * @param sessionOf the id of the current session between `self` and a peer (the same string on
   *   both sides), `undefined` when there is none. By default one session that never ends.
   */
  constructor(
    readonly self: string,
    private readonly sessionOf: (peer: string) => string | undefined = () => '',
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
    this.#held.push({ from: `${from}#${this.sessionOf(from) ?? ''}`, stamp, deliver })
    if (!this.#ready(stamp)) this.delayed++
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
      // A count about an earlier session with k: what it never delivered went back to k's sender.
      if (session === undefined || l.length !== mine.length + session.length || !l.endsWith(session)) continue
      if ((this.#delivered.get(`${k}#${session}`) ?? 0) < (stamp[i + 2] as number)) return false
    }
    return true
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

/** Shape check for a stamp that came off the wire. */
export function isStamp(v: unknown): v is Stamp {
  if (!Array.isArray(v) || v.length % 3 !== 0) return false
  for (let i = 0; i < v.length; i += 3) {
    if (typeof v[i] !== 'string' || typeof v[i + 1] !== 'string' || !Number.isInteger(v[i + 2])) return false
  }
  return true
}
