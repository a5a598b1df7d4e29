/**
 * Flow control, as pure functions. Two mechanisms:
 * - water marks on the bytes buffered toward a peer: above `high` best-effort is dropped (and
 *   counted) and `backpressure` fires; under `low` again, `drained` fires and `ready()` resolves;
 *   above `hard` a reliable `send` throws `Overloaded`.
 * - an AIMD window on reliable messages in flight: it grows by {@link WINDOW_STEP} per window of
 *   acknowledged messages and halves on a retransmission timeout (the congestion signal).
 */
export interface FlowLimits {
  readonly highWaterMark: number
  readonly lowWaterMark: number
  readonly hardLimit: number
}

export const defaultFlowLimits: FlowLimits = { highWaterMark: 8 << 20, lowWaterMark: 2 << 20, hardLimit: 64 << 20 }

export const INITIAL_WINDOW = 8192
export const MIN_WINDOW = 64
export const MAX_WINDOW = 1 << 18
export const WINDOW_STEP = 1024

export function growWindow(window: number, acked: number): number {
  return Math.min(MAX_WINDOW, window + Math.ceil((acked * WINDOW_STEP) / window))
}

export function shrinkWindow(window: number): number {
  return Math.max(MIN_WINDOW, window >> 1)
}

/** Water-mark hysteresis: which event (if any) a new buffered figure triggers. */
export function waterMark(buffered: number, over: boolean, limits: FlowLimits): 'backpressure' | 'drained' | undefined {
  if (!over && buffered > limits.highWaterMark) return 'backpressure'
  if (over && buffered < limits.lowWaterMark) return 'drained'
  return undefined
}
