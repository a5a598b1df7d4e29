import { Encoder } from 'cbor-x'
import { FrameTooDeep, FrameTooLarge, FrameTooManyItems, MalformedFrame } from './errors.js'
import { ScanResult, scanCbor } from './internal/cbor-scan.js'

/**
 * The wire format. Every frame is one CBOR array whose first element is its type. A data frame
 * carries many messages as a flat run of tuples (`flags, seq, key, payload[, causal]`), so a turn's
 * worth of messages costs one `encode` and one `decode`, with no per-message envelope object.
 *
 * The encoder uses cbor-x records (object shapes defined once per frame, referenced after): on
 * 1000 small object payloads that measured 1.74 M msg/s encode+decode against 1.35 M with
 * `useRecords: false`. Shapes are not shared across frames (`sequential`/shared structures),
 * because frames may be lost, duplicated or reordered by faults and each must decode alone.
 */
export const FrameType = {
  hello: 0,
  welcome: 1,
  proof: 2,
  reject: 3,
  data: 4,
  ping: 5,
  chunk: 6,
  /** Acks of data lanes, carried on the control lane: `[7, channel, lane, ack, …]`. */
  ack: 7,
} as const

/**
 * Protocol version announced in the handshake; a peer with another one is refused. 2: the
 * handshake carries session claims (epoch, claim) in WELCOME and PROOF.
 */
export const PROTOCOL_VERSION = 2

/** Guarantee bits of a message's `flags`. */
export const Flag = {
  bestEffort: 1,
  reliable: 2,
  fifo: 4,
  causal: 8,
  monotonic: 16,
  broadcast: 32,
  atomic: 64,
  gossip: 128,
  /**
   * Not a guarantee: the message was larger than `maxMessageSize` and went without its payload,
   * so that its sequence number (and causal count) still reach the peer and the messages after it
   * flow; the receiver advances past it and counts it, and delivers nothing.
   */
  tooLarge: 256,
} as const

const encoder = new Encoder({})

export function encodeFrame(frame: readonly unknown[]): Uint8Array {
  return encoder.encode(frame)
}

/** How deep and how big a decoded frame may be (see {@link decodeFrame}). */
export interface StructureLimits {
  /** Containers (arrays, maps, tags) nested deeper than this: `FrameTooDeep`. */
  readonly maxDepth: number
  /** More CBOR data items than this in one frame: `FrameTooManyItems`. */
  readonly maxItems: number
}

/**
 * 256 levels leave room for about a hundred levels of nested objects in a payload (cbor-x records
 * take two: a tag and an array), far below the ~4,000 at which cbor-x's recursion overflows the
 * stack. 2^20 items is what a 1 MiB frame can hold at most anyway: the bound matters for chunked
 * frames (up to `maxMessageSize`), where each one-byte item would become a value of tens of bytes.
 */
export const defaultStructureLimits: StructureLimits = { maxDepth: 256, maxItems: 1 << 20 }

/**
 * Size check first, then a walk over the CBOR heads (depth and item count, before any value is
 * built), then a guarded decode, then a shape check: what comes back is an array whose first
 * element is a known frame type. Anything else is a typed error, never an exception from deep
 * inside the decoder.
 */
export function decodeFrame(data: Uint8Array, maxFrameSize: number, limits: StructureLimits = defaultStructureLimits): unknown[] {
  if (data.byteLength > maxFrameSize) {
    throw new FrameTooLarge(`frame of ${data.byteLength} bytes exceeds ${maxFrameSize}`, { size: data.byteLength, max: maxFrameSize })
  }
  const scan = scanCbor(data, limits.maxDepth, limits.maxItems)
  if (scan === ScanResult.tooDeep) {
    throw new FrameTooDeep(`frame nests containers deeper than ${limits.maxDepth}`, { size: data.byteLength, max: limits.maxDepth })
  }
  if (scan === ScanResult.tooManyItems) {
    throw new FrameTooManyItems(`frame holds more than ${limits.maxItems} items`, { size: data.byteLength, max: limits.maxItems })
  }
  let value: unknown
  try {
    value = encoder.decode(data)
  } catch (cause) {
    throw new MalformedFrame('frame is not valid CBOR', { size: data.byteLength }, { cause })
  }
  if (!Array.isArray(value) || typeof value[0] !== 'number' || !Number.isInteger(value[0]) || value[0] < 0 || value[0] > FrameType.ack) {
    throw new MalformedFrame('frame is not a known frame type')
  }
  return value
}

/**
 * Decodes a frame this node encoded itself and kept for retransmission (see
 * `internal/sent-frame.ts`): it came from the encoder, not from a peer, so there are no limits to
 * enforce, and a payload the peer would refuse (too deep) must not make the resend throw here.
 */
export function decodeOwnFrame(data: Uint8Array): unknown[] {
  return encoder.decode(data) as unknown[]
}

/**
 * The encoded size of a decoded value: what holding it back costs, for the byte budget of held
 * messages. Only messages that are held pay for it. A value that will not encode counts as big.
 */
export function encodedSize(value: unknown): number {
  try {
    return encoder.encode(value).byteLength
  } catch {
    return 1 << 20
  }
}

export function isBytes(v: unknown): v is Uint8Array {
  return v instanceof Uint8Array
}

export function isUint(v: unknown): v is number {
  return typeof v === 'number' && Number.isInteger(v) && v >= 0
}

/** Throws `MalformedFrame` unless `cond`; used by every frame parser. */
export function expect(cond: boolean, what: string): asserts cond {
  if (!cond) throw new MalformedFrame(`malformed frame: ${what}`)
}
