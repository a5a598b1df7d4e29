import type { Envelope, Guarantee, SerializedError } from '@murmur/actor-core'
import type { MembershipMessage } from '../membership.js'
import type { DirectoryEntry } from '../directory.js'
import type { Counters } from './fifo-order.js'
import { SPLIT_AT } from './wire-dictionary.js'

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
 * - `a`: activate an agent here (a remote spawn, or a handoff with its state), `aa` its answer;
 * - `sd`/`sda`: string definitions for the envelope dictionary and their confirmation.
 */
export type Wire =
  | { readonly k: 'm'; readonly m: MembershipMessage }
  | { readonly k: 'd'; readonly e: readonly DirectoryEntry[] }
  | { readonly k: 'ae'; readonly d: readonly number[] }
  | { readonly k: 'aer'; readonly e: readonly DirectoryEntry[]; readonly b: readonly number[] }
  | { readonly k: 'a'; readonly c: number; readonly a: Moving }
  | { readonly k: 'aa'; readonly c: number; readonly error?: SerializedError }
  /** String definitions for the receiver's dictionary (`[id, string, …]`), and their confirmation. */
  | { readonly k: 'sd'; readonly d: readonly unknown[] }
  | { readonly k: 'sda'; readonly i: readonly unknown[] }

export function isWire(x: unknown): x is Wire {
  return typeof x === 'object' && x !== null && typeof (x as { k?: unknown }).k === 'string'
}

const KINDS = ['tell', 'ask', 'reply', 'fail'] as const

/** The address type of an asker outside any agent (actor-core's `answer`). */
const ASKER = '$asker'

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

/** Turns a string into its wire form (see `wire-dictionary.ts`); the identity when there is no dictionary. */
export interface Interner {
  ref(s: string): string | number
  /** `ref(s.slice(0, at))`, where a cache may spare the slice. */
  refHead(s: string, at: number): string | number
}

/** Turns a wire field back into what was sent; `undefined` for an id it does not know. */
export interface Resolver {
  resolve(x: unknown): unknown
}

/** No interning: every string travels as itself. */
export const inline: Interner & Resolver = { ref: (s) => s, refHead: (s, at) => s.slice(0, at), resolve: (x) => x }

/** Where an id's varying tail starts: trace and span ids end in an 8-digit counter, correlation ids after their last '-'. */
const traceSplit = (s: string): number => Math.max(0, s.length - SPLIT_AT)
const correlationSplit = (s: string): number => s.lastIndexOf('-') + 1

/**
 * An envelope on the wire: a flat array, trailing absent fields cut, no guarantee (the transport
 * carries it with every message), and the strings that repeat from message to message interned
 * (`dict`). Ids that vary per message (trace, span and correlation ids) travel as an interned head
 * and an inline tail.
 * Layout: `[kind, toType, toId, type, payload, origin, hops, traceHead, traceTail, spanHead,
 * spanTail, seq, originIncarnation, correlationHead, correlationTail, replyTo, fromType, fromId,
 * parentHead, parentTail]`: what most messages carry first, so that trailing absent fields can go.
 * A span tail equal to the trace tail (a trace a process starts: one counter for both) is omitted.
 */
export function packEnvelope(r: Routed, dict: Interner = inline): unknown[] {
  const { e } = r
  // A reply to an asker outside any agent is addressed by the ask's correlation id, which travels
  // anyway: `null` here, and never interned (a new string per ask would fill the dictionary).
  const toId = e.to.type === ASKER && e.to.id === e.correlationId ? null : dict.ref(e.to.id)
  const a: unknown[] = [KINDS.indexOf(e.kind), dict.ref(e.to.type), toId, dict.ref(e.type), e.payload, dict.ref(r.o), r.h]
  const trace = e.trace
  if (trace === undefined) a.push(null, null, null, null)
  else {
    const at = traceSplit(trace.traceId)
    const tail = trace.traceId.slice(at)
    const spanAt = traceSplit(trace.spanId)
    const spanTail = trace.spanId.slice(spanAt)
    a.push(dict.refHead(trace.traceId, at), tail, dict.refHead(trace.spanId, spanAt), spanTail === tail ? null : spanTail)
  }
  a.push(r.s ?? null, r.oi ?? null)
  pushSplit(a, e.correlationId, correlationSplit, dict)
  a.push(e.replyTo === undefined ? null : dict.ref(e.replyTo))
  if (e.from === undefined) a.push(null, null)
  else a.push(dict.ref(e.from.type), dict.ref(e.from.id))
  pushSplit(a, trace?.parentSpanId, traceSplit, dict)
  while (a.length > 7 && a[a.length - 1] === null) a.pop()
  return a
}

