import { mintedTail, type Envelope, type Guarantee } from '@murmur/actor-core'
import { inline, joined, optional, pushSplit, str, traceSplit, type Interner, type Resolver, type Routed } from './wire.js'

/** `kind` of a run: several tells in one array (see {@link startRun}); never an envelope's kind. */
const RUN = 4

/** Tells in one run, at most. */
const RUN_MAX = 256
/** Estimated bytes of a run's payloads, at most (worst-case UTF-8): keeps one run far below any frame limit. */
const RUN_BYTES = 64 << 10
/** A payload estimated above this travels on its own: its envelope costs little next to it. */
const RUN_PAYLOAD_MAX = 4096

/**
 * A run being built: tells to one agent from this node, packed as one array whose shared fields
 * (target, type, sender, origin, trace heads) are written once and whose varying ones are
 * columns. The transport holds `a` as one message until its next flush encodes it; until then
 * the engine appends to it (see `SwarmEngine.#forward`).
 *
 * Why: on a remote tell blast the sender spent about a third of its time packing one envelope
 * array per tell and encoding its ~15 fields, all but the payload and a counter the same as the
 * tell before.
 *
 * Every tell keeps what the guarantees need: its own custody id (`c0 + k`: the engine holds the
 * run's tells in custody one by one, under consecutive ids) and its own fifo number (`s0 + k`).
 * Only tells whose trace this process just minted (or that have none) join runs, so their ids
 * differ only in a counter (see actor-core's `mintedTail`), which travels as a number.
 *
 * Layout: the envelope's (see {@link packEnvelope}), with `payload` (4) a column, `custody` (7)
 * the first id, `seq` (12) the first number, no correlation, `replyTo` or `low` (14–16, 21), and
 * the trace as either nothing (8–11 `null`); a new trace per tell (9: the column of counters that
 * end both its ids, 11 `null`); or one trace with a new span per tell (9: the trace id's tail, 11:
 * the column of counters that end the span ids; 19–20: the shared parent span).
 */
export interface Run {
  readonly a: unknown[]
  readonly payloads: unknown[]
  /** The counters column (trace or span tails), `undefined` without a trace. */
  readonly tails: number[] | undefined
  n: number
  bytes: number
  readonly first: Routed
  readonly c0: number | undefined
  /** The transport's flush count when the run started: once it moved on, the run is encoded and closed. */
  readonly flushes: number
  /** The heads of the trace and span ids the counters complete (`''` without a trace). */
  readonly traceHead: string
  readonly spanHead: string
  /** Per tell, whether custody of it has ended here (see `run-custody.ts`). */
  readonly out: Uint8Array
}

const RUN_GUARANTEES: ReadonlySet<Guarantee> = new Set<Guarantee>(['reliable', 'fifo', 'best-effort'])

/**
 * Whether `w` may travel in a run, with its payload's estimated size (or `-1`): a tell this node
 * sends (first hop) without a `low` hint or an upstream to release, its trace minted here just now (or none), on guarantees
 * the transport treats per message alike (causal stamps and monotonic keys are per transport
 * message, so those stay single).
 */
export function runSize(w: Routed, lo: number | undefined): number {
  const e = w.e
  // With `u` (a tell given back by the local system, to release upstream once done) it goes alone.
  if (e.kind !== 'tell' || w.h !== 0 || w.u !== undefined || lo !== undefined || e.correlationId !== undefined || e.replyTo !== undefined) return -1
  if (e.trace !== undefined && mintedTail(e.trace) < 0) return -1
  for (const g of e.guarantee) if (!RUN_GUARANTEES.has(g)) return -1
  return sizeOf(e.payload, RUN_PAYLOAD_MAX, 0)
}

/**
 * A payload's encoded size, estimated from above (strings at 3 bytes a character), or `-1` when
 * over `budget`, too deep, or of a kind not estimated (class instances, bigints).
 */
function sizeOf(x: unknown, budget: number, depth: number): number {
  switch (typeof x) {
    case 'string':
      return x.length * 3 + 5
    case 'number':
    case 'boolean':
    case 'undefined':
      return 9
    case 'object': {
      if (x === null) return 1
      if (depth > 8) return -1
      let n = 5
      if (Array.isArray(x)) {
        for (let i = 0; i < x.length; i++) {
          const s = sizeOf(x[i], budget - n, depth + 1)
          if (s < 0 || (n += s) > budget) return -1
        }
        return n
      }
      if (x instanceof Uint8Array) return x.byteLength + 5 > budget ? -1 : x.byteLength + 5
      const proto: unknown = Object.getPrototypeOf(x)
      if (proto !== Object.prototype && proto !== null) return -1
      for (const k in x) {
        const s = sizeOf((x as Record<string, unknown>)[k], budget - n, depth + 1)
        if (s < 0 || (n += s + k.length * 3 + 5) > budget) return -1
      }
      return n
    }
    default:
      return -1
  }
}

