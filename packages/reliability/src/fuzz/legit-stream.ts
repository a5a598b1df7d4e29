import type { InboundMessage, Transport } from '@murmur/transport'

/**
 * A well-behaved peer's reliable, fifo stream of numbers 0, 1, 2… to the node under test, and
 * the node's record of what arrived: the fuzzer's proof that legitimate peers are unaffected.
 */
export class LegitStream {
  sent = 0
  delivered = 0
  duplicates = 0
  outOfOrder = 0
  #expected = 0

  constructor(
    private readonly from: Transport,
    private readonly to: string,
  ) {}

  send(n: number): void {
    for (let i = 0; i < n; i++) this.from.send(this.to, this.sent++, { guarantee: ['reliable', 'fifo'] })
  }

  /** Feed every message the node under test receives; returns false for other senders' messages. */
  observe(m: InboundMessage): boolean {
    if (m.from.nodeId !== this.from.nodeId) return false
    const n = m.payload as number
    if (n === this.#expected) {
      this.#expected++
      this.delivered++
    } else if (n < this.#expected) this.duplicates++
    else this.outOfOrder++
    return true
  }

  done(): boolean {
    return this.delivered === this.sent
  }
}

/** Waits (real time) for `cond`, up to `ms`. */
export async function until(cond: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms
  while (!cond()) {
    if (Date.now() > end) return false
    await new Promise((r) => setTimeout(r, 5))
  }
  return true
}
