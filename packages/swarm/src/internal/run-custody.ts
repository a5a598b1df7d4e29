import { CustodyTable } from './custody.js'
import { member, type Run } from './run.js'
import type { Routed, Upstream } from './wire.js'
import type { OutStream } from './fifo-sender.js'

/**
 * The custody table of the engine's tells (see `custody.ts`), where the tells of a run (see
 * `run.ts`) are held as the run itself: every id of a run maps to the one run object, instead of
 * to a routed tell of its own.
 *
 * Why: a held tell lives until the receiver's release comes back, long enough to be promoted out
 * of the young generation with its envelope, trace and id strings; on a reliable tell blast that
 * was about a third of the sender's CPU (measured by holding a shared placeholder instead). A tell
 * of a run is made again from the run's columns only when it is needed: taken back to be sent
 * again, or released to a caller that wants it whole (see `release`).
 *
 * Ids are those of the table (handed out in order, consecutive: see `nextId`), so the engine and
 * the release protocol see no difference.
 */
export class TellCustody {
  readonly #table = new CustodyTable<Routed | Run>()
  /** Tells (not of runs) their final recipient said it handled; see `handled`. */
  readonly #handled = new WeakSet<Routed>()
  /**
   * Tells held here that came from another node, by the custody of the first node that held them
   * (`ou`, or `u` when that node passed it here itself): the copies `handledCopiesOf` finds. Only
   * forwarded tells are in it, which a healthy cluster has few of.
   */
  readonly #copies = new Map<string, Routed[]>()
  /** The same tells, those with a fifo number, by stream (sender and agent): see `lowestHeld`. */
  readonly #streams = new Map<string, Routed[]>()
  #nextId = 1

