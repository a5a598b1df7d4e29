import type { Effect, Input, Machine, NodeId } from './internal/sim/machine.js'

/**
 * A replicated map (a state-based CRDT) for `gossip` state: every replica reads and writes locally;
 * replicas converge by exchanging deltas, whatever the order, the repetitions or the grouping of the
 * exchanges, because {@link merge} is commutative, associative and idempotent.
 *
 * Values are last-writer-wins registers ordered by a hybrid logical clock (wall time, counter, node
 * id as the final tiebreak). Key presence is either `lww` (a remove is a timestamped tombstone that
 * competes with puts) or `add-wins` (an observed-remove set of put tags: a remove cancels only the
 * puts it has seen, so a put concurrent with a remove survives).
 */
export type Semantics = 'lww' | 'add-wins'

/** Hybrid logical clock timestamp. */
export interface Hlc {
  readonly wall: number
  readonly counter: number
  readonly node: NodeId
}

export interface LwwEntry {
  readonly ts: Hlc
  readonly deleted: boolean
  readonly value?: unknown
}

export interface AddWinsEntry {
  /** Live put tags (an HLC, as a string) → the value written and its timestamp. */
  readonly adds: Readonly<Record<string, { readonly value: unknown; readonly ts: Hlc }>>
  /** Tags removed so far (kept as tombstones, so that a late copy of the put stays removed). */
  readonly removed: readonly string[]
}

export type Entry = LwwEntry | AddWinsEntry

export interface CrdtMapState {
  readonly semantics: Semantics
  /** The highest timestamp issued or seen here. */
  readonly clock: Hlc
  readonly entries: Readonly<Record<string, Entry>>
}

/** A piece of state to ship: the entries that changed. Merging it is merging a (partial) state. */
export type Delta = Readonly<Record<string, Entry>>

/**
 * What anti-entropy compares: keys hashed into {@link DIGEST_BUCKETS} buckets, one fingerprint per
 * non-empty bucket, so replicas in sync exchange a few hundred bytes however large the map is, and
 * replicas out of sync exchange only the entries of the buckets that differ.
 */
export type Digest = Readonly<Record<number, string>>

export const DIGEST_BUCKETS = 64

export type Change = { readonly type: 'change'; readonly key: string; readonly value: unknown; readonly deleted: boolean }

const ZERO: Hlc = { wall: 0, counter: 0, node: '' }

export function compareHlc(a: Hlc, b: Hlc): number {
  return a.wall - b.wall || a.counter - b.counter || (a.node < b.node ? -1 : a.node > b.node ? 1 : 0)
}

const maxHlc = (a: Hlc, b: Hlc): Hlc => (compareHlc(a, b) >= 0 ? a : b)
const tagOf = (ts: Hlc): string => `${ts.wall}.${ts.counter}.${ts.node}`

/** The next local timestamp: after everything seen, and after the wall clock. */
function nextHlc(clock: Hlc, now: number, self: NodeId): Hlc {
  const wall = Math.max(Math.floor(now), clock.wall)
  return { wall, counter: wall === clock.wall ? clock.counter + 1 : 0, node: self }
}

const isLww = (e: Entry): e is LwwEntry => 'ts' in e

/** An empty replica. */
export function emptyMap(semantics: Semantics = 'lww'): CrdtMapState {
  return { semantics, clock: ZERO, entries: {} }
}

function mergeEntry(a: Entry, b: Entry): Entry {
  if (isLww(a) && isLww(b)) return compareHlc(a.ts, b.ts) >= 0 ? a : b
  if (isLww(a) || isLww(b)) throw new TypeError('cannot merge lww and add-wins entries')
  const removed = [...new Set([...a.removed, ...b.removed])].sort()
  const gone = new Set(removed)
  const adds: Record<string, { value: unknown; ts: Hlc }> = {}
  for (const [tag, add] of [...Object.entries(a.adds), ...Object.entries(b.adds)]) if (!gone.has(tag)) adds[tag] = add
  return { adds: Object.fromEntries(Object.entries(adds).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0))), removed }
}