/** Starts a run with `w` (which {@link runSize} admitted at `size` bytes), held in custody under `custody`. */
export function startRun(w: Routed, dict: Interner, custody: number | undefined, size: number, flushes: number): Run {
  const e = w.e
  const trace = e.trace
  const payloads = [e.payload]
  let tails: number[] | undefined
  const a: unknown[] = [RUN, dict.ref(e.to.type), dict.ref(e.to.id), dict.ref(e.type), payloads, dict.ref(w.o), 1, custody ?? null]
  let traceHead = ''
  let spanHead = ''
  if (trace === undefined) a.push(null, null, null, null)
  else {
    tails = [mintedTail(trace)]
    const at = traceSplit(trace.traceId), spanAt = traceSplit(trace.spanId)
    traceHead = trace.traceId.slice(0, at)
    spanHead = trace.spanId.slice(0, spanAt)
    const headRef = dict.refHead(trace.traceId, at), spanRef = dict.refHead(trace.spanId, spanAt)
    if (trace.parentSpanId === undefined) a.push(headRef, tails, spanRef, null)
    else a.push(headRef, trace.traceId.slice(at), spanRef, tails)
  }
  a.push(w.s ?? null, w.s === undefined ? null : (w.oi ?? null), null, null, null)
  if (e.from === undefined) a.push(null, null)
  else a.push(dict.ref(e.from.type), dict.ref(e.from.id))
  pushSplit(a, trace?.parentSpanId, traceSplit, dict)
  return { a, payloads, tails, n: 1, bytes: size, first: w, c0: custody, flushes, traceHead, spanHead, out: new Uint8Array(custody === undefined ? 0 : RUN_MAX) }
}

/** Tell `k` of a run as it was routed: the first is the original; the others are made again from the run's columns. */
export function member(run: Run, k: number): Routed {
  const f = run.first
  if (k === 0) return f
  const w: { -readonly [K in keyof Routed]: Routed[K] } = { e: envelopeOf(run, k), o: f.o, h: f.h }
  if (f.s !== undefined) w.s = f.s + k
  if (f.oi !== undefined) w.oi = f.oi
  if (f.f !== undefined) w.f = f.f
  return w
}

function envelopeOf(run: Run, k: number): Envelope {
  const fe = run.first.e
  const e: { -readonly [K in keyof Envelope]: Envelope[K] } = { kind: 'tell', to: fe.to, type: fe.type, payload: run.payloads[k], guarantee: fe.guarantee }
  if (fe.from !== undefined) e.from = fe.from
  const t = fe.trace
  if (t !== undefined) {
    const tail = ((run.tails as number[])[k] as number).toString(16)
    e.trace = t.parentSpanId === undefined ? { traceId: run.traceHead + tail, spanId: run.spanHead + tail } : { traceId: t.traceId, spanId: run.spanHead + tail, parentSpanId: t.parentSpanId }
  }
  return e
}

/**
 * Appends `w` (admitted by {@link runSize}) to `run` when it shares everything the run writes
 * once and its custody id and fifo number follow the run's last; `false` (nothing changed) otherwise.
 */
export function joinRun(run: Run, w: Routed, custody: number | undefined, size: number): boolean {
  const n = run.n
  if (n >= RUN_MAX || run.bytes + size > RUN_BYTES) return false
  const f = run.first, e = w.e, fe = f.e
  if (custody === undefined ? run.c0 !== undefined : run.c0 === undefined || custody !== run.c0 + n) return false
  if (w.s === undefined ? f.s !== undefined : f.s === undefined || w.s !== f.s + n || w.oi !== f.oi) return false
  if (e.type !== fe.type || e.guarantee !== fe.guarantee || w.o !== f.o) return false
  if (e.to !== fe.to && (e.to.type !== fe.to.type || e.to.id !== fe.to.id)) return false
  if (e.from !== fe.from && (e.from === undefined || fe.from === undefined || e.from.type !== fe.from.type || e.from.id !== fe.from.id)) return false
  const t = e.trace, ft = fe.trace
  if (t === undefined || ft === undefined) {
    if (t !== ft) return false
  } else if (t.parentSpanId !== ft.parentSpanId || (t.parentSpanId !== undefined && t.traceId !== ft.traceId)) {
    // Minted here (see `runSize`), a new trace has this process's heads, like the run's first;
    // a child span shares the run's only if it continues the same trace from the same parent.
    return false
  }
  run.payloads.push(e.payload)
  if (t !== undefined) (run.tails as number[]).push(mintedTail(t))
  run.n = n + 1
  run.bytes += size
  return true
}

