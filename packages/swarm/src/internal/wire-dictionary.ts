/**
 * Interning of the strings every envelope repeats (agent type and id, message type, origin node,
 * the fixed heads of trace and span ids), per pair of node incarnations.
 *
 * Why: cbor-x writes a short string one character at a time, and on a remote tell those strings
 * were most of the frame (about 80 of 145 bytes) and about half of the sender's encoding time.
 * With the dictionary they travel as small integers.
 *
 * How it stays safe when messages are lost, reordered or handed back:
 * - The sender gives a string an id the first time it sends it, and keeps sending the string itself
 *   until the receiver has confirmed the id. Definitions go on the reliable control channel; the
 *   receiver answers each batch with a confirmation, also reliable. So a message never carries an
 *   id its receiver cannot resolve, whatever lane or guarantee it travels on.
 * - Ids are never reused for another string while both incarnations live: both sides are
 *   append-only, and when a new session starts every id not yet confirmed is defined again (same
 *   ids; a definition or its confirmation may have been lost with the old session). A new
 *   incarnation on either side starts a new dictionary.
 * - Both sides are bounded (`max` strings per peer); past it, strings travel inline.
 */
export class OutboundDictionary {
  readonly #ids = new Map<string, number>()
  readonly #strings: string[] = []
  readonly #confirmed: boolean[] = []
  #queued: number[] = []
  /**
   * Called when a string is queued for definition. Why: its owner used to schedule a definitions
   * flush on every send toward the peer (a closure and a microtask per ask, nearly always with
   * nothing to define); now only sends that queue something, or find something queued, do.
   */
  onQueued: (() => void) | undefined = undefined

  constructor(
    /** The receiver's incarnation this dictionary is for. */
    readonly incarnation: number,
    readonly max = DICTIONARY_MAX,
  ) {}

  /** The wire form of `s`: its id once the receiver confirmed it, the string itself until then. */
  ref(s: string): string | number {
    const id = this.#ids.get(s)
    if (id !== undefined) return this.#confirmed[id] === true ? id : s
    const n = this.#strings.length
    if (n < this.max) {
      this.#ids.set(s, n)
      this.#strings.push(s)
      this.#confirmed.push(false)
      this.#queued.push(n)
      this.onQueued?.()
    }
    return s
  }

  /** Whether definitions wait to be sent (e.g. queued while the peer had no session). */
  get hasQueued(): boolean {
    return this.#queued.length > 0
  }

  /** The last heads {@link refHead} resolved to confirmed ids, by the position of the split. */
  readonly #heads: Array<{ readonly head: string; readonly id: number } | undefined> = []

  /**
   * The wire form of `s.slice(0, at)`, without slicing or hashing when `s` starts with the same
   * head as last time: a trace id's head is the same for every message a process starts.
   */
  refHead(s: string, at: number): string | number {
    const last = this.#heads[at]
    if (last !== undefined && s.startsWith(last.head)) return last.id
    const head = s.slice(0, at)
    const r = this.ref(head)
    if (typeof r === 'number' && at < 256) this.#heads[at] = { head, id: r }
    return r
  }

  /** Definitions to send (`[id, string, id, string, …]`), or `undefined` when there are none. */
  takeDefinitions(): Array<number | string> | undefined {
    if (this.#queued.length === 0) return undefined
    const defs: Array<number | string> = []
    for (const id of this.#queued) defs.push(id, this.#strings[id] as string)
    this.#queued = []
    return defs
  }

  /** A new session with the same receiver: define every id not confirmed yet again (same ids). */
  requeueUnconfirmed(): void {
    const queued = new Set(this.#queued)
    for (let id = 0; id < this.#strings.length; id++) if (!this.#confirmed[id] && !queued.has(id)) this.#queued.push(id)
  }

  /** The receiver confirmed these ids. */
  confirm(ids: readonly unknown[]): void {
    for (const id of ids) if (typeof id === 'number' && id >= 0 && id < this.#strings.length) this.#confirmed[id] = true
  }

  /** The string an id this side sent stands for (traffic handed back is unpacked by its sender). */
  resolve(x: unknown): unknown {
    return typeof x === 'number' ? this.#strings[x] : x
  }

  get size(): number {
    return this.#strings.length
  }
}

/** The receiving side: what one sender incarnation defined. */
export class InboundDictionary {
  readonly #strings: Array<string | undefined> = []

  constructor(
    /** The sender's incarnation. */
    readonly incarnation: number,
    readonly max = DICTIONARY_MAX,
  ) {}

  /**
   * Apply a batch of definitions; returns the ids it now knows from it, to confirm. A definition
   * that contradicts one already held (which a correct sender never sends) is refused: answering
   * with it would let one id mean two strings.
   */
  define(defs: readonly unknown[]): number[] {
    const ok: number[] = []
    for (let i = 0; i + 1 < defs.length; i += 2) {
      const id = defs[i]
      const s = defs[i + 1]
      if (typeof id !== 'number' || !Number.isInteger(id) || id < 0 || id >= this.max || typeof s !== 'string') continue
      const held = this.#strings[id]
      if (held === undefined) this.#strings[id] = s
      else if (held !== s) continue
      ok.push(id)
    }
    return ok
  }

  /** A field as it arrived: a string, an id this sender defined, or `undefined` for an unknown id. */
  resolve(x: unknown): unknown {
    return typeof x === 'number' ? this.#strings[x] : x
  }
}

/** Strings interned per peer, at most: enough for the agent types, message types and busy agents. */
export const DICTIONARY_MAX = 4096

/**
 * Ids whose last 8 characters vary per message (trace and span ids: a fixed per-process head and a
 * counter) travel as `[head, tail]` so that the head can be interned.
 */
export const SPLIT_AT = 8
