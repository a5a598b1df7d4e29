/**
 * Per-peer message rate limit: a token bucket, as pure functions over a small state object.
 * One token per received message; the bucket refills at `messagesPerSecond` up to `burst`.
 */
export interface RateLimit {
  /** Messages per second a peer may send, on average. */
  readonly messagesPerSecond: number
  /** Messages a peer may send at once after a quiet spell. Default: one second's worth. */
  readonly burst?: number
}

export interface TokenBucket {
  tokens: number
  /** When `tokens` was last refilled (ms, the transport's clock). */
  at: number
}

export function tokenBucket(limit: RateLimit, now: number): TokenBucket {
  return { tokens: burstOf(limit), at: now }
}

export function burstOf(limit: RateLimit): number {
  return limit.burst ?? limit.messagesPerSecond
}

/**
 * Adds what accrued since the last refill. The transport refills once per received frame with its
 * coarse clock (updated each tick), so the burst must cover at least a tick's worth of messages;
 * a burst under that caps a peer below its rate.
 */
export function refill(bucket: TokenBucket, limit: RateLimit, now: number): void {
  if (now <= bucket.at) return
  bucket.tokens = Math.min(burstOf(limit), bucket.tokens + ((now - bucket.at) * limit.messagesPerSecond) / 1000)
  bucket.at = now
}

/** Takes one token if there is one. */
export function take(bucket: TokenBucket): boolean {
  if (bucket.tokens < 1) return false
  bucket.tokens--
  return true
}

/** Checks a configured limit: a positive rate, a burst of at least one message. */
export function validRateLimit(limit: RateLimit): boolean {
  return limit.messagesPerSecond > 0 && Number.isFinite(limit.messagesPerSecond) && burstOf(limit) >= 1
}
