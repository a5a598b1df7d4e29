import { acceptNewer } from './fifo.js'

/**
 * Monotonic ("latest wins") per key: a message older than one already delivered for its key is
 * stale and dropped. Versions are the lane's best-effort sequence numbers, which grow per lane and
 * so per key (a key stays on one lane). Memory is one number per key seen, bounded by `maxKeys`
 * (the oldest entries are forgotten first; a forgotten key accepts its next message).
 */
export class LatestWins {
  readonly #versions = new Map<string, number>()
  constructor(readonly maxKeys = 100_000) {}

  accept(key: string, version: number): boolean {
    const last = this.#versions.get(key)
    if (last !== undefined && !acceptNewer(last, version)) return false
    if (last !== undefined) this.#versions.delete(key)
    this.#versions.set(key, version)
    if (this.#versions.size > this.maxKeys) {
      const oldest = this.#versions.keys().next().value
      if (oldest !== undefined) this.#versions.delete(oldest)
    }
    return true
  }
}
