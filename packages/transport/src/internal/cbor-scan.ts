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
 * Items still expected per open container (the innermost in a local). Definite counts are at most
 * the item budget (under `2^30`); an indefinite container (ended by a break) starts at
 * {@link INDEFINITE}, which no frame can count down to the definite range, so the hot path
 * decrements without asking which kind it is.
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
  const s = stack
  const end = b.length
  let pos = 0
  let depth = 0
  // Items are counted where containers open (their announced count), so that the items themselves
  // cost one decrement of `left` each; an indefinite container's are counted where it closes.
  let budget = Math.min(maxItems, MAX_DEFINITE) - 1
  // Items still expected in the innermost open container (the outer ones' wait in `s`). The top
  // level is a container of one item.
  let left = 1
  walk: while (pos < end) {
    const head = b[pos] as number
    const kind = KIND[head] as number
    if (kind === Kind.leaf) {
      // Integers, floats, simple values: the bulk of a data frame (flags, sequence numbers).
      pos += HEAD[head] as number
      left--
    } else if (kind === Kind.string) {
      const size = HEAD[head] as number
      // Past the end (or NaN) ends the walk.
      pos += size + (size === 1 ? head & 31 : size === 2 ? (b[pos + 1] as number) : argument(b, pos, size))
      left--
    } else if (kind === Kind.brk) {
      // A break closes the innermost indefinite container (anything else: the decoder's to reject).
      if (depth === 0 || left <= MAX_DEFINITE) break walk
      if ((budget -= INDEFINITE - left) < 0) return ScanResult.tooManyItems
      pos++
      left = s[--depth] as number
    } else if (kind === Kind.other) {
      break walk
    } else {
      // Arrays and maps (two items per entry); a tag wraps one item, and nests like a container
      // (cbor-x recurses into it).
      const size = HEAD[head] as number
      const info = head & 31
      const arg = kind === Kind.tag ? 1 : info === 31 ? INDEFINITE : size === 1 ? info : argument(b, pos, size)
      pos += size
      left--
      if (arg !== 0) {
        if (depth >= maxDepth) return ScanResult.tooDeep
        s[depth++] = left
        if (arg === INDEFINITE) left = INDEFINITE
        else {
          // NaN (past the end) and counts beyond any frame are over any budget.
          const count = kind === Kind.map ? arg * 2 : arg
          if (!(count <= budget)) return ScanResult.tooManyItems
          budget -= count
          left = count
        }
      }
    }
    // Close every definite container that is now full.
    while (left === 0) {
      if (depth === 0) return ScanResult.ok
      left = s[--depth] as number
    }
  }
  // The walk stopped early (truncated or odd input, for the decoder to reject): the decoder may
  // still build the items of the open indefinite containers before it finds out, so count them.
  s[depth] = left
  for (let d = 1; d <= depth; d++) {
    const open = s[d] as number
    if (open > MAX_DEFINITE && (budget -= INDEFINITE - open) < 0) return ScanResult.tooManyItems
  }
  return ScanResult.ok
}
