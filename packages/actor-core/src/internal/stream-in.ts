import type { z } from 'zod'
import { SchemaViolation, type MurmurError } from '../errors.js'
import { StreamAborted, StreamBroken } from '../stream.js'
import type { ReplyHandle } from './replies.js'
import { CANCEL, DONE, GRANT, PING, nextGrant, probeStep, type Backward, type ProbeTimings } from './stream-frames.js'

/** How an inbound stream talks back to its sender, and leaves the registry. */
export interface InboundPort {
  back(frame: Backward): void
  fail(error: MurmurError): void
  closed(): void
}

interface Waiter {
  resolve(r: IteratorResult<unknown>): void
  reject(e: unknown): void
}

const DONE_RESULT: IteratorResult<unknown> = Object.freeze({ done: true, value: undefined })

/**
 * The receiving end of one stream: a bounded buffer (at most `credit` items, since the sender
 * sends no more than granted), the async iterator the agent consumes, and the grants that refill
 * the sender's credit as it does.
 *
 * It is also the {@link ReplyHandle} of the `onStream` call in the agent's mailbox: that call
 * failing (or being dead-lettered when the agent stops) ends the stream with its error; that call
 * returning without ever having taken the iterator cancels it.
 */
export class Inbound implements ReplyHandle {
  readonly view: { readonly type: string; readonly items: AsyncIterable<unknown> }
  #queue: unknown[] = []
  #head = 0
  /** Validated items that came before an earlier one (a re-routed message overtaken), by index. */
  readonly #early = new Map<number, unknown>()
  /** Since when an item is missing while later ones (or the sender's count) say it was sent. */
  #gapSince: number | undefined = undefined
  received = 0
  consumed = 0
  granted: number
  #end: number | undefined = undefined
  /** Ends the iteration once the buffered items are consumed. */
  #error: MurmurError | undefined = undefined
  /** The sender was told the outcome (done, cancel or fail), or knows it (abort). */
  #closed = false
  #taken = false
  /** The consumer is done with the stream (broke out or returned): arriving items are dropped. */
  #stopped = false
  /** The `onStream` call returned or threw. */
  #handled = false
  #waiters: Waiter[] = []
  /** When the sender last said something (performance.now()). */
  #heard = performance.now()
  #pingTimer: ReturnType<typeof setTimeout> | undefined = undefined
  /** When the consumer's current wait began: silence counts from here at the earliest. */
  #waitingSince = 0

  constructor(
    readonly sid: string,
    readonly owner: unknown,
    type: string,
    readonly schema: z.ZodType,
    readonly credit: number,
    readonly port: InboundPort,
    readonly timings: ProbeTimings,
  ) {
    this.granted = credit
    const iterator: AsyncIterableIterator<unknown> = {
      next: () => this.#next(),
      return: () => Promise.resolve(this.#cancel()),
      [Symbol.asyncIterator]: () => iterator,
    }
    this.view = {
      type,
      items: {
        [Symbol.asyncIterator]: () => {
          this.#taken = true
          return iterator
        },
      },
    }
  }

  /** Items received and not yet consumed. */
  get buffered(): number {
    return this.#queue.length - this.#head + this.#early.size
  }

  // ---- frames from the sender --------------------------------------------------------------

  item(value: unknown, index: number): void {
    this.#heard = performance.now()
    if (this.#closed || this.#stopped) return
    if (index < this.received || this.#early.has(index)) return // a duplicate: re-routed after a session ended
    if (index >= this.granted) {
      return this.#terminate(new StreamBroken(`stream ${this.sid}: the sender exceeded its credit (${this.granted})`, { sid: this.sid }), true)
    }
    const parsed = this.schema.safeParse(value)
    if (!parsed.success) {
      return this.#terminate(new SchemaViolation(`item ${index} of stream '${this.view.type}' does not match its schema`, {
        type: this.view.type, sid: this.sid, index, issues: parsed.error.issues as unknown,
      }), true)
    }
    if (index !== this.received) {
      // Early: held (within the credit, so the buffer bound holds) until the missing ones come.
      this.#early.set(index, parsed.data)
      this.#gapSince ??= performance.now()
      return
    }
    this.received++
    this.#queue.push(parsed.data)
    for (let v = this.#early.get(this.received); this.#early.delete(this.received); v = this.#early.get(this.received)) {
      this.received++
      this.#queue.push(v)
    }
    this.#gapSince = this.#early.size > 0 ? performance.now() : undefined
    this.#wake()
  }

