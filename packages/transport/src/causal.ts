/**
 * Causal order for point-to-point messages (Raynal–Schiper–Toueg matrix clocks), one clock per
 * causal group. A plain vector clock suffices for broadcast, but the transport sends to one peer
 * at a time: m1 from A to C and m2 from A to B must not make B wait for m1. So each message
 * carries what its sender knows of `sent[k][l]` (messages k → l that causally precede it), and the
 * receiver `me` holds it back until it has delivered, from every k, at least `sent[k][me]`.
 *
 * The stamp is a flat `[k, l, n, …]` array of the non-zero entries, so its size grows with the
 * pairs of the group that talk: meant for groups of tens of nodes, not thousands.
 */
export type Stamp = Array<string | number>

interface Held {
  readonly from: string
  readonly stamp: Stamp
  readonly deliver: () => void
}

export class CausalGroup {
  readonly #sent = new Map<string, Map<string, number>>()
  readonly #delivered = new Map<string, number>()
  #held: Held[] = []
  /** Messages that could not be delivered on arrival (their causes were still on the way). */
  delayed = 0

  constructor(readonly self: string) {}

  /** The stamp for a message from `self` to `to`; records the send. */
  stamp(to: string): Stamp {
    const flat: Stamp = []
    for (const [k, row] of this.#sent) for (const [l, n] of row) flat.push(k, l, n)
    this.#bump(this.self, to, this.#get(this.self, to) + 1)
    return flat
  }

  /** A message from `from` arrived (exactly once, by the reliable layer): deliver it when its causes are. */
  receive(from: string, stamp: Stamp, deliver: () => void): void {
    this.#held.push({ from, stamp, deliver })
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
        this.#bump(h.from, this.self, count)
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
    for (let i = 0; i < stamp.length; i += 3) {
      if (stamp[i + 1] === this.self && (this.#delivered.get(stamp[i] as string) ?? 0) < (stamp[i + 2] as number)) return false
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