/** Whether a wire array is a run (see {@link startRun}) rather than one envelope. */
export function isRun(a: unknown[]): boolean {
  return a[0] === RUN
}

/** Smallest and largest counter a minted id ends in: 8 hex digits (see actor-core's `trace.ts`). */
const TAIL_MIN = 0x1000_0000
const TAIL_MAX = 0xffff_ffff
const isTail = (x: unknown): x is number => typeof x === 'number' && Number.isInteger(x) && x >= TAIL_MIN && x <= TAIL_MAX

/**
 * The tells of a run, each as {@link unpackEnvelope} would give it; `undefined` for anything
 * malformed (never throws), so that a bad run delivers none of its tells.
 */
export function unpackRun(a: unknown[], guarantee: readonly Guarantee[], dict: Resolver = inline, from?: { readonly nodeId: string; readonly incarnation: number }): (Routed & { c?: number })[] | undefined {
  if (a.length !== 21 || a[0] !== RUN) return undefined
  const toType = dict.resolve(a[1]), toId = dict.resolve(a[2]), type = dict.resolve(a[3]), o = dict.resolve(a[5])
  const payloads: unknown = a[4], h: unknown = a[6], c0: unknown = a[7], s0: unknown = a[12], oi: unknown = a[13]
  if (!str(toType) || !str(toId) || !str(type) || !str(o) || typeof h !== 'number' || !Array.isArray(payloads)) return undefined
  const n = payloads.length
  if (n === 0 || (c0 !== null && !isCount(c0)) || (s0 !== null && (!isCount(s0) || typeof oi !== 'number'))) return undefined
  if (a[14] !== null || a[15] !== null || a[16] !== null) return undefined
  const fromType = optional(a[17], dict), fromId = optional(a[18], dict), parentSpanId = joined(a[19], a[20], dict)
  if (fromType === undefined || fromId === undefined || parentSpanId === undefined || (fromType === null) !== (fromId === null)) return undefined
  // Trace: none, a new one per tell (a column of counters at 9), or new spans of one trace (at 11).
  const traceHead = optional(a[8], dict), spanHead = optional(a[10], dict)
  const traceTails: unknown = a[9], spanTails: unknown = a[11]
  let fixedTrace: string | undefined
  if (traceHead === null) {
    if (traceTails !== null || spanHead !== null || spanTails !== null || parentSpanId !== null) return undefined
  } else {
    if (traceHead === undefined || spanHead === null || spanHead === undefined) return undefined
    const column = parentSpanId === null ? traceTails : spanTails
    if (!Array.isArray(column) || column.length !== n || !column.every(isTail)) return undefined
    if (parentSpanId === null ? spanTails !== null : !str(traceTails)) return undefined
    if (parentSpanId !== null) fixedTrace = traceHead + (traceTails as string)
  }
  const to = { type: toType, id: toId }
  const sender = fromType !== null && fromId !== null ? { type: fromType, id: fromId } : undefined
  const out: (Routed & { c?: number })[] = new Array(n)
  for (let k = 0; k < n; k++) {
    const e: { -readonly [K in keyof Envelope]: Envelope[K] } = { kind: 'tell', to, type, payload: payloads[k], guarantee }
    if (sender !== undefined) e.from = sender
    if (traceHead !== null) {
      if (fixedTrace === undefined) {
        const tail = ((traceTails as number[])[k] as number).toString(16)
        e.trace = { traceId: traceHead + tail, spanId: (spanHead as string) + tail }
      } else {
        e.trace = { traceId: fixedTrace, spanId: (spanHead as string) + ((spanTails as number[])[k] as number).toString(16), parentSpanId: parentSpanId as string }
      }
    }
    const r: { -readonly [K in keyof Routed]: Routed[K] } & { c?: number } = { e, o, h }
    if (c0 !== null) {
      const c = (c0 as number) + k
      if (from !== undefined) r.u = { n: from.nodeId, i: from.incarnation, c }
      else r.c = c
    }
    if (s0 !== null) {
      r.s = (s0 as number) + k
      r.oi = oi as number
    }
    out[k] = r
  }
  return out
}

const isCount = (x: unknown): x is number => typeof x === 'number' && Number.isSafeInteger(x) && x >= 0
