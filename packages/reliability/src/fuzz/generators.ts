import type { Prng } from '@murmur/swarm'
import { encode, Flag, FrameType, PROTOCOL_VERSION } from './wire.js'

/** The kinds of bad (or odd) frames the fuzzer makes; the counts per kind go in the report. */
export const FRAME_KINDS = [
  'mutated',
  'random-bytes',
  'truncated',
  'spliced',
  'oversized',
  'oversized-handshake',
  'deep-nesting',
  'deep-payload',
  'many-items',
  'huge-length',
  'random-cbor',
  'bad-shape',
] as const
export type FrameKind = (typeof FRAME_KINDS)[number]

export interface GeneratedFrame {
  readonly kind: FrameKind
  readonly bytes: Uint8Array
}

export interface GeneratorInit {
  /** Valid frames of a real session, to mutate. */
  readonly corpus: readonly Uint8Array[]
  /** The target's maximum frame size: `oversized` frames are just over it. */
  readonly maxFrameSize: number
  /** The target's limit before the handshake (default 4 KiB): `oversized-handshake` frames are HELLOs between the two. */
  readonly maxHandshakeFrameSize?: number
  /** The target's item limit: `many-items` frames hold up to twice as many (within `maxFrameSize`). */
  readonly maxFrameItems: number
}

function randomBytes(rng: Prng, n: number): Uint8Array {
  const out = new Uint8Array(n)
  for (let i = 0; i < n; i++) out[i] = rng.int(256)
  return out
}

/** Bit flips, byte overwrites, inserts, deletes and repeated runs, 1 to 8 of them. */
function mutate(rng: Prng, src: Uint8Array): Uint8Array {
  let b: Uint8Array = src.slice()
  const n = 1 + rng.int(8)
  for (let k = 0; k < n; k++) {
    const at = b.length === 0 ? 0 : rng.int(b.length)
    switch (rng.int(6)) {
      case 0:
        if (b.length > 0) b[at] = (b[at] as number) ^ (1 << rng.int(8))
        break
      case 1:
        if (b.length > 0) b[at] = rng.pick([0x00, 0x17, 0x18, 0x1b, 0x1f, 0x7f, 0x80, 0x9f, 0xbf, 0xd8, 0xd9, 0xf6, 0xf7, 0xff, rng.int(256)]) as number
        break
      case 2: {
        const ins = randomBytes(rng, 1 + rng.int(4))
        b = concat(b.subarray(0, at), ins, b.subarray(at))
        break
      }
      case 3:
        b = concat(b.subarray(0, at), b.subarray(Math.min(b.length, at + 1 + rng.int(4))))
        break
      case 4: {
        const len = Math.min(b.length - at, 1 + rng.int(16))
        b = concat(b.subarray(0, at + len), b.subarray(at, at + len), b.subarray(at + len))
        break
      }
      default: {
        // A CBOR integer head widened to its largest form: huge counts, seqs, acks.
        if (b.length > 0) b[at] = ((b[at] as number) & 0xe0) | 0x1b
      }
    }
  }
  return b
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

/** `depth` nested one-element arrays (or maps, or tags) around a small value. */
function deepNesting(rng: Prng, depth: number): Uint8Array {
  const head = rng.pick([0x81, 0xa1, 0xc6]) as number
  const out = new Uint8Array(head === 0xa1 ? depth * 2 + 1 : depth + 1)
  let at = 0
  for (let i = 0; i < depth; i++) {
    out[at++] = head
    if (head === 0xa1) out[at++] = 0x01 // map key 1, value: the next level
  }
  out[at] = 0x01
  return out
}

/** A well-formed HELLO, padded (a long address) to `size` bytes: only its size is wrong. */
function bigHello(rng: Prng, size: number): Uint8Array {
  const frame = (address: string) => encode([FrameType.hello, PROTOCOL_VERSION, 'fuzz', `anon-big-${rng.int(1e9)}`, 1, address, 'control', 0, randomBytes(rng, 16)])
  return frame('a'.repeat(Math.max(0, size - frame('').byteLength)))
}

/** A reliable data message whose payload is `depth` nested arrays (or maps, or tags). */
function deepPayload(rng: Prng, depth: number): Uint8Array {
  const inner = deepNesting(rng, depth)
  return concat(new Uint8Array([0x86, FrameType.data, 0x00, Flag.reliable, 0x19, rng.int(256), rng.int(256), 0xf6]), inner)
}

/** A data message whose payload is an array of `n` one-byte integers: many items, few bytes. */
function manyItems(rng: Prng, n: number): Uint8Array {
  const head = concat(new Uint8Array([0x86, FrameType.data, 0x00, Flag.bestEffort, 0x01, 0xf6, 0x9a]), new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]))
  return concat(head, new Uint8Array(n).fill(rng.int(24)))
}

/** A container or string head announcing far more items or bytes than follow. */
function hugeLength(rng: Prng): Uint8Array {
  const major = rng.pick([0x40, 0x60, 0x80, 0xa0]) as number
  const widths: Array<[number, number]> = [
    [0x1a, 4],
    [0x1b, 8],
  ]
  const [info, bytes] = rng.pick(widths) as [number, number]
  const out = new Uint8Array(3 + bytes + rng.int(8))
  out[0] = 0x82 // an array of 2: a frame type, then the huge thing
  out[1] = rng.int(7)
  out[2] = major | info
  for (let i = 0; i < bytes; i++) out[3 + i] = i === 0 ? 0x7f : 0xff
  return out
}

