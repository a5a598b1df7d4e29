import type { Envelope, Guarantee, SerializedError } from '@murmur/actor-core'
import type { MembershipMessage } from '../membership.js'
import type { DirectoryEntry } from '../directory.js'
import type { Counters } from './fifo-order.js'
import { SPLIT_AT } from './wire-dictionary.js'
import type { OutStream } from './fifo-sender.js'

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
  /** Per pending message, the id the sending node holds it in custody under (`null`: none). */
  readonly custody?: readonly (number | null)[]
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
  /** `j`: the sender has not joined yet and wants an answer even when nothing differs. */
  | { readonly k: 'ae'; readonly d: readonly number[]; readonly j?: 1 }
  | { readonly k: 'aer'; readonly e: readonly DirectoryEntry[]; readonly b: readonly number[] }
  | { readonly k: 'a'; readonly c: number; readonly a: Moving }
  | { readonly k: 'aa'; readonly c: number; readonly error?: SerializedError }
  /** String definitions for the receiver's dictionary (`[id, string, …]`), and their confirmation. */
  | { readonly k: 'sd'; readonly d: readonly unknown[] }
  | { readonly k: 'sda'; readonly i: readonly unknown[] }
  /**
   * Custody released: the tells this node (its incarnation `i`) held under these ids are done with
   * downstream. Ids as runs, `[first, count, first, count, …]`: they are mostly consecutive.
   * With `e`, the node that handled them says so (the end-to-end release, see `Routed.ou`): they
   * are not to be sent again, but stay held until the node they were passed to releases them.
   * With `e` 2, the node they were passed to left and handed them to an heir: not to be sent again
   * by this node, but not known handled either.
   */
  | { readonly k: 'h'; readonly i: number; readonly r: readonly number[]; readonly e?: 1 | 2 }
  /**
   * Custody handed over by a leaving node: the tells (packed, with their guarantees `g`) it passed
   * to node `n` and `n` has not released yet. The receiver holds them toward `n` from now on.
   */
  | { readonly k: 'ch'; readonly n: string; readonly e: readonly unknown[]; readonly g: readonly (readonly Guarantee[])[] }

export function isWire(x: unknown): x is Wire {
  return typeof x === 'object' && x !== null && typeof (x as { k?: unknown }).k === 'string'
}

const KINDS = ['tell', 'ask', 'reply', 'fail'] as const

/** `KINDS.indexOf(kind)`, without the search: this runs for every envelope sent. */
const kindIndex = (kind: Envelope['kind']): number => (kind === 'tell' ? 0 : kind === 'ask' ? 1 : kind === 'reply' ? 2 : 3)

/** The address type of an asker outside any agent (actor-core's `answer`). */
const ASKER = '$asker'

/**
 * The node a reliable tell came from, which holds it in custody under id `c` (its incarnation
 * `i`) until it is told the tell is done with here (see `custody.ts`).
 */
export interface Upstream {
  readonly n: string
  readonly i: number
  readonly c: number
}

/**
 * An envelope as routing carries it: `o` the node that first sent it, `h` how often it was
 * forwarded; fifo messages also carry `s`, their number in the stream from `o` (incarnation `oi`)
 * to their agent, and `lo` when they take a new route while older ones are still out (see
 * `fifo-sender.ts`). Never on the wire as such: `u`, the hop to tell when this node is done with
 * it, and `f`, the sender's own stream record. A forwarded tell also carries `ou`, the custody of
 * the first node that held it: the node that handles it tells that one too, so that it lets go
 * even when a node between them crashed before passing the release on.
 */