function pushSplit(a: unknown[], s: string | undefined, split: (s: string) => number, dict: Interner): void {
  if (s === undefined) {
    a.push(null, null)
    return
  }
  const at = split(s)
  a.push(dict.refHead(s, at), s.slice(at))
}

const str = (x: unknown): x is string => typeof x === 'string'

/**
 * A split id back together: `null` when absent, `undefined` when malformed (an unknown head id,
 * a tail that is not a string).
 */
function joined(head: unknown, tail: unknown, dict: Resolver): string | null | undefined {
  if ((head === null || head === undefined) && (tail === null || tail === undefined)) return null
  const h = dict.resolve(head)
  return str(h) && str(tail) ? h + tail : undefined
}

/** A field that may be absent: `null` when absent, `undefined` when malformed. */
function optional(x: unknown, dict: Resolver): string | null | undefined {
  if (x === null || x === undefined) return null
  const s = dict.resolve(x)
  return str(s) ? s : undefined
}

/** The inverse of {@link packEnvelope}; `undefined` for anything malformed (never throws). */
export function unpackEnvelope(a: unknown, guarantee: readonly Guarantee[], dict: Resolver = inline): Routed | undefined {
  if (!Array.isArray(a) || a.length < 7) return undefined
  // Indexed reads and fields set one by one (no destructuring, no conditional spreads): this runs
  // for every envelope a node receives.
  const kind: unknown = a[0], toType = dict.resolve(a[1]), type = dict.resolve(a[3]), o = dict.resolve(a[5]), h: unknown = a[6]
  const toId = a[2] === null ? (a.length > 14 ? joined(a[13], a[14], dict) : undefined) : dict.resolve(a[2])
  const k = typeof kind === 'number' ? KINDS[kind] : undefined
  if (k === undefined || !str(toType) || !str(toId) || !str(type) || !str(o) || typeof h !== 'number') return undefined
  if (a.length === 7) return { e: { kind: k, to: { type: toType, id: toId }, type, payload: a[4], guarantee }, o, h }
  const traceId = joined(a[7], a[8], dict), spanId = joined(a[9], a[10] ?? a[8], dict)
  const seq: unknown = a[11], oi: unknown = a[12]
  const corr = joined(a[13], a[14], dict), replyTo = optional(a[15], dict), fromType = optional(a[16], dict), fromId = optional(a[17], dict)
  const parentSpanId = joined(a[18], a[19], dict)
  if (corr === undefined || replyTo === undefined || fromType === undefined || fromId === undefined || traceId === undefined || spanId === undefined || parentSpanId === undefined) return undefined
  const e: { -readonly [K in keyof Envelope]: Envelope[K] } = { kind: k, to: { type: toType, id: toId }, type, payload: a[4], guarantee }
  if (fromType !== null && fromId !== null) e.from = { type: fromType, id: fromId }
  if (corr !== null) e.correlationId = corr
  if (replyTo !== null) e.replyTo = replyTo
  if (traceId !== null && spanId !== null) e.trace = parentSpanId !== null ? { traceId, spanId, parentSpanId } : { traceId, spanId }
  return typeof seq === 'number' && typeof oi === 'number' ? { e, o, h, s: seq, oi } : { e, o, h }
}
