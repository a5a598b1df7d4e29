import { check, type Violation } from './checker.js'
import { digest, traceOf } from './history.js'
import { runTransportScenario, type TransportScenarioOptions } from './transport-scenario.js'
import { runAtomicScenario, type AtomicScenarioOptions } from './atomic-scenario.js'

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
