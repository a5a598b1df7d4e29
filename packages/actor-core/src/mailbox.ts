/** What a bounded mailbox does with a message that arrives when it is full. */
export type Overflow = 'reject' | 'drop-newest' | 'drop-oldest'

/**
 * Mailbox options of a spawn. Unbounded by default.
 *
 * @example
 * system.spawn(WorkerAgent, { mailbox: { capacity: 1000, overflow: 'drop-oldest' } })
 */
export interface MailboxOptions {
  /** Most messages waiting; default unbounded. */
  readonly capacity?: number
  /** default `reject`: the sender gets `MailboxFull`. */
  readonly overflow?: Overflow
}

const SLOTS = 5
const INITIAL = 4
const KEEP = 1024

/**
 * The queue of one agent: a growable ring of fixed-width entries (type, payload, sender, trace,
 * reply handle) in one array, so enqueueing allocates nothing once the ring has room. One FIFO per
 * agent keeps every sender's messages in order. `take` moves the head entry into the `t`…`r` fields.
 */
export class Mailbox {
  buf: unknown[] = slots(INITIAL * SLOTS)
  cap = INITIAL
  head = 0
  size = 0
  /** Most entries waiting since the mailbox was last empty: a burst's size, to size the ring after it. */
  peak = 0
  /** The entry last taken: type, payload, sender, trace, reply handle. */
  t: string = ''
  p: unknown = undefined
  s: unknown = undefined
  tr: unknown = undefined
  r: unknown = undefined

  push(type: string, payload: unknown, sender: unknown, trace: unknown, reply: unknown): void {
    if (this.size === this.cap) this.#grow()
    const at = ((this.head + this.size) & (this.cap - 1)) * SLOTS
    const b = this.buf
    b[at] = type
    b[at + 1] = payload
    b[at + 2] = sender
    b[at + 3] = trace
    b[at + 4] = reply
    if (++this.size > this.peak) this.peak = this.size
  }

  /** Moves the oldest entry into `t`, `p`, `s`, `tr`, `r`. The caller checks `size > 0` first. */
  take(): void {
    const b = this.buf
    const at = this.head * SLOTS
    this.t = b[at] as string
    this.p = b[at + 1]
    this.s = b[at + 2]
    this.tr = b[at + 3]
    this.r = b[at + 4]
    b[at] = b[at + 1] = b[at + 2] = b[at + 3] = b[at + 4] = undefined
    this.head = (this.head + 1) & (this.cap - 1)
    if (--this.size === 0) {
      // a burst is over: keep a ring that fits bursts like it, give back the rest
      if (this.cap > KEEP && this.peak * 4 < this.cap) {
        let cap = INITIAL
        while (cap < this.peak * 2) cap *= 2
        this.buf = slots(cap * SLOTS)
        this.cap = cap
      }
      this.head = 0
      this.peak = 0
    }
  }

  /** Forgets the last taken entry, so the mailbox does not keep its payload alive. */
  release(): void {
    this.p = this.s = this.tr = this.r = undefined
  }

  #grow(): void {
    const old = this.buf
    const cap = this.cap * 2
    const buf = slots(cap * SLOTS)
    for (let i = 0; i < this.size; i++) {
      const from = ((this.head + i) & (this.cap - 1)) * SLOTS
      for (let k = 0; k < SLOTS; k++) buf[i * SLOTS + k] = old[from + k]
    }
    this.buf = buf
    this.cap = cap
    this.head = 0
  }
}

/** A packed array of `n` undefined slots (`new Array(n)` is holey, and beyond ~100k entries a dictionary). */
function slots(n: number): unknown[] {
  const a: unknown[] = []
  for (let i = 0; i < n; i++) a.push(undefined)
  return a
}
