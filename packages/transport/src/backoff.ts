export interface ReconnectOptions {
  /** First retry after about this many ms. */
  readonly initialDelay?: number
  /** Retries never wait longer. */
  readonly maxDelay?: number
  /** A peer whose control lane stayed down this long is declared gone (`peer-down`). */
  readonly giveUpAfter?: number
}

export const defaultReconnect: Required<ReconnectOptions> = { initialDelay: 50, maxDelay: 5_000, giveUpAfter: 30_000 }

/**
 * Exponential backoff with "equal jitter": half the delay is fixed, half random, so two nodes that
 * lost each other at once do not retry in lockstep, and the delay still grows.
 */
export function backoffDelay(attempt: number, options: Required<ReconnectOptions>, random: () => number): number {
  const ceiling = Math.min(options.maxDelay, options.initialDelay * 2 ** Math.min(attempt, 30))
  return ceiling / 2 + (random() * ceiling) / 2
}
