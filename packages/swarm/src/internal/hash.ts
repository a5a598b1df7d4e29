/**
 * MurmurHash3 (x86, 32-bit) over the UTF-16 code units of a string. Fast, well mixed, and stable
 * across processes and Node versions: placement depends on it.
 *
 * WARNING: changing this function (or its seed use) changes where EVERY agent lives. A cluster
 * whose nodes run different versions of it would disagree on placement and bounce messages.
 * Treat it as a wire format.
 */
export function murmur3(key: string, seed = 0): number {
  let h = seed >>> 0
  const len = key.length
  let i = 0
  // Two UTF-16 units per 32-bit block.
  for (; i + 1 < len; i += 2) {
    let k = (key.charCodeAt(i) | (key.charCodeAt(i + 1) << 16)) >>> 0
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
    h = (h << 13) | (h >>> 19)
    h = (Math.imul(h, 5) + 0xe6546b64) | 0
  }
  if (i < len) {
    let k = key.charCodeAt(i)
    k = Math.imul(k, 0xcc9e2d51)
    k = (k << 15) | (k >>> 17)
    k = Math.imul(k, 0x1b873593)
    h ^= k
  }
  h ^= len
  return fmix32(h)
}

/** MurmurHash3's finalizer: a bijective avalanche of 32 bits. */
export function fmix32(x: number): number {
  let h = x | 0
  h ^= h >>> 16
  h = Math.imul(h, 0x85ebca6b)
  h ^= h >>> 13
  h = Math.imul(h, 0xc2b2ae35)
  h ^= h >>> 16
  return h >>> 0
}
