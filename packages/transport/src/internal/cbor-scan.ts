/**
 * A walk over the heads of a CBOR item, before it is decoded: how deep its containers nest and
 * how many data items it holds. cbor-x decodes recursively, so a few kilobytes of nested arrays
 * (`0x81 0x81 …`) overflow the stack, and a depth it survives still reaches the application
 * (which may recurse over it too); and each item, one byte on the wire, becomes a JavaScript value
 * of tens of bytes. The walk is iterative and allocates nothing: one read per head, strings and
 * byte strings skipped by their length.
 *
 * It judges only depth and count. Anything else odd (truncation, reserved heads, indefinite
 * strings) ends the walk with `ok` and is left to the decoder, which rejects it.
 */
export const ScanResult = { ok: 0, tooDeep: 1, tooManyItems: 2 } as const
export type ScanResult = (typeof ScanResult)[keyof typeof ScanResult]

/**
 * Items still expected per open container. Definite counts are clamped under `2^30`; an indefinite
 * container (ended by a break) starts at {@link INDEFINITE}, which no item budget can count down
 * to zero, so the hot path decrements without asking which kind it is.
 */
let stack = new Int32Array(64)
const INDEFINITE = 0x7fffffff
const MAX_DEFINITE = 0x3fffffff

/** What an initial byte starts, for the walk. */
const Kind = { leaf: 0, string: 1, array: 2, map: 3, tag: 4, brk: 5, other: 6 } as const
const KIND = new Uint8Array(256)
/** Bytes of the head an initial byte starts (the byte and its argument). */
const HEAD = new Uint8Array(256)
for (let h = 0; h < 256; h++) {
  const major = h >> 5
  const info = h & 31
  HEAD[h] = info < 24 ? 1 : info < 28 ? 1 + (1 << (info - 24)) : 1
  if (h === 0xff) KIND[h] = Kind.brk
  else if (info >= 28 && (info < 31 || major < 2 || major === 6)) KIND[h] = Kind.other
  else if (major === 2 || major === 3) KIND[h] = info === 31 ? Kind.other : Kind.string
  else KIND[h] = major === 4 ? Kind.array : major === 5 ? Kind.map : major === 6 ? Kind.tag : Kind.leaf
}

/** The head's argument: `size - 1` bytes after `pos`, big-endian (NaN past the end). */
function argument(b: Uint8Array, pos: number, size: number): number {
  let v = 0
  for (let i = 1; i < size; i++) v = v * 256 + (b[pos + i] as number)
  return v
}

export function scanCbor(b: Uint8Array, maxDepth: number, maxItems: number): ScanResult {
  if (stack.length < maxDepth + 2) stack = new Int32Array(maxDepth + 2)
  if (maxItems > MAX_DEFINITE) maxItems = MAX_DEFINITE
  const s = stack
  const end = b.length
  let pos = 0
  let depth = 0
  let budget = maxItems
  // The top level is a container of one item.
  s[0] = 1
  while (pos < end) {
    const head = b[pos] as number
    const kind = KIND[head] as number
    // A break is no data item.
    if (--budget < 0 && kind !== Kind.brk) return ScanResult.tooManyItems
    if (kind === Kind.leaf) {
      // Integers, floats, simple values: the bulk of a data frame (flags, sequence numbers).
      pos += HEAD[head] as number
      ;(s[depth] as number)--
    } else if (kind === Kind.string) {
      const size = HEAD[head] as number
      // Past the end (or NaN) ends the walk.
      pos += size + (size === 1 ? head & 31 : size === 2 ? (b[pos + 1] as number) : argument(b, pos, size))
      ;(s[depth] as number)--
    } else if (kind === Kind.brk) {
      // A break closes the innermost indefinite container (anything else: the decoder's to reject).
      if (depth === 0 || (s[depth] as number) <= MAX_DEFINITE) return ScanResult.ok
      budget++
      pos++
      depth--
    } else if (kind === Kind.other) {
      return ScanResult.ok
    } else {
      // Arrays and maps (two items per entry); a tag wraps one item, and nests like a container
      // (cbor-x recurses into it).
      const size = HEAD[head] as number
      const info = head & 31
      const arg = kind === Kind.tag ? 1 : info === 31 ? INDEFINITE : size === 1 ? info : argument(b, pos, size)
      pos += size
      ;(s[depth] as number)--
      const count = arg === INDEFINITE || kind !== Kind.map ? arg : arg * 2
      if (count !== 0) {
        if (++depth > maxDepth) return ScanResult.tooDeep
        // Counts beyond any frame (or NaN, past the end) are clamped: the decoder rejects them for want of bytes.
        s[depth] = count === INDEFINITE ? INDEFINITE : count > MAX_DEFINITE || count !== count ? MAX_DEFINITE : count
      }
    }
    // Close every definite container that is now full.
    while (s[depth] === 0) {
      if (depth === 0) return ScanResult.ok
      depth--
    }
  }
  return ScanResult.ok
}