/** What a reader sees for an entry: its value, or absence. */
function visible(e: Entry | undefined): { present: boolean; value: unknown } {
  if (e === undefined) return { present: false, value: undefined }
  if (isLww(e)) return { present: !e.deleted, value: e.deleted ? undefined : e.value }
  let best: { value: unknown; ts: Hlc } | undefined
  for (const add of Object.values(e.adds)) if (best === undefined || compareHlc(add.ts, best.ts) > 0) best = add
  return best === undefined ? { present: false, value: undefined } : { present: true, value: best.value }
}

const highestTs = (e: Entry): Hlc => (isLww(e) ? e.ts : Object.values(e.adds).reduce((m, a) => maxHlc(m, a.ts), ZERO))

/**
 * Joins a delta (or a whole state's entries) into a state. Pure; the join of a join-semilattice.
 * `changes` lists the keys whose visible value changed.
 */
export function mergeDelta(state: CrdtMapState, delta: Delta): { state: CrdtMapState; changes: Change[] } {
  const entries: Record<string, Entry> = { ...state.entries }
  let clock = state.clock
  const changes: Change[] = []
  for (const [key, incoming] of Object.entries(delta)) {
    const before = entries[key]
    // Merging with an empty entry puts an add-wins entry in canonical form (sorted, removed tags dropped).
    const after = mergeEntry(before ?? (isLww(incoming) ? incoming : { adds: {}, removed: [] }), incoming)
    entries[key] = after
    clock = maxHlc(clock, highestTs(incoming))
    const [v0, v1] = [visible(before), visible(after)]
    if (v0.present !== v1.present || v0.value !== v1.value) changes.push({ type: 'change', key, value: v1.value, deleted: !v1.present })
  }
  return { state: { ...state, clock, entries }, changes }
}

/** Merges two replicas. Commutative, associative, idempotent (tested with random operation orders). */
export function merge(a: CrdtMapState, b: CrdtMapState): CrdtMapState {
  if (a.semantics !== b.semantics) throw new TypeError(`cannot merge a ${a.semantics} map with a ${b.semantics} map`)
  return mergeDelta(a, b.entries).state
}

/** Writes `value` at `key`. Returns the new state and the delta to ship to other replicas. */
export function put(state: CrdtMapState, key: string, value: unknown, self: NodeId, now: number): { state: CrdtMapState; delta: Delta } {
  const ts = nextHlc(state.clock, now, self)
  const entry: Entry = state.semantics === 'lww' ? { ts, deleted: false, value } : { adds: { [tagOf(ts)]: { value, ts } }, removed: [] }
  const delta = { [key]: entry }
  return { state: { ...mergeDelta(state, delta).state, clock: ts }, delta }
}

/** Removes `key`: a tombstone under `lww`; under `add-wins`, cancels the puts this replica has seen. */
export function remove(state: CrdtMapState, key: string, self: NodeId, now: number): { state: CrdtMapState; delta: Delta } {
  const ts = nextHlc(state.clock, now, self)
  const current = state.entries[key]
  const entry: Entry =
    state.semantics === 'lww'
      ? { ts, deleted: true }
      : { adds: {}, removed: current === undefined || isLww(current) ? [] : Object.keys(current.adds) }
  const delta = { [key]: entry }
  return { state: { ...mergeDelta(state, delta).state, clock: ts }, delta }
}

/** The wall time of a put tag (`tagOf`). */
const wallOfTag = (tag: string): number => Number(tag.slice(0, tag.indexOf('.')))

/**
 * Drops the tombstones written more than `grace` ms before `now` (by their timestamp's wall time):
 * an `lww` entry removed that long ago, and `add-wins` removed tags that old; an entry left with
 * nothing goes. Without this a map that sees keys come and go grows for ever. The price, as in
 * Cassandra's `gc_grace_seconds`: a replica cut off for longer than `grace` that still holds a
 * removed key brings it back when it returns. Every replica collects by the same rule, so their
 * digests agree again once each has passed the same point.
 */
