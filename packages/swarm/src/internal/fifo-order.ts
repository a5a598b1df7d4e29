/**
 * Per (sender node, agent) order across moves. The sending node numbers the fifo messages it
 * routes to each agent; the agent's host delivers them in that order, holding a message whose
 * predecessor is still on its way (e.g. forwarded by the agent's old home while the sender already
 * writes to the new one), and drops a number it has already delivered (a message re-routed after a
 * crash that had arrived after all). The counters move with the agent.
 */
interface Stream<T> {
  next: number
  readonly held: Map<number, T>
  heldSince: number
  /**
   * When a message last came whose `low` says the sender still has the missing number out (it
   * holds it in custody and will send it again): the gap waits on from then (see `expire`).
   */
  awaitedAt: number
  /**
   * A stream this host started fresh (no counters came with the agent): the first number it saw.
   * Numbers below it were never delivered here; `undefined` for a stream continued from counters.
   */
  start: number | undefined
  /** Numbers below `next` that were skipped (a gap that expired) or arrived late and were delivered. */
  readonly irregular: Set<number>
  /**
   * A fresh stream whose first message said every lower number is done with at the sender (`low`
   * equal to its own number): one that comes later is a stray copy, dropped rather than delivered
   * late. Not carried by the counters: a stream continued elsewhere delivers late.
   */
  doneBelowStart?: true
}

/** A gap the sender keeps saying it has out waits at most this many gap timeouts. */
const MAX_WAITS = 4

/** Irregular numbers remembered per stream, at most (the oldest are forgotten). */
const IRREGULAR_MAX = 4096

/**
 * What a new home needs to continue the order: per origin, the next number expected, and for a
 * stream that started fresh on some host the number it started at (below it nothing was ever
 * delivered: a re-routed message numbered so is late, not a duplicate; `null` when the stream
 * continued from the start but `skipped` follows), and the irregular numbers (`Stream.irregular`):
 * at or above the start, skipped when a gap expired, so still to be delivered if they come; below
 * it, delivered late.
 */
export type Counter = readonly [origin: string, next: number, start?: number | null, irregular?: readonly number[]]
export type Counters = readonly Counter[]

/**
 * How long a node remembers the counters of an agent that left it (ms). A copy that gave way to
 * another (an orphan, a split's loser) may come back here before its counters reached the
 * winner; the node then still knows what it delivered.
 */
const PAST_MS = 60_000
// (sim --swarm seed 16: n3's copy of ag10 lost to n4's after a heal; n4 handed its copy back to n3
// before n3's counters reached it, with only its own, and n3 handled a tell a second time.)

export class FifoOrder<T> {
  readonly #agents = new Map<string, Map<string, Stream<T>>>()
  /** Counters of agents that left this node, with when: folded into a later copy here (`restore`, `fresh`). */
  readonly #past = new Map<string, { counters: Counters; at: number }>()

