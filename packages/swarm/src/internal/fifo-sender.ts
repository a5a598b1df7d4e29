/**
 * The sending side of per-agent fifo order (the receiving side is `fifo-order.ts`). A node numbers
 * the fifo messages it routes to each agent, and knows which of them are not done with yet (held
 * in custody, see `custody.ts`). When it starts sending to a node other than the one the oldest
 * of those went to (the agent moved, or was restarted elsewhere), the agent's new home may not
 * know this sender at all: its stream would start at the first number it sees, and the older
 * messages, still on their way through the old route, would be delivered late, out of order. So
 * messages sent on a new route while older ones are still out carry `low`, the first number not
 * done with, and a new home that starts this sender's stream fresh waits for it.
 *
 * @example
 * const f = streams.of(key); const s = streams.number(f)
 * const low = streams.lowFor(f, s, 'node-b')  // defined only on a new route with older ones out
 * streams.done(f, s)                          // released, handled here, or given up
 */
export interface OutStream {
  /** The agent's directory key. */
  readonly key: string
  /** The number the next message gets. */
  next: number
  /** The first number not done with (all below it are). */
  low: number
  /** Numbers above `low` already done with (released out of order). */
  doneAbove: Set<number> | undefined
  /** The node the last numbered message was sent to. */
  via: string | undefined
  /** The incarnation of `via` then: a node's new life starts its streams afresh, a new route too. */
  viaLife: number | undefined
  /** Messages from this number on, while `low` is below it, carry `low` (a route change with older ones out). */
  hintFrom: number
  /** Since when `low` has been the first number out (ms, the caller's clock). */
  lowSince: number
}

/**
 * Older messages out for this long (ms) make every later one carry `low`, whatever its route: they
 * are stuck somewhere (a partition, a crashed forwarder, nodes whose directories disagree bouncing
 * them), and may reach the agent by another way than the later ones did, after them (sim --swarm
 * seed 190: tells bounced between two nodes for a second and a half, the agent's new home saw
 * the sender's #5 first and started its stream there). On a healthy route a release comes back
 * within a round trip and this never fires.
 */
export const STALE_LOW_MS = 250
// (The engine passes its tick time, 50 ms coarse: "out 250 ms" means 200 to 300.)

export class FifoSender {
  readonly #streams = new Map<string, OutStream>()

  /** The stream toward the agent with directory key `key`. */
  of(key: string): OutStream {
    let f = this.#streams.get(key)
    // Never forgotten: a numbering that restarted would look like duplicates to the agent's host.
    if (f === undefined) this.#streams.set(key, (f = { key, next: 1, low: 1, doneAbove: undefined, via: undefined, viaLife: undefined, hintFrom: Infinity, lowSince: 0 }))
    return f
  }

  /** The first number of the agent's stream not done with yet, if any is out. */
  firstOut(key: string): number | undefined {
    const f = this.#streams.get(key)
    return f !== undefined && f.low < f.next ? f.low : undefined
  }

  /** The next number of stream `f`. */
  number(f: OutStream, now = 0): number {
    if (f.low === f.next) f.lowSince = now
    return f.next++
  }

  /**
   * Message `s` goes to `node` (in its life `life`): the `low` it must carry, or `undefined` when it
   * needs none (the same route as before, or nothing older still out). On a new route with nothing
   * older out it is `s` itself: every lower number is done with here, so a home that starts this
   * stream fresh drops a stray copy of one that comes later (sim --swarm seeds 1949, 4580: a copy of
   * a tell whose first handling died in a crash reached the agent's fresh restart after newer ones).
   */
  lowFor(f: OutStream, s: number, node: string, now = 0, life?: number): number | undefined {
    // An earlier hint the stream has passed ends before a new one is taken (sim --swarm seed 4945:
    // a hint left from an older route, taken as the new one's, was dropped at once, and the tell
    // on the new route went without low while an older one was out).
    if (f.low > f.hintFrom) f.hintFrom = Infinity
    const moved = f.via !== undefined && (f.via !== node || f.viaLife !== life)
    if (moved && f.low <= s) f.hintFrom = Math.min(f.hintFrom, s)
    f.via = node
    f.viaLife = life
    if (f.low < s && now - f.lowSince >= STALE_LOW_MS) return f.low
    if (s >= f.hintFrom && f.low < s) return f.low
    return moved && f.low === s ? s : undefined
  }

  /**
   * Message `s`, done with, is out again (delivered here, then handed back undelivered by a copy of
   * the agent that stopped): it is the first out, and later messages carry `low` until it is done
   * with again.
   */
  reopen(f: OutStream, s: number, now = 0): void {
    if (s >= f.next) return
    if (s >= f.low) return void f.doneAbove?.delete(s)
    for (let n = s + 1; n < f.low; n++) (f.doneAbove ??= new Set()).add(n)
    f.low = s
    f.lowSince = now
    f.hintFrom = Math.min(f.hintFrom, f.next)
  }

  /** Message `s` is done with: released by the node it went to, handled here, or given up. */
  done(f: OutStream, s: number, now = 0): void {
    if (s < f.low) return
    if (s > f.low) {
      ;(f.doneAbove ??= new Set()).add(s)
      return
    }
    f.lowSince = now
    f.low++
    const d = f.doneAbove
    if (d !== undefined) {
      while (d.delete(f.low)) f.low++
      if (d.size === 0) f.doneAbove = undefined
    }
  }
}