export function collectTombstones(state: CrdtMapState, now: number, grace: number): CrdtMapState {
  const before = now - grace
  let entries: Record<string, Entry> | undefined
  for (const [key, e] of Object.entries(state.entries)) {
    let next: Entry | undefined = e
    if (isLww(e)) {
      if (e.deleted && e.ts.wall < before) next = undefined
    } else if (e.removed.some((tag) => wallOfTag(tag) < before)) {
      const removed = e.removed.filter((tag) => wallOfTag(tag) >= before)
      next = removed.length === 0 && Object.keys(e.adds).length === 0 ? undefined : { adds: e.adds, removed }
    }
    if (next === e) continue
    entries ??= { ...state.entries }
    if (next === undefined) delete entries[key]
    else entries[key] = next
  }
  return entries === undefined ? state : { ...state, entries }
}

export function get(state: CrdtMapState, key: string): unknown {
  return visible(state.entries[key]).value
}

export function has(state: CrdtMapState, key: string): boolean {
  return visible(state.entries[key]).present
}

/** The visible contents, keys sorted. */
export function toObject(state: CrdtMapState): Record<string, unknown> {
  const out: Record<string, unknown> = {}
  for (const key of Object.keys(state.entries).sort()) {
    const v = visible(state.entries[key])
    if (v.present) out[key] = v.value
  }
  return out
}

function fnv(s: string, seed: number): string {
  let h = seed >>> 0
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return h.toString(36)
}

function fingerprint(e: Entry): string {
  if (isLww(e)) return `${tagOf(e.ts)}${e.deleted ? '-' : '+'}`
  const s = `${Object.keys(e.adds).join(',')}|${e.removed.join(',')}`
  return fnv(s, 0x811c9dc5) + fnv(s, 0x01234567)
}

const bucketOf = (key: string): number => parseInt(fnv(key, 0x9747b28c), 36) % DIGEST_BUCKETS

export function digest(state: CrdtMapState): Digest {
  const parts = new Map<number, string[]>()
  for (const key of Object.keys(state.entries).sort()) {
    const b = bucketOf(key)
    const list = parts.get(b) ?? []
    list.push(`${key}=${fingerprint(state.entries[key] as Entry)}`)
    parts.set(b, list)
  }
  const out: Record<number, string> = {}
  for (const [b, list] of parts) {
    const joined = list.join(';')
    out[b] = fnv(joined, 0x811c9dc5) + fnv(joined, 0x01234567)
  }
  return out
}

/**
 * The entries of every bucket whose fingerprint differs from `theirs`: a superset of what the
 * other replica lacks or holds in another version (merging settles which wins).
 */
export function deltaFor(state: CrdtMapState, theirs: Digest): Delta {
  const mine = digest(state)
  const out: Record<string, Entry> = {}
  for (const [key, e] of Object.entries(state.entries)) {
    const b = bucketOf(key)
    if (theirs[b] !== mine[b]) out[key] = e
  }
  return out
}

// ---- the replication machine ----

export interface CrdtMapOptions {
  readonly semantics?: Semantics
  /** Anti-entropy period, ms. Default 1000. */
  readonly interval?: number
  /** Peers a local change is pushed to at once. Default 3. */
  readonly fanout?: number
  /** How long a tombstone is kept, ms (see {@link collectTombstones}). Default 24 h. */
  readonly tombstoneGrace?: number
}

export type CrdtMapMsg =
  /** Anti-entropy, step 1: "here is what I hold". */
  | { readonly t: 'digest'; readonly digest: Digest }
  /** Step 2: what the asker lacks, and what the answerer holds. */
  | { readonly t: 'sync'; readonly delta: Delta; readonly digest: Digest }
  /** A pushed change, or step 3: what the answerer lacks. */
  | { readonly t: 'delta'; readonly delta: Delta }