  #streamsOf(agent: string): Map<string, Stream<T>> {
    let streams = this.#agents.get(agent)
    if (!streams) this.#agents.set(agent, (streams = new Map()))
    return streams
  }

  /**
   * Offer message `seq` of `origin` for `agent`. Returns the messages to deliver now, in order
   * (empty when it must wait), or `null` for a duplicate, dropped. The first number seen from an
   * origin starts its stream (an agent spawned or restarted fresh knows no earlier one), or the
   * `low` it carries (see `fifo-sender.ts`).
   */
  accept(agent: string, origin: string, seq: number, item: T, now: number, low?: number): T[] | null {
    const streams = this.#streamsOf(agent)
    let s = streams.get(origin)
    // A fresh stream starts where the sender says its first message not yet done with is (`low`,
    // on a message that took a new route while older ones are still on their way), else here.
    const first = low !== undefined && low < seq ? low : seq
    if (!s) {
      streams.set(origin, (s = stream(first, first, now)))
      if (low === seq) s.doneBelowStart = true
    }
    // A stream set up to wait for the tells this node holds on their way (`expect`, at activation)
    // that delivered nothing yet: the sender knows an older one still out, so it waits from there
    // (sim --swarm seed 325: n2 held n4's #2 and #3 when it restarted the agent, its stream began at
    // #2, and n4's #1, parked at a leaving node, came after them).
    else if (s.start !== undefined && s.next === s.start && first < s.start) s.next = s.start = first
    if (seq < s.next) return this.#late(s, seq, item)
    if (seq > s.next) {
      if (low !== undefined && low <= s.next) s.awaitedAt = now
      if (s.held.size === 0) s.heldSince = now
      s.held.set(seq, item)
      return []
    }
    const out = [item]
    s.next++
    for (let m = s.held.get(s.next); m !== undefined; m = s.held.get(s.next)) {
      s.held.delete(s.next)
      out.push(m)
      s.next++
    }
    return out
  }

  /**
   * A number below `next`. Delivered (late, out of order) when this host never delivered it: it is
   * below where a fresh stream started (a message re-routed after a crash, or forwarded by a node
   * that outlived the old home, arriving after newer ones came straight here), or a gap skipped on
   * expiry that filled after all. Losing it would be worse than delivering it late; `late` counts
   * them. Anything else below `next` was delivered here: a duplicate, dropped.
   */
  #late(s: Stream<T>, seq: number, item: T): T[] | null {
    const below = s.start !== undefined && seq < s.start
    if (below && s.doneBelowStart === true) return null
    if (below ? s.irregular.has(seq) : !s.irregular.has(seq)) return null
    if (below) remember(s.irregular, seq)
    else s.irregular.delete(seq)
    this.late++
    return [item]
  }

  /** Messages delivered out of order rather than dropped (see `#late`). */
  late = 0

  /**
   * Counters to hand to the agent's new home, with the held messages (to forward after it). This
   * node also remembers the counters for a while (see `PAST_MS`). `givenBack`: numbers delivered
   * to the agent's mailbox here that go on undelivered (a losing copy's mail), not counted.
   */
  take(agent: string, now = 0, givenBack: ReadonlyArray<readonly [origin: string, seq: number]> = []): { counters: Counters; held: T[] } {
    const streams = this.#agents.get(agent)
    this.#agents.delete(agent)
    // Delivered to the mailbox of a copy that stopped, and handed back undelivered: not counted.
    for (const [origin, seq] of givenBack) {
      const s = streams?.get(origin)
      if (s !== undefined) undeliver(s, seq)
    }
    const counters: Counter[] = []
    const held: T[] = []
    for (const [origin, s] of streams ?? []) {
      // The irregular numbers go too (sim --swarm seed 245: a gap skipped on expiry, moved with
      // the agent as a plain 'next', turned the late tell into a duplicate at the new home).
      if (s.irregular.size > 0) counters.push([origin, s.next, s.start ?? null, [...s.irregular]])
      else counters.push(s.start === undefined ? [origin, s.next] : [origin, s.next, s.start])
      for (const seq of [...s.held.keys()].sort((a, b) => a - b)) held.push(s.held.get(seq)!)
    }
    if (counters.length > 0) this.#past.set(agent, { counters, at: now })
    return { counters, held }
  }

  /**
   * A stream not started yet waits for `next`; one already further on is left as it is. `done`:
   * every number below `next` is done with (the sender itself says so: `next` is the first of its
   * own still on its way); otherwise they are unknown (this node only holds `next` and later ones
   * on their way), so one that comes is delivered late rather than dropped (sim --swarm seed 245).
   */
  expect(agent: string, origin: string, next: number, now: number, done: boolean): void {
    const streams = this.#streamsOf(agent)
    if (!streams.has(origin)) streams.set(origin, stream(next, done ? undefined : next, now))
  }

  /**
   * Every number of `origin` below `low` is done with (the sender is this node: its own tells,
   * handled at the agent's earlier home, or given up): a stream waiting for one of them moves on.
   * Returns what waited behind them, in order; a held copy below `low` was handled elsewhere and
   * is dropped.
   */
  advanceTo(agent: string, origin: string, low: number): T[] {
    const s = this.#agents.get(agent)?.get(origin)
    if (s === undefined || s.next >= low) return []
    s.next = low
    const out: T[] = []
    for (const seq of [...s.held.keys()]) if (seq < low) s.held.delete(seq)
    for (let m = s.held.get(s.next); m !== undefined; m = s.held.get(s.next)) {
      s.held.delete(s.next)
      out.push(m)
      s.next++
    }
    return out
  }

  /** Continue the streams of an agent that arrived here (and what an earlier copy here delivered). */
  restore(agent: string, counters: Counters, now: number): void {
    const streams = new Map<string, Stream<T>>()
    for (const [origin, next, start, irregular] of counters) streams.set(origin, stream(next, start ?? undefined, now, irregular))
    this.#agents.set(agent, streams)
    this.#foldPast(agent, now)
  }

  /** An agent starts here with no counters (spawned, restarted): only what an earlier copy here delivered. */
  fresh(agent: string, now: number): void {
    this.#agents.delete(agent)
    this.#foldPast(agent, now)
  }

  #foldPast(agent: string, now: number): void {
    const past = this.#past.get(agent)
    if (past === undefined) return
    this.#past.delete(agent)
    this.merge(agent, past.counters, now)
  }

  /**
   * Fold in the counters of another copy of `agent` that gave way to this one (an orphan of a lost
   * move, a losing duplicate after a split): what either copy delivered stays delivered here, so
   * a tell handled by the loser and sent again to the winner is dropped as a duplicate rather than
   * handled twice.
   */
  merge(agent: string, counters: Counters, now: number): void {
    const streams = this.#streamsOf(agent)
    for (const [origin, next, start, irregular] of counters) {
      const s = streams.get(origin)
      if (s === undefined) streams.set(origin, stream(next, start ?? undefined, now, irregular))
      else mergeStream(s, { next, start: start ?? undefined, irregular: new Set(irregular) })
    }
  }

  /**
   * Gaps older than `maxAge` will not fill (their messages died with a node): deliver what waits
   * behind them, in order, and move on. A gap the sender said it still has out less than `maxAge`
   * ago waits on (it comes once the sender routes it again), up to `MAX_WAITS` times `maxAge`
   * (sim --swarm seed 1482: n2's #5, held toward a node cut off for 4 s, came 10 ms after the
   * gap expired, behind newer tells that had carried `low` 5 all along). A held copy the stream
   * has since gone past (merged counters moved `next` over it, and another copy of it was
   * delivered) goes to `duplicate` instead, unless it counts as late (see `#late`).
   */
  expire(now: number, maxAge: number, duplicate: (item: T) => void = () => {}): T[] {
    for (const [agent, p] of this.#past) if (now - p.at > PAST_MS) this.#past.delete(agent)
    const out: T[] = []
    for (const streams of this.#agents.values()) {
      for (const s of streams.values()) {
        if (s.held.size === 0 || now - s.heldSince < maxAge) continue
        if (now - s.awaitedAt < maxAge && now - s.heldSince < maxAge * MAX_WAITS) continue
        for (const seq of [...s.held.keys()].sort((a, b) => a - b)) {
          const item = s.held.get(seq)!
          // (sim --swarm seed 2284: a copy held at n0 waiting for a gap; a merge moved the stream
          // past it, a second copy came and was delivered, and the held one followed at expiry.)
          if (seq < s.next) {
            if (this.#late(s, seq, item) === null) duplicate(item)
            else out.push(item)
            continue
          }
          for (let gap = Math.max(s.next, seq - IRREGULAR_MAX); gap < seq; gap++) remember(s.irregular, gap)
          out.push(item)
          s.next = seq + 1
        }
        s.held.clear()
      }
    }
    return out
  }
}

/** Number `seq`, counted delivered in `r`, is not (see `Stream.irregular` for the two meanings). */
function undeliver(r: { readonly next: number; readonly start: number | undefined; readonly irregular: Set<number> }, seq: number): void {
  if (r.start !== undefined && seq < r.start) r.irregular.delete(seq)
  else if (seq < r.next) remember(r.irregular, seq)
}

/** `counters` with the numbers `givenBack` (per origin) no longer counted delivered (see `FifoOrder.take`). */
export function uncounted(counters: Counters, givenBack: ReadonlyArray<readonly [origin: string, seq: number]>): Counters {
  if (givenBack.length === 0) return counters
  return counters.map(([origin, next, start, irregular]): Counter => {
    const r = { next, start: start ?? undefined, irregular: new Set(irregular) }
    for (const [o, seq] of givenBack) if (o === origin) undeliver(r, seq)
    return r.irregular.size > 0 ? [origin, next, start ?? null, [...r.irregular]] : start === undefined || start === null ? [origin, next] : [origin, next, start]
  })
}

/** A stream expecting `next`, nothing held. */
function stream<T>(next: number, start: number | undefined, now: number, irregular?: readonly number[]): Stream<T> {
  return { next, held: new Map(), heldSince: now, awaitedAt: -Infinity, start, irregular: new Set(irregular) }
}

interface Range {
  readonly next: number
  readonly start: number | undefined
  readonly irregular: ReadonlySet<number>
}

/** Whether stream range `r` delivered `n` (see `Stream.irregular` for the two meanings of irregular). */
function delivered(r: Range, n: number): boolean {
  return r.start === undefined || n >= r.start ? n < r.next && !r.irregular.has(n) : r.irregular.has(n)
}

/**
 * Two copies' ranges of one stream become one: what either delivered stays delivered. The merged
 * range runs from the lower start to the higher next; the numbers in it that neither delivered
 * (skipped by both, or between two ranges that do not touch) are marked irregular, so they are
 * still delivered when they come, and numbers below it that either delivered late stay marked.
 */
function mergeStream<T>(s: Stream<T>, other: Range): void {
  const mine: Range = { next: s.next, start: s.start, irregular: new Set(s.irregular) }
  const lo = (r: Range): number => r.start ?? Number.NEGATIVE_INFINITY
  const [first, second] = lo(mine) <= lo(other) ? [mine, other] : [other, mine]
  const candidates = new Set([...mine.irregular, ...other.irregular])
  s.irregular.clear()
  s.next = Math.max(mine.next, other.next)
  s.start = first.start
  const gapFrom = first.next
  const gapTo = lo(second)
  if (gapTo - gapFrom > IRREGULAR_MAX) {
    // A gap too wide to remember: count from the second range, so the first range's numbers would
    // be handled again rather than the gap's lost.
    s.start = second.start
    for (const n of second.irregular) remember(s.irregular, n)
    return
  }
  for (let n = gapFrom; n < gapTo; n++) candidates.add(n)
  for (const n of candidates) {
    const done = delivered(mine, n) || delivered(other, n)
    if (s.start === undefined || n >= s.start ? !done && n < s.next : done) remember(s.irregular, n)
  }
}

function remember(set: Set<number>, n: number): void {
  set.add(n)
  if (set.size > IRREGULAR_MAX) set.delete(set.values().next().value as number)
}
