/**
 * Partition detection, as pure functions of what membership says. A member is *unreachable* when
 * this node declared it dead without it leaving; it stays so until it comes back (a heal) or is
 * forgotten. From one side, a crashed node and a node cut off by the network look the same until
 * the network heals: both are "the other side". The swarm emits `partition` when the other side
 * becomes non-empty or changes, and `heal` when members of the other side come back and it is
 * empty again.
 */

/** The two sides as this node sees them, ids sorted. */
export interface PartitionView {
  /** Live members (alive or suspect), this node included. */
  readonly reachable: readonly string[]
  /** Members declared dead that did not leave. */
  readonly unreachable: readonly string[]
}

/** What membership tells about one member, as far as partitions go. */
export interface MemberStatusLike {
  readonly id: string
  readonly status: 'alive' | 'suspect' | 'dead' | 'left'
}

const sorted = (ids: Iterable<string>): string[] => [...ids].sort()

/**
 * The sides now. `remembered` are members once seen that are no longer in the list (membership
 * forgets tombstones after a while; an unreachable member must not silently become "not a member").
 *
 * @example
 * partitionView([{ id: 'a', status: 'alive' }, { id: 'c', status: 'dead' }]) // { reachable: ['a'], unreachable: ['c'] }
 */
export function partitionView(members: readonly MemberStatusLike[], remembered: ReadonlySet<string> = new Set()): PartitionView {
  const reachable = new Set<string>()
  const unreachable = new Set<string>(remembered)
  for (const m of members) {
    if (m.status === 'alive' || m.status === 'suspect') {
      reachable.add(m.id)
      unreachable.delete(m.id)
    } else if (m.status === 'dead') unreachable.add(m.id)
    else unreachable.delete(m.id)
  }
  return { reachable: sorted(reachable), unreachable: sorted(unreachable) }
}

/**
 * What changed between two views: `heal` when members of the other side came back (the view may
 * still list others, e.g. a node that crashed for good), `partition` when members became
 * unreachable, both when both happened, or nothing.
 */
export interface PartitionChange {
  /** Members that came back. */
  readonly rejoined: readonly string[]
  /** Members that became unreachable. */
  readonly lost: readonly string[]
  readonly view: PartitionView
}

/**
 * @example
 * partitionChange(before, after) // { rejoined: ['c', 'd'], lost: [], view }
 */
export function partitionChange(before: PartitionView, after: PartitionView): PartitionChange {
  return {
    rejoined: before.unreachable.filter((id) => after.reachable.includes(id)),
    lost: after.unreachable.filter((id) => !before.unreachable.includes(id)),
    view: after,
  }
}

/**
 * Whether this side may host agents that must stay single: a strict majority of the members it
 * knows (reachable + unreachable), or exactly half when it holds the lowest id of them all (so
 * that of two equal halves exactly one qualifies, the same one from both sides).
 *
 * @example
 * hasQuorum({ reachable: ['a', 'b'], unreachable: ['c', 'd'] }) // true: half, with the lowest id
 * hasQuorum({ reachable: ['c', 'd'], unreachable: ['a', 'b'] }) // false
 */
export function hasQuorum(view: PartitionView): boolean {
  const total = view.reachable.length + view.unreachable.length
  if (2 * view.reachable.length > total) return true
  if (2 * view.reachable.length < total) return false
  const lowest = sorted([...view.reachable, ...view.unreachable])[0]
  return lowest !== undefined && view.reachable.includes(lowest)
}

/**
 * The coordinator of a group on this side: the lowest id among the reachable `candidates` (the
 * nodes that host a member of the group), or among all reachable nodes when none does. Every node
 * of one side computes the same answer once their views agree.
 *
 * @example
 * coordinatorOf({ reachable: ['a', 'b', 'c'], unreachable: [] }, ['c', 'b']) // 'b'
 */
export function coordinatorOf(view: PartitionView, candidates: Iterable<string> = []): string | undefined {
  const among = sorted(new Set([...candidates].filter((id) => view.reachable.includes(id))))
  return among[0] ?? view.reachable[0]
}
