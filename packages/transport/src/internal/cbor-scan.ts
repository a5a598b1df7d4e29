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

/** Reads the head's argument at `pos` (after the initial byte) of `size` bytes; NaN past the end. */
function argument(b: Uint8Array, pos: number, size: number): number {
  let v = 0
  for (let i = 1; i <= size; i++) v = v * 256 + (b[pos + i] as number)
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
    if (--budget < 0) return ScanResult.tooManyItems
    const major = head >> 5
    const info = head & 31
    if (major === 0 || (major === 1 && info < 24)) {
      // Integers: the bulk of a data frame (flags, sequence numbers).
      pos += info < 24 ? 1 : info === 24 ? 2 : info === 25 ? 3 : info === 26 ? 5 : 9
      ;(s[depth] as number)--
    } else if (head === 0xff) {
      // A break closes the innermost indefinite container (anything else: the decoder's to reject).
      if (depth === 0 || (s[depth] as number) <= MAX_DEFINITE) return ScanResult.ok
      pos++
      depth--
    } else {
      let arg: number
      if (info < 24) {
        arg = info
        pos += 1
      } else if (info < 28) {
        const size = 1 << (info - 24)
        arg = argument(b, pos, size)
        pos += 1 + size
      } else if (info === 31) {
        arg = -1
        pos += 1
      } else return ScanResult.ok
      ;(s[depth] as number)--
      if (major === 2 || major === 3) {
        // Past the end (or NaN) ends the walk; an indefinite string is the decoder's to reject.
        if (arg === -1) return ScanResult.ok
        pos += arg
      } else if (major >= 4 && major <= 6) {
        // Maps hold two items per entry; a tag wraps one (and nests like a container: cbor-x recurses).
        const count = major === 6 ? 1 : arg === -1 ? INDEFINITE : major === 5 ? arg * 2 : arg
        if (count !== 0) {
          if (++depth > maxDepth) return ScanResult.tooDeep
          // Counts beyond any frame (or NaN, past the end) are clamped: the decoder rejects them for want of bytes.
          s[depth] = count === INDEFINITE ? INDEFINITE : count > MAX_DEFINITE || count !== count ? MAX_DEFINITE : count
        }
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
