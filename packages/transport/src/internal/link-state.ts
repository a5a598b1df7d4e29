import type { LinkHandlers } from '../connector.js'
import { FrameTooLarge } from '../errors.js'

/** Defaults every connector shares, so `uws` and `memory` links behave alike unless told. */
export const DEFAULT_MAX_PAYLOAD_LENGTH = 16 * 1024 * 1024
export const DEFAULT_HIGH_WATER_MARK = 1024 * 1024
export const DEFAULT_LOW_WATER_MARK = 256 * 1024

/** WebSocket close codes this layer uses; the core may use 1000 and 3000–4999 for its own. */
export const CloseCode = {
  normal: 1000,
  goingAway: 1001,
  unsupportedData: 1003,
  abnormal: 1006,
  tooBig: 1009,
  internalError: 1011,
} as const

export interface LinkLimits {
  readonly maxPayloadLength: number
  readonly highWaterMark: number
  readonly lowWaterMark: number
}

/** Validates and fills in the limits an init gave; a bad value is a programming error, so it throws. */
export function linkLimits(init: Partial<LinkLimits>): LinkLimits {
  const limits = {
    maxPayloadLength: init.maxPayloadLength ?? DEFAULT_MAX_PAYLOAD_LENGTH,
    highWaterMark: init.highWaterMark ?? DEFAULT_HIGH_WATER_MARK,
    lowWaterMark: init.lowWaterMark ?? Math.min(DEFAULT_LOW_WATER_MARK, init.highWaterMark ?? DEFAULT_HIGH_WATER_MARK),
  }
  for (const [name, value] of Object.entries(limits)) {
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`${name} must be a non-negative integer, got ${value}`)
  }
  if (limits.lowWaterMark > limits.highWaterMark) throw new RangeError('lowWaterMark must not exceed highWaterMark')
  if (limits.maxPayloadLength < 1) throw new RangeError('maxPayloadLength must be at least 1')
  return limits
}

/**
 * A close code a WebSocket peer accepts on the wire (1000, or 3000–4999 for applications); the
 * codes a link reports for breakage (1001, 1003, 1006, 1009, 1011) are allowed as given.
 */
export function wireCloseCode(code: number): number {
  if (code === 1000 || code === 1001 || code === 1003 || code === 1009 || code === 1011) return code
  return Number.isInteger(code) && code >= 3000 && code <= 4999 ? code : CloseCode.normal
}

/** A WebSocket close reason is at most 123 bytes of UTF-8. */
export function wireCloseReason(reason: string): string {
  if (Buffer.byteLength(reason) <= 123) return reason
  let cut = reason.slice(0, 123)
  while (Buffer.byteLength(cut) > 123) cut = cut.slice(0, -1)
  return cut
}

/**
 * The state every link keeps whatever moves its bytes: `close` reported exactly once, and `drain`
 * reported only after a `send` returned `false`.
 */
export class LinkState {
  closed = false
  needsDrain = false

  constructor(
    public handlers: LinkHandlers,
    readonly limits: LinkLimits,
  ) {}

  /**
   * Hands a frame up. A handler that throws must not take the process (or the simulation) down
   * with it, nor keep feeding a link whose state is now unknown: the link closes with 1011 and the
   * error in the reason.
   */
  deliver(data: Uint8Array, link: { close(code: number, reason: string): void }): void {
    try {
      this.handlers.frame(data)
    } catch (error) {
      link.close(CloseCode.internalError, `frame handler threw: ${error instanceof Error ? error.message : String(error)}`)
    }
  }

  /** After a send: `true` while the buffer is at or under the high-water mark. */
  afterSend(buffered: number): boolean {
    if (buffered <= this.limits.highWaterMark) return true
    this.needsDrain = true
    return false
  }

  /** When the buffer shrank: report `drain` once it is at or under the low-water mark. */
  maybeDrain(buffered: number): void {
    if (!this.needsDrain || this.closed || buffered > this.limits.lowWaterMark) return
    this.needsDrain = false
    this.handlers.drain()
  }

  /** Reports `close` the first time; `false` (and nothing reported) every later time. */
  finish(code: number, reason: string): boolean {
    if (this.closed) return false
    this.closed = true
    this.handlers.close(code, reason)
    return true
  }
}

/** The sender's own check: a frame over the limit is refused before any byte of it is queued. */
export function assertFrameSize(frame: Uint8Array, limits: LinkLimits): void {
  if (frame.byteLength > limits.maxPayloadLength) {
    throw new FrameTooLarge(`frame of ${frame.byteLength} bytes exceeds maxPayloadLength ${limits.maxPayloadLength}`, {
      size: frame.byteLength,
      max: limits.maxPayloadLength,
    })
  }
}