function randomValue(rng: Prng, depth: number): unknown {
  switch (depth > 3 ? rng.int(6) : rng.int(9)) {
    case 0:
      return rng.int(2 ** 31) * (rng.next() < 0.5 ? -1 : 1)
    case 1:
      return rng.next() * 1e6
    case 2:
      return 'x'.repeat(rng.int(40))
    case 3:
      return randomBytes(rng, rng.int(64))
    case 4:
      return rng.pick([null, undefined, true, false, Number.MAX_SAFE_INTEGER, -1, 2 ** 53 + 2, NaN])
    case 5:
      return rng.int(10)
    case 6:
      return Array.from({ length: rng.int(6) }, () => randomValue(rng, depth + 1))
    case 7:
      return Object.fromEntries(Array.from({ length: rng.int(5) }, (_, i) => [`k${i}`, randomValue(rng, depth + 1)]))
    default:
      return new Map([[randomValue(rng, depth + 1), randomValue(rng, depth + 1)]])
  }
}

/** Arrays that start with a real frame type but carry wrong fields: the parsers' edge cases. */
function badShape(rng: Prng): Uint8Array {
  const small = (): unknown => rng.pick([0, 1, 2, -1, 2 ** 32, 2 ** 53, 1.5, 'x', null, new Uint8Array(3)])
  const flags = (): number => rng.int(256)
  switch (rng.int(7)) {
    case 0:
      return encode([FrameType.data, small(), flags(), small(), rng.pick([null, 'k', 3]), randomValue(rng, 0)])
    case 1:
      // Plausible data: reliable messages with sequence numbers far ahead (held back) or behind.
      return encode([FrameType.data, 0, Flag.reliable | Flag.fifo, 1 + rng.int(1000), null, randomValue(rng, 2)])
    case 2:
      return encode([FrameType.data, 0, Flag.reliable | Flag.causal, 1 + rng.int(50), null, 1, ['g', rng.pick([{}, { a: -1 }, [1, 2], 'x', { b: 1e9 }])]])
    case 3:
      return encode([FrameType.chunk, rng.int(5), rng.int(5), rng.pick([0, 1, 2, 300, 2 ** 31]), rng.pick([new Uint8Array(10), 'x', null])])
    case 4:
      return encode([FrameType.ping, small()])
    case 5:
      if (rng.next() < 0.5) return encode([FrameType.ack, rng.pick(['default', 'control', 'nope', 3]), small(), small(), ...(rng.next() < 0.5 ? ['default', 0, small()] : [])])
      return encode([rng.pick([FrameType.hello, FrameType.welcome, FrameType.proof, FrameType.reject]), ...Array.from({ length: rng.int(10) }, small)])
    default:
      return encode([FrameType.data, rng.pick([0, 2 ** 40, -5, 'a'])])
  }
}

/**
 * A seeded source of bad frames: mostly mutations of real frames (where parsers are most likely to
 * slip), plus random bytes, truncations, splices, oversized frames (over the frame limit, and
 * HELLOs over the pre-handshake limit), deeply nested CBOR (bare, and as a message's payload),
 * frames of many items, huge length heads, random CBOR values and frames of the right type with
 * the wrong fields.
 *
 * @example
 * const next = frameGenerator(prng(1), { corpus: await captureSession(), maxFrameSize: 65536, maxFrameItems: 16384 })
 * const { kind, bytes } = next()
 */
export function frameGenerator(rng: Prng, init: GeneratorInit): () => GeneratedFrame {
  const corpus = init.corpus.length > 0 ? init.corpus : [encode([FrameType.ping, 0])]
  const pickFrame = (): Uint8Array => corpus[rng.int(corpus.length)] as Uint8Array
  return () => {
    const r = rng.int(1000)
    if (r < 450) return { kind: 'mutated', bytes: mutate(rng, pickFrame()) }
    if (r < 550) return { kind: 'random-bytes', bytes: randomBytes(rng, rng.int(rng.next() < 0.9 ? 64 : 4096)) }
    if (r < 650) {
      const f = pickFrame()
      return { kind: 'truncated', bytes: f.subarray(0, rng.int(Math.max(1, f.length))) }
    }
    if (r < 700) {
      const a = pickFrame()
      const b = pickFrame()
      return { kind: 'spliced', bytes: concat(a.subarray(0, rng.int(a.length + 1)), b.subarray(rng.int(b.length + 1))) }
    }
    if (r < 702) return { kind: 'oversized', bytes: new Uint8Array(init.maxFrameSize + 1 + rng.int(1024)).fill(0x81) }
    if (r < 706) return { kind: 'deep-nesting', bytes: deepNesting(rng, rng.next() < 0.1 ? 50_000 : (rng.pick([64, 500, 5000]) as number)) }
    if (r < 712) {
      const low = (init.maxHandshakeFrameSize ?? 4096) + 1
      return { kind: 'oversized-handshake', bytes: bigHello(rng, low + rng.int(Math.max(1, Math.min(init.maxFrameSize, 4 * low) - low))) }
    }
    if (r < 718) return { kind: 'deep-payload', bytes: deepPayload(rng, rng.pick([100, 300, 5000, 20_000]) as number) }
    if (r < 722) {
      const n = Math.min(init.maxFrameSize - 32, init.maxFrameItems * (1 + rng.next()))
      return { kind: 'many-items', bytes: manyItems(rng, Math.floor(n)) }
    }
    if (r < 750) return { kind: 'huge-length', bytes: hugeLength(rng) }
    if (r < 850) return { kind: 'random-cbor', bytes: encode(randomValue(rng, 0)) }
    return { kind: 'bad-shape', bytes: badShape(rng) }
  }
}