export interface Routed {
  readonly e: Envelope
  readonly o: string
  readonly h: number
  readonly s?: number
  readonly oi?: number
  readonly lo?: number
  readonly u?: Upstream
  readonly ou?: Upstream
  readonly f?: OutStream
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
export const traceSplit = (s: string): number => Math.max(0, s.length - SPLIT_AT)
const correlationSplit = (s: string): number => s.lastIndexOf('-') + 1

/**
 * An envelope on the wire: a flat array, trailing absent fields cut, no guarantee (the transport
 * carries it with every message), and the strings that repeat from message to message interned
 * (`dict`). Ids that vary per message (trace, span and correlation ids) travel as an interned head
 * and an inline tail.
 * Layout: `[kind, toType, toId, type, payload, origin, hops, custody, traceHead, traceTail, spanHead,
 * spanTail, seq, originIncarnation, correlationHead, correlationTail, replyTo, fromType, fromId,
 * parentHead, parentTail, low, firstHolder, firstIncarnation, firstCustody]`: what most messages
 * carry first, so that trailing absent fields can go.
 * `custody`: the id this node holds a reliable tell under until the receiver says it is done;
 * `first…`: `origin`, the first holder's custody, on a forwarded tell.
 * A span tail equal to the trace tail (a trace a process starts: one counter for both) is omitted.
 */
export function packEnvelope(r: Routed, dict: Interner = inline, custody?: number, hops: number = r.h, low: number | undefined = r.lo, origin?: Upstream): unknown[] {
  const { e } = r
  // A reply to an asker outside any agent is addressed by the ask's correlation id, which travels
  // anyway: `null` here, and never interned (a new string per ask would fill the dictionary).
  const toId = e.to.type === ASKER && e.to.id === e.correlationId ? null : dict.ref(e.to.id)
  const a: unknown[] = [kindIndex(e.kind), dict.ref(e.to.type), toId, dict.ref(e.type), e.payload, dict.ref(r.o), hops, custody ?? null]
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
  a.push(low ?? null)
  if (origin !== undefined) a.push(dict.ref(origin.n), origin.i, origin.c)
  while (a.length > 7 && a[a.length - 1] === null) a.pop()
  return a
}

export function pushSplit(a: unknown[], s: string | undefined, split: (s: string) => number, dict: Interner): void {
  if (s === undefined) {
    a.push(null, null)
    return
  }
  const at = split(s)
  a.push(dict.refHead(s, at), s.slice(at))
}

export const str = (x: unknown): x is string => typeof x === 'string'

/**
 * A split id back together: `null` when absent, `undefined` when malformed (an unknown head id,
 * a tail that is not a string).
 */
export function joined(head: unknown, tail: unknown, dict: Resolver): string | null | undefined {
  if ((head === null || head === undefined) && (tail === null || tail === undefined)) return null
  const h = dict.resolve(head)
  return str(h) && str(tail) ? h + tail : undefined
}

/** A field that may be absent: `null` when absent, `undefined` when malformed. */
export function optional(x: unknown, dict: Resolver): string | null | undefined {
  if (x === null || x === undefined) return null
  const s = dict.resolve(x)
  return str(s) ? s : undefined
}

/**
 * The inverse of {@link packEnvelope}; `undefined` for anything malformed (never throws). A
 * custody id becomes `u`, naming `from` (the sending node, as its session knows it), or `c` alone
 * when there is no `from` (this node's own envelope, handed back unacknowledged).
 */
export function unpackEnvelope(a: unknown, guarantee: readonly Guarantee[], dict: Resolver = inline, from?: { readonly nodeId: string; readonly incarnation: number }): (Routed & { c?: number }) | undefined {
  if (!Array.isArray(a) || a.length < 7) return undefined
  // Indexed reads and fields set one by one (no destructuring, no conditional spreads): this runs
  // for every envelope a node receives.
  const kind: unknown = a[0], toType = dict.resolve(a[1]), type = dict.resolve(a[3]), o = dict.resolve(a[5]), h: unknown = a[6]
  const toId = a[2] === null ? (a.length > 15 ? joined(a[14], a[15], dict) : undefined) : dict.resolve(a[2])
  const k = typeof kind === 'number' ? KINDS[kind] : undefined
  const c: unknown = a[7] ?? undefined
  if (k === undefined || !str(toType) || !str(toId) || !str(type) || !str(o) || typeof h !== 'number' || (c !== undefined && typeof c !== 'number')) return undefined
  const r: { -readonly [K in keyof Routed]: Routed[K] } & { c?: number } = { e: { kind: k, to: { type: toType, id: toId }, type, payload: a[4], guarantee }, o, h }
  if (c !== undefined) {
    if (from !== undefined) r.u = { n: from.nodeId, i: from.incarnation, c }
    else r.c = c
  }
  if (a.length <= 8) return r
  const traceId = joined(a[8], a[9], dict), spanId = joined(a[10], a[11] ?? a[9], dict)
  const seq: unknown = a[12], oi: unknown = a[13]
  const corr = joined(a[14], a[15], dict), replyTo = optional(a[16], dict), fromType = optional(a[17], dict), fromId = optional(a[18], dict)
  const parentSpanId = joined(a[19], a[20], dict)
  if (corr === undefined || replyTo === undefined || fromType === undefined || fromId === undefined || traceId === undefined || spanId === undefined || parentSpanId === undefined) return undefined
  const e = r.e as { -readonly [K in keyof Envelope]: Envelope[K] }
  if (fromType !== null && fromId !== null) e.from = { type: fromType, id: fromId }
  if (corr !== null) e.correlationId = corr
  if (replyTo !== null) e.replyTo = replyTo
  if (traceId !== null && spanId !== null) e.trace = parentSpanId !== null ? { traceId, spanId, parentSpanId } : { traceId, spanId }
  if (typeof seq === 'number' && typeof oi === 'number') {
    r.s = seq
    r.oi = oi
    const lo: unknown = a[21]
    if (typeof lo === 'number' && lo <= seq) r.lo = lo
  }
  if (a.length > 22) {
    const n = dict.resolve(a[22]), i: unknown = a[23], oc: unknown = a[24]
    if (!str(n) || typeof i !== 'number' || typeof oc !== 'number') return undefined
    r.ou = { n, i, c: oc }
  }
  return r
}
