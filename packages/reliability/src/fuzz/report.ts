import { FRAME_KINDS, type FrameKind } from './generators.js'

/** What became of the frames one fuzz run sent. */
export interface FuzzReport {
  target: 'direct' | 'uws'
  seed: number
  frames: number
  byKind: Record<FrameKind, number>
  /** Frames on links that had not completed the handshake: each must end the link with a typed error. */
  preAuth: { frames: number; closedWithError: number; validHello: number; notAnswered: number }
  /** Frames on an authenticated link (a compromised peer that knows the secret). */
  postAuth: {
    frames: number
    typedErrors: number
    delivered: number
    /** Accepted without a word: must be well-formed frames (pings, old acks, duplicates…). */
    silentValid: number
    /** Malformed, yet neither an error nor a close: a bug if not 0. */
    silentInvalid: number
    closed: number
  }
  /** Exceptions other than `TransportError` out of the node's frame handler (a connector closes 1011). */
  untypedThrows: number
  untypedSamples: string[]
  unhandledRejections: number
  uncaughtExceptions: number
  errorsByCode: Record<string, number>
  heap: { beforeMiB: number; afterMiB: number; peakMiB: number; growthMiB: number }
  legit: { sent: number; delivered: number; duplicates: number; outOfOrder: number }
  ms: number
}

export function emptyReport(target: 'direct' | 'uws', seed: number): FuzzReport {
  return {
    target,
    seed,
    frames: 0,
    byKind: Object.fromEntries(FRAME_KINDS.map((k) => [k, 0])) as Record<FrameKind, number>,
    preAuth: { frames: 0, closedWithError: 0, validHello: 0, notAnswered: 0 },
    postAuth: { frames: 0, typedErrors: 0, delivered: 0, silentValid: 0, silentInvalid: 0, closed: 0 },
    untypedThrows: 0,
    untypedSamples: [],
    unhandledRejections: 0,
    uncaughtExceptions: 0,
    errorsByCode: {},
    heap: { beforeMiB: 0, afterMiB: 0, peakMiB: 0, growthMiB: 0 },
    legit: { sent: 0, delivered: 0, duplicates: 0, outOfOrder: 0 },
    ms: 0,
  }
}

/** Counts process-level failures while a run lasts; returns the function that stops counting. */
export function watchProcess(report: FuzzReport): () => void {
  const onRejection = (): void => {
    report.unhandledRejections++
  }
  const onUncaught = (): void => {
    report.uncaughtExceptions++
  }
  process.on('unhandledRejection', onRejection)
  process.on('uncaughtException', onUncaught)
  return () => {
    process.off('unhandledRejection', onRejection)
    process.off('uncaughtException', onUncaught)
  }
}

/** The verdicts a run must meet; the empty list means it passed. */
export function violations(r: FuzzReport, maxHeapGrowthMiB: number): string[] {
  const out: string[] = []
  if (r.untypedThrows > 0) out.push(`${r.untypedThrows} untyped exceptions from the frame handler, e.g. ${r.untypedSamples[0]}`)
  if (r.unhandledRejections > 0) out.push(`${r.unhandledRejections} unhandled rejections`)
  if (r.uncaughtExceptions > 0) out.push(`${r.uncaughtExceptions} uncaught exceptions`)
  if (r.postAuth.silentInvalid > 0) out.push(`${r.postAuth.silentInvalid} malformed frames accepted silently`)
  if (r.preAuth.notAnswered > 0) out.push(`${r.preAuth.notAnswered} bad pre-handshake frames neither refused nor closed`)
  if (r.heap.growthMiB > maxHeapGrowthMiB) out.push(`heap grew ${r.heap.growthMiB} MiB (bound ${maxHeapGrowthMiB})`)
  if (r.legit.delivered !== r.legit.sent || r.legit.duplicates > 0 || r.legit.outOfOrder > 0) {
    out.push(`legitimate peer: ${r.legit.delivered}/${r.legit.sent} delivered, ${r.legit.duplicates} duplicates, ${r.legit.outOfOrder} out of order`)
  }
  return out
}
