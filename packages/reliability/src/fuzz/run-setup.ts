import { prng, type Prng } from '@murmur/swarm'
import { captureSession } from './capture.js'
import { frameGenerator, type GeneratedFrame } from './generators.js'
import { mib, settledHeap } from './heap.js'
import type { LegitStream } from './legit-stream.js'
import { emptyReport, watchProcess, type FuzzReport } from './report.js'
import type { PeerIdentity } from './wire.js'

export interface FuzzOptions {
  readonly seed: number
  readonly frames: number
  /** The node's maximum frame size. Default 64 KiB. */
  readonly maxFrameSize?: number
  /** Frames between two turns of the event loop (the legitimate peer sends then). Default 500. */
  readonly batch?: number
  /** Share of frames sent on fresh, unauthenticated links. Default 0.2 (direct), 0.01 (uws). */
  readonly preAuthShare?: number
  readonly onProgress?: (report: FuzzReport) => void
}

export const FUZZ_CLUSTER = 'fuzz'
/**
 * The target's item limit: lower than the transport's default (2^20, which a 64 KiB frame cannot
 * reach), so the `many-items` frames cross it.
 */
export const FUZZ_MAX_FRAME_ITEMS = 1 << 14
export const FUZZ_SECRET = 'fuzz-secret'

/** Four compromised peers: they know the secret, and send garbage once in. */
export const MALLORY: readonly PeerIdentity[] = [0, 1, 2, 3].map((i) => ({ cluster: FUZZ_CLUSTER, nodeId: `mallory-${i}`, incarnation: 100 + i, address: `mallory-${i}:1`, secret: FUZZ_SECRET }))

/** What every fuzz run starts from: its report, its seeded frame source, its limits. */
export interface FuzzRun {
  readonly started: number
  readonly report: FuzzReport
  readonly unwatch: () => void
  readonly maxFrameSize: number
  readonly batch: number
  readonly rng: Prng
  readonly next: () => GeneratedFrame
  /** Heap when the fuzzing proper starts (after a full GC). */
  before: number
  peak: number
}

export async function beginRun(target: FuzzReport['target'], options: FuzzOptions): Promise<FuzzRun> {
  const report = emptyReport(target, options.seed)
  const maxFrameSize = options.maxFrameSize ?? 64 << 10
  const rng = prng(options.seed)
  const next = frameGenerator(rng, { corpus: await captureSession(), maxFrameSize, maxFrameItems: FUZZ_MAX_FRAME_ITEMS })
  return { started: Date.now(), report, unwatch: watchProcess(report), maxFrameSize, batch: options.batch ?? 500, rng, next, before: 0, peak: 0 }
}

export function markHeap(run: FuzzRun): void {
  run.before = run.peak = settledHeap()
  run.report.heap.beforeMiB = mib(run.before)
}

export function samplePeak(run: FuzzRun): void {
  run.peak = Math.max(run.peak, process.memoryUsage().heapUsed)
}

export function endRun(run: FuzzRun, legit: LegitStream, measureHeap: boolean): void {
  const { report } = run
  if (measureHeap) {
    const after = settledHeap()
    report.heap.afterMiB = mib(after)
    report.heap.peakMiB = mib(Math.max(run.peak, after))
    report.heap.growthMiB = mib(after - run.before)
  }
  Object.assign(report.legit, { sent: legit.sent, delivered: legit.delivered, duplicates: legit.duplicates, outOfOrder: legit.outOfOrder })
}

export function finishRun(run: FuzzRun): FuzzReport {
  run.unwatch()
  run.report.ms = Date.now() - run.started
  return run.report
}

/** The next frame, counted in the report. */
export function draw(run: FuzzRun): Uint8Array {
  const { kind, bytes } = run.next()
  run.report.byKind[kind]++
  run.report.frames++
  return bytes
}
