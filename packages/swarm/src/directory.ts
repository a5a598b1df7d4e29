import { murmur3 } from './internal/hash.js'

/**
 * Where an agent lives. The directory maps `type/id` to the hosting node and a `version` that
 * grows with every move; entries spread by gossip (with each move) and anti-entropy (digest
 * exchange), and every node merges them with the same rule, so all converge on one home.
 */
export interface DirectoryEntry {
  /** Protocol name of the agent's class. */
  readonly type: string
  readonly id: string
  /** Node that hosts it (or hosted it last, for `stopped`). */
  readonly node: string
  /** Grows with every activation or move; the merge rule's first key. */
  readonly version: number
  /** `stopped`: the agent ended for good (a tombstone, so gossip cannot resurrect it). */
  readonly status: 'active' | 'stopped'
  /** Spawn-time placement, for strategies decided once (see `PlacementStrategy.rebalance`). */
  readonly placement?: string
  /** The spawn's `input`, so an agent restarted after a crash starts as it was spawned. */
  readonly input?: unknown
}

export type Directory = ReadonlyMap<string, DirectoryEntry>

/** The directory key of an agent. */
export function directoryKey(type: string, id: string): string {
  return `${type}\u0000${id}`
}

/**
 * The merge rule: higher `version` wins; on a tie the larger node id wins; on a tie again
 * `stopped` wins over `active`. Total and deterministic, so every node picks the same winner
 * whatever order entries arrive in (a concurrent double activation resolves the same way on all).
 * Returns > 0 when `a` wins, < 0 when `b` wins, 0 when they are the same.
 *
 * @example
 * compareEntries({ type: 'w', id: 'x', node: 'b', version: 2, status: 'active' },
 *                { type: 'w', id: 'x', node: 'a', version: 2, status: 'active' }) // > 0: 'b' > 'a'
 */
export function compareEntries(a: DirectoryEntry, b: DirectoryEntry): number {
  if (a.version !== b.version) return a.version - b.version
  if (a.node !== b.node) return a.node > b.node ? 1 : -1
  if (a.status !== b.status) return a.status === 'stopped' ? 1 : -1
  return 0
}

/**
 * Merge `incoming` into `directory`. Pure: returns the new directory and the entries that won
 * (what changed), leaving the input untouched.
 *
 * @example
 * const { directory, changed } = merge(dir, [{ type: 'worker', id: 'w-1', node: 'b', version: 3, status: 'active' }])
 */
export function merge(
  directory: Directory,
  incoming: Iterable<DirectoryEntry>,
): { directory: Directory; changed: DirectoryEntry[] } {
  const next = new Map(directory)
  return { directory: next, changed: mergeInto(next, incoming) }
}

/**
 * The same rule as {@link merge}, applied in place to `target` (a node's own directory: copying
 * ten thousand entries for every one that arrives made activations quadratic). Returns the entries
 * that won.
 */
export function mergeInto(target: Map<string, DirectoryEntry>, incoming: Iterable<DirectoryEntry>): DirectoryEntry[] {
  const changed: DirectoryEntry[] = []
  for (const e of incoming) {
    const key = directoryKey(e.type, e.id)
    const known = target.get(key)
    if (known === undefined || compareEntries(e, known) > 0) {
      target.set(key, e)
      changed.push(e)
    }
  }
  return changed
}

/** Default number of digest buckets: small enough to ship every round, fine enough to ship little. */
export const DIGEST_BUCKETS = 64

function entryHash(e: DirectoryEntry): number {
  return murmur3(`${e.type}\u0000${e.id}\u0000${e.node}\u0000${e.version}\u0000${e.status}`)
}

function bucketOf(e: DirectoryEntry, buckets: number): number {
  return murmur3(directoryKey(e.type, e.id), 0x5bd1e995) % buckets
}

/**
 * Anti-entropy digest: per bucket of keys, the XOR of the entry hashes. Two directories with the
 * same entries have the same digest; a differing bucket names the keys worth exchanging.
 *
 * @example
 * const buckets = differingBuckets(digest(mine), theirDigest)
 * send(peer, entriesIn(mine, buckets)) // only what may differ
 */
export function digest(directory: Directory, buckets = DIGEST_BUCKETS): number[] {
  const out = new Array<number>(buckets).fill(0)
  for (const e of directory.values()) {
    const b = bucketOf(e, buckets)
    out[b] = (out[b]! ^ entryHash(e)) >>> 0
  }
  return out
}

/** Buckets whose digests differ (a length mismatch means every bucket). */
export function differingBuckets(a: readonly number[], b: readonly number[]): number[] {
  if (a.length !== b.length) return Array.from({ length: Math.max(a.length, b.length) }, (_, i) => i)
  const out: number[] = []
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) out.push(i)
  return out
}

/** The entries of `directory` that fall in `buckets` (what to send a peer whose digest differs). */
export function entriesIn(directory: Directory, buckets: readonly number[], total = DIGEST_BUCKETS): DirectoryEntry[] {
  const wanted = new Set(buckets)
  return [...directory.values()].filter((e) => wanted.has(bucketOf(e, total)))
}
