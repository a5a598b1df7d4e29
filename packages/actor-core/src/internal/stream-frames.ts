/**
 * The stream protocol as it rides on ordinary envelopes, so it crosses nodes through the same
 * router seam, lanes and `['reliable', 'fifo']` path as any tell:
 *
 * - every frame carries the stream id as `correlationId` and the sender's node as `replyTo`;
 * - sender → receiving agent, envelopes of type {@link STREAM_TYPE} (a `$` name no protocol may
 *   declare): `open` is an `ask` (so a cluster that finds no such agent answers it with a `fail`
 *   carrying `AgentNotFound`), then `item`s and a final `end` or `abort` as `tell`s, all numbered
 *   in one fifo sequence per sender node and agent; a `probe` (an `ask` too) when the receiver
 *   has been silent for a while (see {@link probeStep});
 * - receiver → sender, `reply` envelopes (routed to the sender's node like the reply of an ask):
 *   `grant` (cumulative credit), `done`, `cancel`, `ping` (a consumer waiting on a silent sender:
 *   answered by a `probe`, or by an `abort` from a node that no longer has the stream); and a
 *   `fail` envelope carrying the error that ended the stream.
 *
 * Payloads are short arrays, first element the frame kind. Everything here is pure.
 */
import type { Guarantee } from '../guarantee.js'

/**
 * Marks the base class's `onStream` (which refuses): a stream to an agent whose class does not
 * override it is refused when it opens, not failed in the agent's turn (which would count as a
 * handler failure and restart the agent).
 */
export const REFUSES_STREAMS: unique symbol = Symbol('murmur.refusesStreams')

/** The envelope type of every stream frame. */
export const STREAM_TYPE = '$stream'
/** Every stream frame travels reliable and in order. */
export const STREAM_GUARANTEE: readonly Guarantee[] = Object.freeze(['reliable', 'fifo'] as Guarantee[])

export const OPEN = 0
export const ITEM = 1
export const END = 2
export const ABORT = 3
export const GRANT = 4
export const DONE = 5
export const CANCEL = 6
export const PROBE = 7
export const PING = 8

/** Sender → receiver. */
export type Forward =
  | readonly [typeof OPEN, type: string, credit: number]
  | readonly [typeof ITEM, item: unknown, index: number]
  | readonly [typeof END, count: number]
  | readonly [typeof ABORT, reason: string]
  | readonly [typeof PROBE, sent: number]

/** Receiver → sender (`reply` envelopes; a `fail` envelope carries a SerializedError instead). */
export type Backward =
  | readonly [typeof GRANT, upTo: number]
  | readonly [typeof DONE, count: number]
  | readonly [typeof CANCEL, consumed: number]
  | readonly [typeof PING, received: number]

const isString = (x: unknown): x is string => typeof x === 'string'
const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= 0

/** A forward frame, or `undefined` when malformed (remote input: never throws). */
export function readForward(p: unknown): Forward | undefined {
  if (!Array.isArray(p)) return undefined
  switch (p[0]) {
    case OPEN: return isString(p[1]) && isCount(p[2]) ? (p as unknown as Forward) : undefined
    case ITEM: return isCount(p[2]) ? (p as unknown as Forward) : undefined
    case END: return isCount(p[1]) ? (p as unknown as Forward) : undefined
    case ABORT: return isString(p[1]) ? (p as unknown as Forward) : undefined
    case PROBE: return isCount(p[1]) ? (p as unknown as Forward) : undefined
    default: return undefined
  }
}

/** A backward frame, or `undefined` when malformed. */
export function readBackward(p: unknown): Backward | undefined {
  if (!Array.isArray(p) || !isCount(p[1])) return undefined
  return p[0] === GRANT || p[0] === DONE || p[0] === CANCEL || p[0] === PING ? (p as unknown as Backward) : undefined
}

/** The credit a receiver grants: what the sender asked, within 1 … max. */
export function clampCredit(asked: number, max: number): number {
  return Math.max(1, Math.min(max, Math.floor(asked)))
}

/**
 * After the receiver consumed item number `consumed`: the new cumulative grant (items with index
 * below it may be sent), or `undefined` to wait. Grants are batched: one per half window, so a
 * stream costs one credit message per `credit / 2` items, while the buffer never exceeds `credit`.
 */
export function nextGrant(consumed: number, granted: number, credit: number): number | undefined {
  const upTo = consumed + credit
  return upTo - granted >= Math.max(1, credit >> 1) ? upTo : undefined
}

/** How often a waiting sender probes a silent receiver, and after how much silence it gives up (ms). */
export interface ProbeTimings {
  readonly every: number
  readonly giveUpAfter: number
}

export const DEFAULT_PROBE: ProbeTimings = { every: 1000, giveUpAfter: 15_000 }

/**
 * What a sender waiting on its receiver (for credit, or for `done` after `end`) does after `silent`
 * ms without a frame from it. The receiver answers a probe with its current grant (or the outcome
 * of a stream it already closed), or with `StreamBroken` when it does not know the stream (its
 * node restarted, its agent moved): a lost grant or `done` (a session that ended under them) is so
 * repaired, and a receiver that is gone ends the stream. The same steps drive the receiver's
 * pings of a silent sender. Items missing for `giveUpAfter` while the sender says it sent them
 * are lost: the stream ends with `StreamBroken`.
 */
export function probeStep(silent: number, t: ProbeTimings): 'wait' | 'probe' | 'give-up' {
  if (silent >= t.giveUpAfter) return 'give-up'
  return silent >= t.every ? 'probe' : 'wait'
}