  end(count: number): void {
    this.#heard = performance.now()
    if (this.#closed) return
    if (count < this.received + this.#early.size) {
      return this.#terminate(new StreamBroken(`stream ${this.sid} ended after ${count} items, more arrived`, { sid: this.sid }), true)
    }
    this.#end = count
    this.#noteGap(count)
    this.#wake()
  }

  /** A probe: the sender has sent `sent` items. Answered with the current grant. */
  probe(sent: number): void {
    this.#heard = performance.now()
    if (this.#closed) return
    if (this.#noteGap(sent)) return
    this.port.back([GRANT, this.granted])
  }

  /**
   * The sender says it sent `sent` items: if some are missing, they are late (re-routed) or lost.
   * Late ones come within `giveUpAfter`; after that the stream ends with `StreamBroken`. True when
   * it did.
   */
  #noteGap(sent: number): boolean {
    if (sent <= this.received) return false
    const since = (this.#gapSince ??= performance.now())
    if (performance.now() - since < this.timings.giveUpAfter) return false
    this.#terminate(new StreamBroken(`stream ${this.sid}: item ${this.received} of ${sent} sent never arrived`, { sid: this.sid }), true)
    return true
  }

  abort(reason: string): void {
    this.#heard = performance.now()
    if (this.#closed) return
    this.#terminate(new StreamAborted(`the sender aborted stream '${this.view.type}': ${reason}`, { sid: this.sid, reason }), false)
  }

  // ---- the onStream call (ReplyHandle) -----------------------------------------------------

  ok(): void {
    this.#handled = true
    if (!this.#taken || this.#stopped) this.#cancel()
  }

  fail(error: MurmurError): void {
    this.#handled = true
    if (!this.#closed) this.#terminate(error, true)
  }

  // ---- the iterator ------------------------------------------------------------------------

  #next(): Promise<IteratorResult<unknown>> {
    const r = this.#poll()
    if (r === undefined) {
      this.#watch()
      return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }))
    }
    return r instanceof Error ? Promise.reject(r) : Promise.resolve(r)
  }

  /** The next result if there is one now: an item, the end, or the error that ended the stream. */
  #poll(): IteratorResult<unknown> | MurmurError | undefined {
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head]
      this.#queue[this.#head++] = undefined
      if (this.#head === this.#queue.length) {
        this.#queue.length = 0
        this.#head = 0
      }
      this.consumed++
      if (!this.#closed) {
        const g = nextGrant(this.consumed, this.granted, this.credit)
        if (g !== undefined) {
          this.granted = g
          this.port.back([GRANT, g])
        }
      }
      return { done: false, value }
    }
    if (this.#error !== undefined) return this.#error
    if (this.#end !== undefined) {
      if (!this.#closed) {
        this.#closed = true
        this.port.back([DONE, this.consumed])
        this.port.closed()
      }
      return DONE_RESULT
    }
    return this.#closed || this.#stopped ? DONE_RESULT : undefined
  }

  /**
   * While the consumer waits on an empty buffer, a silent sender is pinged (the same `probeStep` as
   * the sender's probes): a live sender answers whatever its source is doing, one that is gone ends
   * the iteration with `StreamBroken` instead of leaving the agent waiting for ever.
   */
  #watch(): void {
    if (this.#pingTimer !== undefined) return
    this.#waitingSince = performance.now()
    const tick = (): void => {
      this.#pingTimer = undefined
      if (this.#closed || this.#stopped || this.#waiters.length === 0) return
      if (this.#gapSince !== undefined && this.#noteGap(this.received + 1)) return
      const silent = performance.now() - Math.max(this.#heard, this.#waitingSince)
      switch (probeStep(silent, this.timings)) {
        case 'give-up':
          return this.#terminate(new StreamBroken(`no word from the sender of stream '${this.view.type}' for ${Math.round(silent)} ms`, { sid: this.sid }), true)
        case 'probe':
          this.port.back([PING, this.received])
      }
      this.#pingTimer = setTimeout(tick, this.timings.every)
    }
    this.#pingTimer = setTimeout(tick, this.timings.every)
  }

  #wake(): void {
    while (this.#waiters.length > 0) {
      const r = this.#poll()
      if (r === undefined) return
      const w = this.#waiters.shift()!
      if (r instanceof Error) w.reject(r)
      else w.resolve(r)
    }
  }

  /**
   * The consumer stopped (break, return, or never iterated): drop the buffer and tell the sender.
   * While `onStream` still runs, the telling waits for its outcome: a `for await` left by a throw
   * calls `return` first, and the sender should get that error, not a cancel.
   */
  #cancel(): IteratorResult<unknown> {
    this.#stopped = true
    if (!this.#closed && this.#handled) {
      this.#closed = true
      this.port.back([CANCEL, this.consumed])
      this.port.closed()
    }
    this.#queue.length = 0
    this.#head = 0
    this.#early.clear()
    for (const w of this.#waiters.splice(0)) w.resolve(DONE_RESULT)
    return DONE_RESULT
  }

  /** The stream ends with `error` once what is buffered is consumed (nothing accepted is lost). */
  #terminate(error: MurmurError, tellSender: boolean): void {
    if (this.#pingTimer !== undefined) clearTimeout(this.#pingTimer)
    this.#error = error
    this.#closed = true
    if (tellSender) this.port.fail(error)
    this.port.closed()
    this.#wake()
  }
}
