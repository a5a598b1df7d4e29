/**
 * The reliable stream of one lane: sequence numbers from 1, cumulative acks, go-back-N
 * retransmission (the receiver holds out-of-order arrivals back, so resending a window costs
 * bandwidth, never a duplicate delivery), de-duplication at the receiver.
 *
 * Storage is a flat array with a stride of {@link STRIDE} (`flags, seq, key, payload, extra`), so
 * `send` allocates nothing per message and an ack drops a run of entries by moving one index.
 * Once a message is written, its payload slot may hold the frame's bytes instead (`SentFrame`).
 */
import { payloadOf } from './internal/sent-frame.js'

export const STRIDE = 5

export interface ReliableOut {
  /** Sequence number the next message gets. */
  nextSeq: number
  /** Highest sequence number the peer acknowledged (cumulatively). */
  acked: number
  /** Highest sequence number handed to a link since the last rewind. */
  sent: number
  /** Entries for `acked + 1 … nextSeq - 1`, from `head`. */
  readonly buf: unknown[]
  head: number
}

export function reliableOut(): ReliableOut {
  return { nextSeq: 1, acked: 0, sent: 0, buf: [], head: 0 }
}

export function push(out: ReliableOut, flags: number, key: string | null, payload: unknown, extra: unknown): number {
  const seq = out.nextSeq++
  out.buf.push(flags, seq, key, payload, extra)
  return seq
}

/** Index in `buf` of the entry with sequence number `seq` (which must be unacked). */
export function offsetOf(out: ReliableOut, seq: number): number {
  return out.head + (seq - out.acked - 1) * STRIDE
}

export function unackedCount(out: ReliableOut): number {
  return out.nextSeq - 1 - out.acked
}

/**
 * Apply a cumulative ack. Returns how many messages it newly acknowledged; an ack for a sequence
 * number never sent is a protocol violation (`-1`), an old ack is `0`.
 */
export function ack(out: ReliableOut, upTo: number): number {
  if (upTo > out.nextSeq - 1) return -1
  if (upTo <= out.acked) return 0
  const n = upTo - out.acked
  out.head += n * STRIDE
  out.acked = upTo
  if (out.sent < upTo) out.sent = upTo
  // Compact once the dead prefix dominates, so the array does not grow for ever.
  if (out.head > 4096 && out.head * 2 > out.buf.length) {
    out.buf.splice(0, out.head)
    out.head = 0
  }
  return n
}

/** After a timeout or on a new link: everything unacked goes out again. */
export function rewind(out: ReliableOut): number {
  const resent = out.sent - out.acked
  out.sent = out.acked
  return resent
}

/** The unacked entries as `[flags, key, payload, extra]` quadruples (for `peer-down`), payloads as the application gave them or decoded back from their frame. */
export function unackedEntries(out: ReliableOut): Array<[number, string | null, unknown, unknown]> {
  const result: Array<[number, string | null, unknown, unknown]> = []
  for (let i = out.head; i < out.buf.length; i += STRIDE) {
    result.push([out.buf[i] as number, out.buf[i + 2] as string | null, payloadOf(out.buf[i + 3], out.buf[i + 1] as number), out.buf[i + 4]])
  }
  return result
}

export interface ReliableIn {
  /** Next sequence number to deliver; `next - 1` is the cumulative ack. */
  next: number
  /** Arrivals ahead of `next`, held back until the gap fills: `[flags, key, payload, extra]`. */
  readonly held: Map<number, [number, string | null, unknown, unknown]>
}

export function reliableIn(): ReliableIn {
  return { next: 1, held: new Map() }
}

/** What to do with an arriving reliable message. */
export type Arrival = 'deliver' | 'duplicate' | 'hold'

export function classify(inb: ReliableIn, seq: number): Arrival {
  if (seq < inb.next) return 'duplicate'
  if (seq === inb.next) return 'deliver'
  return inb.held.has(seq) ? 'duplicate' : 'hold'
}