  /** Keep `w`, passed to `next`; the id it travels under. */
  hold(w: Routed, next: string): number {
    const c = this.#table.hold(w, next)
    this.#nextId = c + 1
    const first = w.ou ?? w.u
    if (first !== undefined) {
      addTo(this.#copies, custodyKey(first), w)
      const stream = streamKey(w)
      if (stream !== undefined) addTo(this.#streams, stream, w)
    }
    return c
  }

  /**
   * The lowest fifo number of `w`'s stream (its sender, to its agent) among the forwarded tells
   * held here; `undefined` when none. A node passing on a later one while it holds an older one
   * tells the agent's home to wait for it (see `fifo-sender.ts`).
   */
  lowestHeld(w: Routed): number | undefined {
    if (this.#streams.size === 0) return undefined
    const stream = streamKey(w)
    const held = stream === undefined ? undefined : this.#streams.get(stream)
    if (held === undefined) return undefined
    let low = Infinity
    for (const x of held) if ((x.s as number) < low) low = x.s as number
    return low
  }

  /** `w` is no longer held (under one of its ids). */
  #unindex(w: Routed): void {
    const first = w.ou ?? w.u
    if (first === undefined) return
    removeFrom(this.#copies, custodyKey(first), w)
    const stream = streamKey(w)
    if (stream !== undefined) removeFrom(this.#streams, stream, w)
  }

  /** The id the next `hold` or `holdRun` hands out. */
  get nextId(): number {
    return this.#nextId
  }

  /** Keep the run's last tell (its id is `run.c0 + run.n - 1`), passed to `next`. */
  holdRun(run: Run, next: string): number {
    const c = this.#table.hold(run, next)
    this.#nextId = c + 1
    return c
  }

  /**
   * The tell held under `c`, now released; `undefined` when none (released before, or taken back).
   * With `streamDone`, a tell of a run is not made again: it has no upstream to release, so all
   * the caller would do with it is mark its fifo number done, which `streamDone` is called for
   * (when it has one); `undefined` is returned then too.
   */
  release(c: number, streamDone?: (f: OutStream, s: number) => void): Routed | undefined {
    const x = this.#table.release(c)
    if (x === undefined) return undefined
    if (!isRun(x)) {
      this.#unindex(x)
      return x
    }
    const k = c - (x.c0 as number)
    x.out[k] = 1
    if (streamDone === undefined) return member(x, k)
    const f = x.first
    if (f.f !== undefined && f.s !== undefined) streamDone(f.f, f.s + k)
    return undefined
  }

  /**
   * The node that handled the tell held under `c` said so (the end-to-end release, see
   * `Routed.ou`), while the node it was passed to has not released it yet. It stays held, so that
   * its fifo number stays out until that release comes; but it is not to be sent again.
   */
  handled(c: number): void {
    const x = this.#table.peek(c)
    if (x === undefined) return
    if (!isRun(x)) return void this.#handled.add(x)
    const k = c - (x.c0 as number)
    if (x.out[k] === 0) x.out[k] = HANDLED
  }

  /**
   * Marks handled (as `handled` does) every tell held here that is a copy of the one first held
   * under `first`: copies of one tell share the custody of the first node that held it, whatever
   * way each came here (sim --swarm seed 6072: n2 handled a tell that came back from n4 re-routed,
   * while it still held two copies toward n4 whose releases died with n4; it sent them again to
   * n4's restart, which handled the tell a second time). Runs start here: they have no first holder
   * elsewhere.
   */
  handledCopiesOf(first: Upstream): void {
    if (this.#copies.size === 0) return
    for (const x of this.#copies.get(custodyKey(first)) ?? []) this.#handled.add(x)
  }

  /**
   * Everything passed to `next` and not released, taken back, oldest first. With `done`, the tells
   * their final recipient handled go there instead of into the list.
   */
  takeToward(next: string, done?: (w: Routed) => void): Routed[] {
    const out: Routed[] = []
    let seen: Set<Run> | undefined
    for (const x of this.#table.takeToward(next)) {
      if (!isRun(x)) {
        this.#unindex(x)
        if (done !== undefined && this.#handled.has(x)) done(x)
        else out.push(x)
        continue
      }
      // The table gives the run once per tell it still held: all its tells not out yet, once.
      if (seen?.has(x)) continue
      ;(seen ??= new Set()).add(x)
      for (let k = 0; k < x.n; k++) {
        if (x.out[k] === 1) continue
        const handled = x.out[k] === HANDLED
        x.out[k] = 1
        if (handled && done !== undefined) done(member(x, k))
        else out.push(member(x, k))
      }
    }
    return out
  }

  /** Calls `each` with every tell held (toward any node, not released), in no particular order. */
  forEach(each: (w: Routed) => void): void {
    let seen: Set<Run> | undefined
    this.#table.forEach((x) => {
      if (!isRun(x)) return each(x)
      if (seen?.has(x)) return
      ;(seen ??= new Set()).add(x)
      for (let k = 0; k < x.n; k++) if (x.out[k] !== 1) each(member(x, k))
    })
  }

  nodes(): Set<string> {
    return this.#table.nodes()
  }

  count(next?: string): number {
    return this.#table.count(next)
  }
}

/** `Run.out[k]`: the tell's final recipient handled it; the next hop has not released it yet. */
const HANDLED = 2

function addTo(index: Map<string, Routed[]>, key: string, w: Routed): void {
  const list = index.get(key)
  if (list === undefined) index.set(key, [w])
  else list.push(w)
}

/** One occurrence of `w` out of `index[key]` (the same tell may be held under several ids). */
function removeFrom(index: Map<string, Routed[]>, key: string, w: Routed): void {
  const list = index.get(key)
  const at = list?.indexOf(w) ?? -1
  if (list === undefined || at < 0) return
  if (list.length === 1) index.delete(key)
  else list.splice(at, 1)
}

function custodyKey(u: Upstream): string {
  return `${u.n}/${u.i}/${u.c}`
}

function streamKey(w: Routed): string | undefined {
  return w.s === undefined || w.oi === undefined ? undefined : `${w.o}/${w.oi}/${w.e.to.type}/${w.e.to.id}`
}

function isRun(x: Routed | Run): x is Run {
  return (x as Partial<Run>).payloads !== undefined
}
