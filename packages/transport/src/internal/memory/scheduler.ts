/**
 * Virtual time: a priority queue of callbacks ordered by (time, insertion). Running one callback is
 * a step; nothing here touches real time. `owner` lets a crash cancel everything a node scheduled.
 */
export interface Owner {
  /** `false` once the owner (one life of a node) has crashed: its events are skipped. */
  readonly alive: boolean
}

export interface ScheduledEvent {
  readonly at: number
  readonly seq: number
  readonly fn: () => void
  readonly owner: Owner | undefined
  cancelled: boolean
}

export class Scheduler {
  private heap: ScheduledEvent[] = []
  private seq = 0
  now = 0
  /** Called whenever an event is added (the auto-runner wakes on it). */
  onSchedule: () => void = () => {}

  get pending(): number {
    return this.heap.length
  }

  /** Time of the next event, or `undefined` when idle. */
  peek(): number | undefined {
    return this.heap[0]?.at
  }

  schedule(delay: number, fn: () => void, owner?: Owner): ScheduledEvent {
    const at = this.now + (delay > 0 ? delay : 0)
    const event: ScheduledEvent = { at, seq: this.seq++, fn, owner, cancelled: false }
    this.push(event)
    this.onSchedule()
    return event
  }

  /** Runs the next live event, advancing `now` to it. `false` when there was none. */
  runNext(): boolean {
    for (;;) {
      const event = this.pop()
      if (event === undefined) return false
      if (event.cancelled || event.owner?.alive === false) continue
      this.now = event.at
      event.fn()
      return true
    }
  }

  /** Advances `now` without running anything (after the last event of a `runFor`). */
  advanceTo(time: number): void {
    if (time > this.now) this.now = time
  }

  private before(a: ScheduledEvent, b: ScheduledEvent): boolean {
    return a.at < b.at || (a.at === b.at && a.seq < b.seq)
  }

  private push(event: ScheduledEvent): void {
    const heap = this.heap
    let i = heap.push(event) - 1
    while (i > 0) {
      const parent = (i - 1) >> 1
      const p = heap[parent] as ScheduledEvent
      if (!this.before(event, p)) break
      heap[i] = p
      i = parent
    }
    heap[i] = event
  }

  private pop(): ScheduledEvent | undefined {
    const heap = this.heap
    const top = heap[0]
    const last = heap.pop()
    if (top === undefined || last === undefined || heap.length === 0) return top
    let i = 0
    for (;;) {
      const l = 2 * i + 1
      if (l >= heap.length) break
      const r = l + 1
      const left = heap[l] as ScheduledEvent
      const right = heap[r]
      const child = right !== undefined && this.before(right, left) ? r : l
      const c = heap[child] as ScheduledEvent
      if (!this.before(c, last)) break
      heap[i] = c
      i = child
    }
    heap[i] = last
    return top
  }
}
