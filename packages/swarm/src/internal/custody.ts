import type { Upstream } from './wire.js'

/**
 * Custody of reliable tells, hop by hop. The transport acknowledges a message when it arrives,
 * but a node that then parks it, queues it in an agent's mailbox or forwards it can crash with it:
 * the sender, told it arrived, would never send it again. So every node that passes a reliable
 * tell to another node keeps it here, under an id that travels with it, until the next node says
 * it is done with it: handled by its agent (or refused, or dead-lettered), or itself passed on and
 * done with further down (then the release comes back hop by hop). When the next node is declared
 * down, what it held goes around again from here. Handled on a node that crashed before its
 * release went out, a tell is handled again where its agent lives next: that is the only repeat.
 *
 * @example
 * const c = table.hold(w, 'node-b')      // forwarded to node-b under id c
 * table.release(c)                       // node-b says it is done: w, to release upstream in turn
 * table.takeToward('node-b')             // node-b died: everything it held, to route again
 */
export class CustodyTable<T> {
  // Ids are handed out in order and mostly released in order: a window of slots from `#base`
  // (plain arrays, no entry objects: this runs for every reliable tell) plus a map for the few
  // that stay long (toward a node cut off) while the window moves on past them.
  #base = 1
  #items: (T | undefined)[] = []
  #next: (string | undefined)[] = []
  #head = 0
  #live = 0
  readonly #stragglers = new Map<number, { readonly item: T; readonly next: string }>()

  /** Keep `item`, passed to `next`; the id it travels under. */
  hold(item: T, next: string): number {
    this.#items.push(item)
    this.#next.push(next)
    this.#live++
    return this.#base + this.#items.length - 1
  }

  /** The item held under `c`, still held; `undefined` when none. */
  peek(c: number): T | undefined {
    const i = c - this.#base
    if (i < this.#head || i >= this.#items.length) return this.#stragglers.get(c)?.item
    return this.#items[i]
  }

  /** The item held under `c`, now released; `undefined` when none (released before, or taken back). */
  release(c: number): T | undefined {
    const i = c - this.#base
    if (i < this.#head || i >= this.#items.length) {
      const s = this.#stragglers.get(c)
      if (s === undefined) return undefined
      this.#stragglers.delete(c)
      return s.item
    }
    const item = this.#items[i]
    if (item === undefined) return undefined
    this.#items[i] = undefined
    this.#next[i] = undefined
    this.#live--
    this.#advance()
    return item
  }

  /** Moves the window's start past released slots; past a long-held one when the window grows sparse. */
  #advance(): void {
    const items = this.#items
    while (this.#head < items.length) {
      if (items[this.#head] === undefined) this.#head++
      else if (items.length - this.#head > WINDOW_MAX && this.#live * 4 < items.length - this.#head) {
        this.#stragglers.set(this.#base + this.#head, { item: items[this.#head] as T, next: this.#next[this.#head] as string })
        items[this.#head] = undefined
        this.#live--
        this.#head++
      } else break
    }
    if (this.#head === items.length) {
      this.#base += items.length
      this.#items = []
      this.#next = []
      this.#head = 0
    } else if (this.#head > 4096 && this.#head * 2 > items.length) {
      this.#base += this.#head
      this.#items = items.slice(this.#head)
      this.#next = this.#next.slice(this.#head)
      this.#head = 0
    }
  }

  /** Everything passed to `next` and not released, taken back, oldest first. */
  takeToward(next: string): T[] {
    const out: T[] = []
    for (const [c, h] of this.#stragglers) {
      if (h.next !== next) continue
      this.#stragglers.delete(c)
      out.push(h.item)
    }
    for (let i = this.#head; i < this.#items.length; i++) {
      if (this.#next[i] !== next) continue
      out.push(this.#items[i] as T)
      this.#items[i] = undefined
      this.#next[i] = undefined
      this.#live--
    }
    this.#advance()
    return out
  }

  /** Calls `each` with every item held (toward any node), in no particular order. */
  forEach(each: (item: T) => void): void {
    for (const h of this.#stragglers.values()) each(h.item)
    for (let i = this.#head; i < this.#items.length; i++) {
      const item = this.#items[i]
      if (item !== undefined) each(item)
    }
  }

  /** The nodes items are held toward. */
  nodes(): Set<string> {
    const out = new Set<string>()
    for (const h of this.#stragglers.values()) out.add(h.next)
    for (let i = this.#head; i < this.#next.length; i++) {
      const n = this.#next[i]
      if (n !== undefined) out.add(n)
    }
    return out
  }

  /** How many items are held toward `next` (all of them without it). */
  count(next?: string): number {
    if (next === undefined) return this.#live + this.#stragglers.size
    let n = 0
    for (const h of this.#stragglers.values()) if (h.next === next) n++
    for (let i = this.#head; i < this.#next.length; i++) if (this.#next[i] === next) n++
    return n
  }
}

/** Slots the window may span before a long-held item at its start moves aside (see `#advance`). */
const WINDOW_MAX = 65_536

/** Ids as runs of consecutive ones, `[first, count, …]`: the form releases travel in. */
export function toRuns(ids: number[]): number[] {
  ids.sort((a, b) => a - b)
  const runs: number[] = []
  for (let i = 0; i < ids.length; ) {
    const first = ids[i] as number
    let n = 1
    while (ids[i + n] === first + n) n++
    runs.push(first, n)
    i += n
  }
  return runs
}

/** Calls `each` with the ids of {@link toRuns}' runs; stops at anything malformed (from a peer: never throws, never loops long). */
export function forRuns(runs: unknown, each: (id: number) => void): void {
  if (!Array.isArray(runs)) return
  for (let i = 0; i + 1 < runs.length; i += 2) {
    const first: unknown = runs[i], n: unknown = runs[i + 1]
    if (typeof first !== 'number' || typeof n !== 'number' || !Number.isSafeInteger(first) || !Number.isSafeInteger(n) || n < 1 || n > 1 << 20) return
    for (let k = 0; k < n; k++) each(first + k)
  }
}

/**
 * Releases owed to upstream nodes, batched: one control message per node and incarnation per turn
 * instead of one per tell. Releases toward a node without a session wait for one.
 */
export class ReleaseBatch {
  readonly #due = new Map<string, { readonly n: string; readonly i: number; readonly c: number[] }>()
  /** The batch the last release went to: a stream of releases mostly goes to one node. */
  #last: { readonly n: string; readonly i: number; readonly c: number[] } | undefined = undefined

  add(u: Upstream): void {
    const last = this.#last
    if (last !== undefined && last.n === u.n && last.i === u.i) {
      last.c.push(u.c)
      return
    }
    const key = `${u.n}\u0000${u.i}`
    let d = this.#due.get(key)
    if (d === undefined) this.#due.set(key, (d = { n: u.n, i: u.i, c: [u.c] }))
    else d.c.push(u.c)
    this.#last = d
  }

  get size(): number {
    return this.#due.size
  }

  /** The batches `ready` says can go now, removed; the others stay. */
  take(ready: (node: string) => boolean): { n: string; i: number; c: number[] }[] {
    const out = []
    for (const [key, d] of this.#due) {
      if (!ready(d.n)) continue
      this.#due.delete(key)
      if (d === this.#last) this.#last = undefined
      out.push(d)
    }
    return out
  }

  /** Releases owed to a node that is gone: its table went with it (or, cut off, it sends again anyway). */
  forget(node: string): void {
    for (const [key, d] of this.#due) if (d.n === node) this.#due.delete(key)
    if (this.#last?.n === node) this.#last = undefined
  }
}
