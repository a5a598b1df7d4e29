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
  #seq = 0
  readonly #held = new Map<number, { readonly item: T; readonly next: string }>()

  /** Keep `item`, passed to `next`; the id it travels under. */
  hold(item: T, next: string): number {
    const c = ++this.#seq
    this.#held.set(c, { item, next })
    return c
  }

  /** The item held under `c`, now released; `undefined` when none (released before, or taken back). */
  release(c: number): T | undefined {
    const h = this.#held.get(c)
    if (h === undefined) return undefined
    this.#held.delete(c)
    return h.item
  }

  /** Everything passed to `next` and not released, taken back, oldest first. */
  takeToward(next: string): T[] {
    const out: T[] = []
    for (const [c, h] of this.#held) {
      if (h.next !== next) continue
      this.#held.delete(c)
      out.push(h.item)
    }
    return out
  }

  /** The items held, oldest first. */
  *items(): IterableIterator<T> {
    for (const h of this.#held.values()) yield h.item
  }

  /** How many items are held toward `next` (all of them without it). */
  count(next?: string): number {
    if (next === undefined) return this.#held.size
    let n = 0
    for (const h of this.#held.values()) if (h.next === next) n++
    return n
  }
}

/**
 * Releases owed to upstream nodes, batched: one control message per node and incarnation per turn
 * instead of one per tell. Releases toward a node without a session wait for one.
 */
export class ReleaseBatch {
  readonly #due = new Map<string, { readonly n: string; readonly i: number; readonly c: number[] }>()

  add(u: Upstream): void {
    const key = `${u.n}\u0000${u.i}`
    const d = this.#due.get(key)
    if (d === undefined) this.#due.set(key, { n: u.n, i: u.i, c: [u.c] })
    else d.c.push(u.c)
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
      out.push(d)
    }
    return out
  }

  /** Releases owed to a node that is gone: its table went with it (or, cut off, it sends again anyway). */
  forget(node: string): void {
    for (const [key, d] of this.#due) if (d.n === node) this.#due.delete(key)
  }
}