export type CrdtMapRequest = { readonly type: 'put'; readonly key: string; readonly value: unknown } | { readonly type: 'remove'; readonly key: string }

export interface CrdtReplica {
  readonly map: CrdtMapState
  readonly peers: readonly NodeId[]
}

export const CRDT_TICK = 'crdt:tick'
type Eff = Effect<CrdtMapMsg, Change>
const changed = (changes: Change[]): Eff[] => changes.map((event) => ({ type: 'emit', event }))

/**
 * The replica as a machine: `app` put/remove (applied locally, pushed to `fanout` random peers);
 * a tick every `interval` starts a digest exchange with a random peer; `peer-up` / `peer-down`
 * maintain the peer list. Emits a {@link Change} for each visible change, local or merged.
 *
 * @example
 * const m = crdtMapMachine({ semantics: 'add-wins' })
 * let { state } = m.init(ctx, undefined)
 * ;({ state } = m.step(state, { type: 'app', req: { type: 'put', key: 'k', value: 1 } }, ctx))
 * get(state.map, 'k') // 1
 */
export function crdtMapMachine(options: CrdtMapOptions = {}): Machine<CrdtReplica, CrdtMapMsg, CrdtMapRequest, Change> {
  const interval = options.interval ?? 1000
  const fanout = options.fanout ?? 3
  const grace = options.tombstoneGrace ?? 24 * 3600_000
  return {
    init: (ctx) => ({
      state: { map: emptyMap(options.semantics), peers: [] },
      effects: [{ type: 'set-timer', name: CRDT_TICK, after: 1 + ctx.rng.int(interval) }],
    }),
    step(state, input: Input<CrdtMapMsg, CrdtMapRequest>, ctx) {
      switch (input.type) {
        case 'app': {
          const before = state.map
          const r = input.req.type === 'put' ? put(before, input.req.key, input.req.value, ctx.self, ctx.now) : remove(before, input.req.key, ctx.self, ctx.now)
          const { changes } = mergeDelta(before, r.delta)
          const pushes: Eff[] = ctx.rng.sample(state.peers, fanout).map((to) => ({ type: 'send', to, msg: { t: 'delta', delta: r.delta } }))
          return { state: { ...state, map: r.state }, effects: [...changed(changes), ...pushes] }
        }
        case 'recv': {
          const msg = input.msg
          if (msg.t === 'digest') {
            return { state, effects: [{ type: 'send', to: input.from, msg: { t: 'sync', delta: deltaFor(state.map, msg.digest), digest: digest(state.map) } }] }
          }
          const merged = mergeDelta(state.map, msg.delta)
          const fx = changed(merged.changes)
          // A tombstone this replica already collected, sent by one that has not yet: dropped again.
          const map = collectTombstones(merged.state, ctx.now, grace)
          if (msg.t === 'sync') {
            const back = deltaFor(map, msg.digest)
            if (Object.keys(back).length > 0) fx.push({ type: 'send', to: input.from, msg: { t: 'delta', delta: back } })
          }
          return { state: { ...state, map }, effects: fx }
        }
        case 'timer': {
          const fx: Eff[] = [{ type: 'set-timer', name: CRDT_TICK, after: interval }]
          const map = collectTombstones(state.map, ctx.now, grace)
          const peer = ctx.rng.pick(state.peers)
          if (input.name === CRDT_TICK && peer !== undefined) fx.push({ type: 'send', to: peer, msg: { t: 'digest', digest: digest(map) } })
          return { state: map === state.map ? state : { ...state, map }, effects: fx }
        }
        case 'peer-up':
          return { state: state.peers.includes(input.peer) ? state : { ...state, peers: [...state.peers, input.peer] }, effects: [] }
        case 'peer-down':
          return { state: { ...state, peers: state.peers.filter((p) => p !== input.peer) }, effects: [] }
      }
    },
  }
}
