import type { Envelope, Guarantee, SerializedError } from '@murmur/actor-core'
import type { MembershipMessage } from '../membership.js'
import type { DirectoryEntry } from '../directory.js'
import type { Counters } from './fifo-order.js'

/** The control channel: membership, directory gossip, anti-entropy. */
export const CONTROL = 'control'

/** An agent's state on the move. */
export interface Moving {
  readonly type: string
  readonly id: string
  readonly version: number
  readonly placement: string
  readonly input: unknown
  /** `undefined` for a fresh activation (spawn), else what `snapshot()` returned. */
  readonly state: unknown
  readonly restored: boolean
  /** Messages that were in the agent's mailbox, not yet handled, in order. */
  readonly pending: readonly Envelope[]
  /** Where each sender's numbered stream stands (see `fifo-order.ts`); absent for a fresh start. */
  readonly counters?: Counters
}

/**
 * Everything swarm nodes say to each other. Short keys: these ride on every message.
 * - `m`: membership (SWIM), `d`: directory entries, `ae`/`aer`: anti-entropy digest and answer;
 * - an envelope travels as a flat array instead (see {@link packEnvelope});
 * - `a`: activate an agent here (a remote spawn, or a handoff with its state), `aa` its answer.
 */
export type Wire =
  | { readonly k: 'm'; readonly m: MembershipMessage }
  | { readonly k: 'd'; readonly e: readonly DirectoryEntry[] }
  | { readonly k: 'ae'; readonly d: readonly number[] }
  | { readonly k: 'aer'; readonly e: readonly DirectoryEntry[]; readonly b: readonly number[] }
  | { readonly k: 'a'; readonly c: number; readonly a: Moving }
  | { readonly k: 'aa'; readonly c: number; readonly error?: SerializedError }

export function isWire(x: unknown): x is Wire {
  return typeof x === 'object' && x !== null && typeof (x as { k?: unknown }).k === 'string'
}

const KINDS = ['tell', 'ask', 'reply', 'fail'] as const

/**
 * An envelope as routing carries it: `o` the node that first sent it, `h` how often it was
 * forwarded; fifo messages also carry `s`, their number in the stream from `o` (incarnation `oi`)
 * to their agent.
 */
export interface Routed {
  readonly e: Envelope
  readonly o: string
  readonly h: number
  readonly s?: number
  readonly oi?: number
}

/**
 * An envelope on the wire: a flat array, trailing absent fields cut, and no guarantee (the
 * transport carries it with every message). About half the bytes of the object form, which
 * matters: every remote tell pays for it.
 * Layout: `[kind, toType, toId, type, payload, origin, hops, seq, originIncarnation,
 * correlationId, replyTo, fromType, fromId, traceId, spanId, parentSpanId]`.
 */
export function packEnvelope(r: Routed): unknown[] {
  const { e } = r
  const a: unknown[] = [
    KINDS.indexOf(e.kind), e.to.type, e.to.id, e.type, e.payload, r.o, r.h, r.s ?? null, r.oi ?? null,
    e.correlationId ?? null, e.replyTo ?? null, e.from?.type ?? null, e.from?.id ?? null,
    e.trace?.traceId ?? null, e.trace?.spanId ?? null, e.trace?.parentSpanId ?? null,
  ]
  while (a.length > 7 && a[a.length - 1] === null) a.pop()
  return a
}

const str = (x: unknown): x is string => typeof x === 'string'
const opt = (x: unknown): x is string | null | undefined => x === null || x === undefined || typeof x === 'string'

/** The inverse of {@link packEnvelope}; `undefined` for anything malformed (never throws). */
export function unpackEnvelope(a: unknown, guarantee: readonly Guarantee[]): Routed | undefined {
  if (!Array.isArray(a) || a.length < 7) return undefined
  // Indexed reads and fields set one by one (no destructuring, no conditional spreads): this runs
  // for every envelope a node receives.
  const kind: unknown = a[0], toType: unknown = a[1], toId: unknown = a[2], type: unknown = a[3], o: unknown = a[5], h: unknown = a[6]
  const k = typeof kind === 'number' ? KINDS[kind] : undefined
  if (k === undefined || !str(toType) || !str(toId) || !str(type) || !str(o) || typeof h !== 'number') return undefined
  const seq: unknown = a[7], oi: unknown = a[8], corr: unknown = a[9], replyTo: unknown = a[10], fromType: unknown = a[11]
  const fromId: unknown = a[12], traceId: unknown = a[13], spanId: unknown = a[14], parentSpanId: unknown = a[15]
  if (!opt(corr) || !opt(replyTo) || !opt(fromType) || !opt(fromId) || !opt(traceId) || !opt(spanId) || !opt(parentSpanId)) return undefined
  const e: { -readonly [K in keyof Envelope]: Envelope[K] } = { kind: k, to: { type: toType, id: toId }, type, payload: a[4], guarantee }
  if (str(fromType) && str(fromId)) e.from = { type: fromType, id: fromId }
  if (str(corr)) e.correlationId = corr
  if (str(replyTo)) e.replyTo = replyTo
  if (str(traceId) && str(spanId)) e.trace = str(parentSpanId) ? { traceId, spanId, parentSpanId } : { traceId, spanId }
  return typeof seq === 'number' && typeof oi === 'number' ? { e, o, h, s: seq, oi } : { e, o, h }
}
