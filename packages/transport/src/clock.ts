/**
 * Time as the transport (and the cluster above it) sees it. Real processes use {@link systemClock};
 * the memory transport's seeded scheduler supplies a virtual one, so a whole cluster's history is
 * a pure function of its seed. Nothing in the transport may call `setTimeout`, `Date.now` or
 * `setImmediate` directly.
 */
export interface Clock {
  /** Milliseconds, monotonic. */
  now(): number
  setTimeout(fn: () => void, ms: number): TimerHandle
  clearTimeout(handle: TimerHandle): void
  /** Run `fn` after the current turn (after pending I/O callbacks): where coalesced writes flush. */
  defer(fn: () => void): void
  /**
   * A number in [0, 1). Optional: the memory network's clock supplies a seeded one so that jitter
   * (backoff, probe choice) is part of the deterministic history; fall back to `Math.random`.
   */
  random?(): number
  /**
   * Milliseconds on a clock that keeps growing across restarts of a process (the wall clock; the
   * memory network's virtual time). Optional: incarnations are drawn from it, so that a restarted
   * node's is larger than its predecessor's and peers can tell which of two is the newer.
   */
  wallTime?(): number
}

export interface TimerHandle {
  readonly __timer: unknown
}

export const systemClock: Clock = {
  now: () => performance.now(),
  wallTime: () => Date.now(),
  setTimeout: (fn, ms) => {
    const t = setTimeout(fn, ms)
    t.unref?.()
    return { __timer: t }
  },
  clearTimeout: (h) => clearTimeout(h.__timer as ReturnType<typeof setTimeout>),
  defer: (fn) => {
    setImmediate(fn)
  },
}
