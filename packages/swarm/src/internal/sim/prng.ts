/**
 * A seeded pseudo-random generator (sfc32 seeded through splitmix32). Every protocol machine draws
 * its randomness from one of these, passed in its context, so a run is a pure function of the seed.
 */
export interface Prng {
  /** Uniform in [0, 1). */
  next(): number
  /** Uniform integer in [0, n). */
  int(n: number): number
  /** A uniformly chosen element, or undefined for an empty list. */
  pick<T>(items: readonly T[]): T | undefined
  /** Up to `k` distinct elements, uniformly chosen, in random order. */
  sample<T>(items: readonly T[], k: number): T[]
  /** A shuffled copy. */
  shuffle<T>(items: readonly T[]): T[]
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0
  return () => {
    s = (s + 0x9e3779b9) >>> 0
    let z = s
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0
    return (z ^ (z >>> 16)) >>> 0
  }
}

/**
 * @example
 * const rng = prng(42)
 * rng.int(10) // the same figure on every run with seed 42
 */
export function prng(seed: number): Prng {
  const init = splitmix32(seed)
  let a = init(), b = init(), c = init(), d = init()
  const u32 = (): number => {
    a >>>= 0; b >>>= 0; c >>>= 0; d >>>= 0
    const t = (a + b + d) >>> 0
    d = (d + 1) >>> 0
    a = b ^ (b >>> 9)
    b = (c + (c << 3)) >>> 0
    c = ((c << 21) | (c >>> 11)) >>> 0
    c = (c + t) >>> 0
    return t
  }
  const next = (): number => u32() / 4294967296
  const int = (n: number): number => Math.floor(next() * n)
  const shuffle = <T>(items: readonly T[]): T[] => {
    const out = items.slice()
    for (let i = out.length - 1; i > 0; i--) {
      const j = int(i + 1)
      const tmp = out[i] as T
      out[i] = out[j] as T
      out[j] = tmp
    }
    return out
  }
  return {
    next,
    int,
    pick: (items) => (items.length === 0 ? undefined : items[int(items.length)]),
    sample: (items, k) => (k >= items.length ? shuffle(items) : shuffle(items).slice(0, Math.max(0, k))),
    shuffle,
  }
}

/** A child seed derived from a parent seed and a label, so each node gets its own stream. */
export function deriveSeed(seed: number, label: string | number): number {
  let h = (seed ^ 0x811c9dc5) >>> 0
  const s = String(label)
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  return splitmix32(h)()
}
