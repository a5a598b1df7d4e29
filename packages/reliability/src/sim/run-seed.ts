import { check, TOLERATED, type Violation } from './checker.js'
import { digest, traceOf } from './history.js'
import { runTransportScenario, type TransportScenarioOptions } from './transport-scenario.js'
import { runAtomicScenario, type AtomicScenarioOptions } from './atomic-scenario.js'
import { runSwarmScenario, type SwarmScenarioOptions } from './swarm-scenario.js'

export interface SeedResult {
  readonly seed: number
  readonly violations: readonly Violation[]
  /** Digest of the whole history: a replay of the seed must print the same. */
  readonly digest: string
  readonly stats: Readonly<Record<string, number>>
  readonly ms: number
  /** A short trace around the first violation (faults, and the events of the messages involved). */
  readonly trace: readonly string[]
}

export type SeedOptions = Omit<TransportScenarioOptions, 'seed'> & { readonly breakAtomic?: AtomicScenarioOptions['breakMechanism'] }

/**
 * Runs one seed: the transport cluster scenario and the atomic broadcast scenario, both from the
 * same seed, and checks their histories.
 *
 * @example
 * const r = await runSeed(42, { nodes: 4 })
 * r.violations.length === 0
 */
export async function runSeed(seed: number, options: SeedOptions = {}): Promise<SeedResult> {
  const started = Date.now()
  const transport = await runTransportScenario({ ...options, seed })
  const atomic = runAtomicScenario({ seed, members: Math.max(3, (options.nodes ?? 4) + 1), ...(options.duration !== undefined ? { duration: options.duration } : {}), ...(options.breakAtomic ? { breakMechanism: options.breakAtomic } : {}) })
  const violations = [...check(transport.events), ...check(atomic.events)]
  const first = violations[0]
  return {
    seed,
    violations,
    digest: `${digest(transport.events)}-${digest(atomic.events)}`,
    stats: { ...transport.stats, atomicDelivered: atomic.delivered },
    ms: Date.now() - started,
    trace: first === undefined ? [] : traceOf(first.rule.startsWith('atomic') ? atomic.events : transport.events, first.ids),
  }
}

export type SwarmSeedOptions = Omit<SwarmScenarioOptions, 'seed'>

/**
 * Runs one seed of the whole-cluster simulation (Swarm nodes with agents under the seed's faults,
 * see {@link runSwarmScenario}) and checks its history.
 *
 * @example
 * const r = await runSwarmSeed(42)
 * r.violations.filter((v) => v.rule === 'reliable-duplicate') // []
 */
export async function runSwarmSeed(seed: number, options: SwarmSeedOptions = {}): Promise<SeedResult> {
  const started = Date.now()
  const run = await runSwarmScenario({ ...options, seed })
  const violations = check(run.events)
  const first = violations.find((v) => !TOLERATED.has(v.rule)) ?? violations[0]
  return { seed, violations, digest: digest(run.events), stats: run.stats, ms: Date.now() - started, trace: first === undefined ? [] : traceOf(run.events, first.ids, 60, swarmFaultsAbout(first.ids)) }
}

/**
 * The swarm scenario records what nodes observe as `fault` lines named `<node>@<n>: …`: keep the
 * plan's faults, members going down or leaving, and observations about the agents (`ag7`) or nodes
 * the violation names.
 */
function swarmFaultsAbout(ids: readonly string[]): (what: string) => boolean {
  const names = new Set(ids.flatMap((id) => [id.match(/>([^#]+)#/)?.[1] ?? id, id.split('@')[0] ?? id]))
  return (what) => {
    const observation = /^\S+@\d+: (.*)$/.exec(what)
    if (observation === null) return true
    const about = observation[1] as string
    return /member-down|member-left/.test(about) || about.split(/[ ()#>]/).some((word) => names.has(word))
  }
}
