/**
 * Timeouts of asks without one timer per ask: asks with the same timeout expire in the order
 * they were made, so each distinct timeout keeps a FIFO and one timer for its head.
 */
export interface Expirable {
  /** Absolute time (ms, performance clock) after which `expire` runs unless settled. */
  deadline: number
  settled: boolean
  expire(): void
}

class Lane {
  items: Expirable[] = []
  head = 0
  timer: NodeJS.Timeout | undefined = undefined
}

/**
 * Timers are unref'd while nothing waits on them, and ref'd while some item is unsettled, so a
 * pending ask keeps the process alive until its timeout, and settled ones do not.
 */
export class Deadlines {
  #lanes = new Map<number, Lane>()
  #live = 0

  /** An item added here settled (before or at expiry). */
  done(): void {
    if (--this.#live === 0) for (const lane of this.#lanes.values()) lane.timer?.unref()
  }

  add(item: Expirable, timeout: number): void {
    if (++this.#live === 1) for (const l of this.#lanes.values()) l.timer?.ref()
    let lane = this.#lanes.get(timeout)
    if (lane === undefined) {
      lane = new Lane()
      this.#lanes.set(timeout, lane)
    }
    dropSettled(lane)
    lane.items.push(item)
    if (lane.timer === undefined) this.#arm(lane, timeout)
  }

  #arm(lane: Lane, timeout: number): void {
    const first = lane.items[lane.head]
    if (first === undefined) return
    const wait = Math.max(0, first.deadline - performance.now())
    lane.timer = setTimeout(() => this.#fire(lane, timeout), Math.ceil(wait) + 1)
    if (this.#live === 0) lane.timer.unref()
  }

  #fire(lane: Lane, timeout: number): void {
    lane.timer = undefined
    const now = performance.now()
    const items = lane.items
    while (lane.head < items.length) {
      const item = items[lane.head]!
      if (!item.settled && item.deadline > now) break
      items[lane.head++] = undefined as unknown as Expirable
      if (!item.settled) item.expire()
    }
    if (lane.head === items.length) {
      this.#lanes.delete(timeout)
      return
    }
    dropSettled(lane)
    this.#arm(lane, timeout)
  }

  clear(): void {
    for (const lane of this.#lanes.values()) if (lane.timer !== undefined) clearTimeout(lane.timer)
    this.#lanes.clear()
    this.#live = 0
  }
}

/** Asks mostly settle in order: dropping settled ones at the head keeps a lane as short as what is in flight. */
function dropSettled(lane: Lane): void {
  const items = lane.items
  while (lane.head < items.length && items[lane.head]!.settled) items[lane.head++] = undefined as unknown as Expirable
  if (lane.head > 1024 && lane.head * 2 > items.length) {
    lane.items = items.slice(lane.head)
    lane.head = 0
  }
}
