import { deriveSeed, prng, type Prng } from '@murmur/swarm'
import type { LinkFaults } from '@murmur/transport'

/** One thing the fault plan does at virtual time `at`. */
export type FaultAction =
  | { readonly at: number; readonly do: 'partition'; readonly sides: readonly [readonly string[], readonly string[]]; readonly mode: 'drop' | 'disconnect'; readonly until: number }
  | { readonly at: number; readonly do: 'crash'; readonly node: string; readonly restartAt: number }
  | { readonly at: number; readonly do: 'link-faults'; readonly a: string; readonly b: string; readonly faults: LinkFaults }
  | { readonly at: number; readonly do: 'join'; readonly node: string }
  | { readonly at: number; readonly do: 'leave'; readonly node: string }

export interface FaultPlan {
  /** Nodes at the start. */
  readonly initial: readonly string[]
  /** Every node that ever runs. */
  readonly all: readonly string[]
  readonly defaultFaults: LinkFaults
  readonly actions: readonly FaultAction[]
  /** Virtual ms of faults; then everything heals. */
  readonly duration: number
}

function faults(rng: Prng): LinkFaults {
  return { drop: rng.next() * 0.3, duplicate: rng.next() * 0.1, reorder: rng.next() * 0.2, reorderWindow: 1 + rng.int(20), delay: [0, rng.int(15)] }
}

/**
 * A random fault schedule, a pure function of the seed: link faults (loss up to 30%,
 * duplication, reordering, delays), partitions that heal, crashes with restarts, one join and
 * sometimes one leave.
 *
 * @example
 * planFaults(42, 4, 6000).actions // the same list on every call with seed 42
 */
export type FaultKind = 'crash' | 'partition' | 'join' | 'leave'

export function planFaults(seed: number, nodes: number, duration: number, without: readonly FaultKind[] = []): FaultPlan {
  const rng = prng(deriveSeed(seed, 'plan'))
  const names = Array.from({ length: nodes + 1 }, (_, i) => `n${i}`)
  const initial = names.slice(0, nodes)
  const actions: FaultAction[] = []
  const joiner = names[nodes] as string
  const joinAt = Math.round(duration * (0.1 + 0.5 * rng.next()))
  actions.push({ at: joinAt, do: 'join', node: joiner })
  const leaver = rng.next() < 0.3 ? (rng.pick(initial.slice(1)) as string) : undefined
  const leaveAt = Math.round(duration * (0.5 + 0.4 * rng.next()))
  if (leaver) actions.push({ at: leaveAt, do: 'leave', node: leaver })
  for (let at = 100 + rng.int(300); at < duration - 200; at += 150 + rng.int(700)) {
    const present = names.filter((n) => (initial.includes(n) || (n === joiner && at > joinAt)) && !(n === leaver && at >= leaveAt))
    const r = rng.next()
    if (r < 0.35) {
      const shuffled = rng.shuffle(present)
      const cut = 1 + rng.int(Math.max(1, shuffled.length - 1))
      const until = Math.min(duration, at + 100 + rng.int(1500))
      actions.push({ at, do: 'partition', sides: [shuffled.slice(0, cut), shuffled.slice(cut)], mode: rng.next() < 0.5 ? 'drop' : 'disconnect', until })
    } else if (r < 0.65) {
      const node = rng.pick(present) as string
      actions.push({ at, do: 'crash', node, restartAt: Math.min(duration, at + 50 + rng.int(1500)) })
    } else {
      const [a, b] = rng.sample(present, 2)
      if (a !== undefined && b !== undefined) actions.push({ at, do: 'link-faults', a, b, faults: faults(rng) })
    }
  }
  actions.sort((x, y) => x.at - y.at)
  const kept = actions.filter((a) => !(without as readonly string[]).includes(a.do))
  return { initial, all: names, defaultFaults: faults(rng), actions: kept, duration }
}
