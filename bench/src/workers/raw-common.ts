/**
 * What both ends of the raw benchmark share: the frame shapes, the receiving counter (a "sink"),
 * and the pacing of a sender. The sink counts payload bytes between the first frame and a 1-byte end
 * marker; messages are payload bytes / 64, so many 64-byte messages in one frame count as many.
 */

export const MSG_BYTES = 64
/** A 1-byte frame ends a throughput round (payload frames are always ≥ 64 bytes). */
export const END_MARKER = 1

/**
 * Makes the frames of a sending round. With `bytes`, the same buffer every time (a bulk transfer).
 * Otherwise each frame is a fresh buffer into which `msgs` distinct 64-byte messages are copied:
 * the least per-message work any transport that coalesces messages into frames must do.
 */
export function frameMaker(shape: FrameShape): () => Buffer {
  if (shape.bytes !== undefined) {
    const bulk = Buffer.alloc(shape.bytes, 0x61)
    return () => bulk
  }
  const pool = Array.from({ length: shape.msgs }, (_, i) => Buffer.alloc(MSG_BYTES, i & 0xff))
  if (shape.msgs === 1) return () => pool[0]!
  const size = shape.msgs * MSG_BYTES
  return () => {
    const f = Buffer.allocUnsafe(size)
    for (let i = 0, off = 0; i < pool.length; i++, off += MSG_BYTES) f.set(pool[i]!, off)
    return f
  }
}

export interface FrameShape {
  /** 64-byte messages per frame. */
  readonly msgs: number
  /** Frame size in bytes, overriding `msgs × 64` (for the 1 MiB frames). */
  readonly bytes?: number
}

/** Parameters of one sending round (`send` in the client, `source` in the server). */
export interface SendRound extends FrameShape {
  /** Send for this long, then the end marker. */
  readonly ms: number
  /** Frames per corked burst (one write per burst). */
  readonly burst: number
}

/** Frames up to this size are split into messages; bulk frames (1 MiB) are only counted. */
const MAX_SPLIT = 1024 * MSG_BYTES

export interface SinkResult {
  readonly bytes: number
  readonly frames: number
  /** Sum of the first byte of every message (keeps the split from being optimized away). */
  readonly checksum: number
  /** Seconds from the first payload frame to the end marker. */
  readonly seconds: number
}

/**
 * Counts frames for one round; `wait()` resolves at the end marker (or rejects after `timeoutMs`).
 * A frame of several messages is split into one view per message (what a receiver hands upward),
 * and one byte of each is read so the work is not optimized away.
 */
export function createSink(): {
  onFrame(data: Uint8Array): void
  arm(): void
  wait(timeoutMs: number): Promise<SinkResult>
} {
  let bytes = 0
  let frames = 0
  let checksum = 0
  let t0 = 0n
  let done: ((r: SinkResult) => void) | undefined
  let result: SinkResult | undefined
  return {
    onFrame(data) {
      const len = data.byteLength
      if (len === END_MARKER) {
        result = { bytes, frames, checksum, seconds: frames === 0 ? NaN : Number(process.hrtime.bigint() - t0) / 1e9 }
        done?.(result)
        return
      }
      if (frames === 0) t0 = process.hrtime.bigint()
      frames++
      bytes += len
      if (len > MSG_BYTES && len <= MAX_SPLIT) {
        for (let off = 0; off < len; off += MSG_BYTES) checksum += data.subarray(off, off + MSG_BYTES)[0]!
      }
    },
    arm() {
      bytes = 0
      frames = 0
      checksum = 0
      result = undefined
      done = undefined
    },
    wait(timeoutMs) {
      if (result !== undefined) return Promise.resolve(result)
      return new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`sink: no end marker after ${timeoutMs} ms (${frames} frames)`)), timeoutMs)
        done = (r) => {
          clearTimeout(t)
          resolve(r)
        }
      })
    },
  }
}

/** Messages per second of a sink result (bytes / 64 / seconds), or bytes per second with `bytes`. */
export function sinkRate(r: SinkResult, unit: 'msg' | 'bytes'): number {
  return (unit === 'bytes' ? r.bytes : r.bytes / MSG_BYTES) / r.seconds
}
