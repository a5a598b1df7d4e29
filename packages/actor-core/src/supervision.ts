/**
 * When an agent is restarted: `never` (it stops on failure), `on-failure` (restarted when a
 * handler or hook throws), `always` (also restarted after it stops itself with `this.stop()`; the
 * cluster also reads it to restart agents lost with a crashed node).
 */
export type RestartPolicy = 'never' | 'on-failure' | 'always'

/** How a parent's children are restarted: only the failing one, or all of them together. */
export type SupervisionStrategy = 'one-for-one' | 'all-for-one'

/** Exponential backoff between restarts: `initial * factor^(n-1)` ms capped at `max`. */
export interface Backoff {
  readonly initial: number
  readonly max: number
  readonly factor: number
}

/**
 * Supervision of an agent class (`static supervision = { … }`) or of one spawn (`supervision`).
 *
 * @example
 * class Flaky extends Agent<typeof P> {
 *   static protocol = P
 *   static supervision = { restart: 'on-failure', maxRestarts: 3, within: 10_000, backoff: { initial: 50 } } as const
 * }
 */
export interface SupervisionOptions {
  readonly restart?: RestartPolicy
  /** Most restarts within `within` ms; one more and the agent stops. Default 10. */
  readonly maxRestarts?: number
  /** Window for `maxRestarts`, ms. Default 60 000. */
  readonly within?: number
  /** Default `{ initial: 0, max: 30_000, factor: 2 }`: immediate restarts. */
  readonly backoff?: Partial<Backoff>
  /** How this agent restarts its children; default `one-for-one`. */
  readonly strategy?: SupervisionStrategy
}

export interface Supervision {
  readonly restart: RestartPolicy
  readonly maxRestarts: number
  readonly within: number
  readonly backoff: Backoff
  readonly strategy: SupervisionStrategy
}

export const DEFAULT_SUPERVISION: Supervision = Object.freeze({
  restart: 'on-failure',
  maxRestarts: 10,
  within: 60_000,
  backoff: Object.freeze({ initial: 0, max: 30_000, factor: 2 }),
  strategy: 'one-for-one',
})

/** The class's policy overridden by the spawn's. */
export function resolveSupervision(...layers: (SupervisionOptions | undefined)[]): Supervision {
  let s = DEFAULT_SUPERVISION
  for (const o of layers) {
    if (o === undefined) continue
    s = {
      restart: o.restart ?? s.restart,
      maxRestarts: o.maxRestarts ?? s.maxRestarts,
      within: o.within ?? s.within,
      backoff: { ...s.backoff, ...o.backoff },
      strategy: o.strategy ?? s.strategy,
    }
  }
  return s
}

/** Why an agent's run ended. */
export type Exit = 'failure' | 'self-stop'

export type Decision =
  | { readonly action: 'restart'; readonly delay: number; readonly history: readonly number[] }
  | { readonly action: 'stop'; readonly reason: 'policy' | 'max-restarts' }

/**
 * Pure: what to do when an agent's run ends. `history` holds the times of its earlier restarts;
 * the returned history (on restart) is the one to keep.
 */
export function decide(policy: Supervision, exit: Exit, history: readonly number[], now: number): Decision {
  if (policy.restart === 'never') return { action: 'stop', reason: 'policy' }
  if (exit === 'self-stop' && policy.restart !== 'always') return { action: 'stop', reason: 'policy' }
  const recent = history.filter((t) => now - t < policy.within)
  if (recent.length >= policy.maxRestarts) return { action: 'stop', reason: 'max-restarts' }
  const { initial, factor, max } = policy.backoff
  const delay = Math.min(max, initial * factor ** recent.length)
  return { action: 'restart', delay, history: [...recent, now] }
}
