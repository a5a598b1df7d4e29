import type { MurmurError } from '../errors.js'
import { StreamAborted, StreamBroken, StreamCancelled } from '../stream.js'
import { ABORT, CANCEL, DONE, END, GRANT, ITEM, OPEN, PING, PROBE, probeStep, type Backward, type Forward, type ProbeTimings } from './stream-frames.js'

/** How an outbound stream reaches its receiver, and leaves the registry. */
export interface OutboundPort {
  /** Sends one frame toward the receiving agent; throws when no one takes it (`AgentNotFound`, `Overloaded`, …). */
  forward(frame: Forward, kind: 'ask' | 'tell'): void
  /** `undefined` when the way to the receiver has room for another item, else a promise of it. */
  ready(): Promise<void> | undefined
  closed(): void
}

type AnyIterator = Iterator<unknown> | AsyncIterator<unknown>

function iteratorOf(source: AsyncIterable<unknown> | Iterable<unknown>): AnyIterator {
  if (typeof (source as Partial<AsyncIterable<unknown>>)[Symbol.asyncIterator] === 'function') return (source as AsyncIterable<unknown>)[Symbol.asyncIterator]()
  if (typeof (source as Partial<Iterable<unknown>>)[Symbol.iterator] === 'function') return (source as Iterable<unknown>)[Symbol.iterator]()
  throw new TypeError('a stream source must be an async iterable or an iterable')
}

/**
 * The sending end of one stream: pulls the next item from the source only while it holds credit,
 * so a slow receiver slows the source down instead of filling memory anywhere. Settles when the
 * receiver reports the outcome: `done` (everything consumed), `cancel`, or a failure.
 */
export class Outbound {
  readonly promise: Promise<void>
  granted = 0
  sent = 0
  #settled = false
  /** `end` was sent: only `done` (or a failure) is still to come. */
  #ended = false
  /** When the receiver last said something (performance.now()). */
  #heard = 0
  #probeTimer: ReturnType<typeof setTimeout> | undefined = undefined
  /** When the current wait on the receiver began: silence counts from here at the earliest. */
  #waitingSince = 0
  #wake: (() => void) | undefined = undefined
  #resolve!: () => void
  #reject!: (e: unknown) => void
  readonly #onAbort = (): void => this.#abort(this.#aborted())

  constructor(
    readonly sid: string,
    readonly type: string,
    readonly credit: number,
    readonly port: OutboundPort,
    readonly signal: AbortSignal | undefined,
    readonly probe: ProbeTimings,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  /** Opens the stream and pumps the source; never throws (every failure settles the promise). */
  async run(source: AsyncIterable<unknown> | Iterable<unknown>): Promise<void> {
    if (this.signal?.aborted === true) return this.#settle(this.#aborted())
    this.signal?.addEventListener('abort', this.#onAbort, { once: true })
    let it: AnyIterator | undefined
    let exhausted = false
    try {
      this.#heard = performance.now()
      this.port.forward([OPEN, this.type, this.credit], 'ask')
      it = iteratorOf(source)
      for (;;) {
        if (this.sent >= this.granted) this.#watch()
        while (this.sent >= this.granted && !this.#settled) await new Promise<void>((r) => { this.#wake = r })
        if (this.#settled) break
        const r = await it.next()
        if (r.done === true) {
          exhausted = true
          if (!this.#settled) {
            this.port.forward([END, this.sent], 'tell')
            this.#ended = true
            this.#watch()
          }
          break
        }
        for (let room = this.port.ready(); room !== undefined && !this.#settled; room = this.port.ready()) await room.catch(() => {})
        if (this.#settled) break
        this.port.forward([ITEM, r.value, this.sent], 'tell')
        this.sent++
      }
    } catch (error) {
      exhausted = true // a source that threw is finished
      this.#abort(error)
    }
    if (!exhausted && it !== undefined) {
      // stop pulling: the source releases what it holds (files, sockets, generators' finally blocks)
      try {
        await it.return?.()
      } catch {
        // the source's own cleanup failed: nothing the stream can do about it
      }
    }
  }

  #aborted(): StreamAborted {
    return new StreamAborted(`stream '${this.type}' aborted by its sender`, { sid: this.sid })
  }

  /** Probes the receiver while waiting on it (see `probeStep`); one timer per stream, only while waiting. */
  #watch(): void {
    if (this.#probeTimer !== undefined || this.#settled) return
    this.#waitingSince = performance.now()
    const tick = (): void => {
      this.#probeTimer = undefined
      if (this.#settled || !(this.#ended || this.sent >= this.granted)) return
      const silent = performance.now() - Math.max(this.#heard, this.#waitingSince)
      switch (probeStep(silent, this.probe)) {
        case 'give-up':
          return this.#settle(new StreamBroken(`no word from the receiver of stream '${this.type}' for ${Math.round(silent)} ms`, { sid: this.sid }))
        case 'probe':
          try {
            this.port.forward([PROBE, this.sent], 'ask')
          } catch (error) {
            return this.#settle(error)
          }
      }
      this.#probeTimer = setTimeout(tick, this.probe.every)
    }
    this.#probeTimer = setTimeout(tick, this.probe.every)
  }

  /** A frame from the receiver. */
  back(frame: Backward): void {
    this.#heard = performance.now()
    switch (frame[0]) {
      case GRANT:
        if (frame[1] > this.granted) this.granted = frame[1]
        return this.#poke()
      case DONE:
        return this.#settle(undefined)
      case PING:
        // the consumer waits and heard nothing for a while: say where the stream stands
        try {
          this.port.forward([PROBE, this.sent], 'tell')
        } catch (error) {
          this.#settle(error)
        }
        return
      case CANCEL:
        return this.#settle(new StreamCancelled(`the receiver of stream '${this.type}' stopped after ${frame[1]} of the items`, {
          sid: this.sid, consumed: frame[1],
        }))
    }
  }

  /** The receiver ended the stream with an error (or no one could take it). */
  fail(error: MurmurError): void {
    this.#heard = performance.now()
    this.#settle(error)
  }

  /** The sender's side gave up: tell the receiver (best effort), reject with `error`. */
  #abort(error: unknown): void {
    if (this.#settled) return
    const reason = error instanceof Error ? error.message : String(error)
    try {
      this.port.forward([ABORT, reason], 'tell')
    } catch {
      // the receiver is out of reach anyway
    }
    this.#settle(error)
  }

  #settle(error: unknown): void {
    if (this.#settled) return
    this.#settled = true
    if (this.#probeTimer !== undefined) clearTimeout(this.#probeTimer)
    this.signal?.removeEventListener('abort', this.#onAbort)
    this.port.closed()
    if (error === undefined) this.#resolve()
    else this.#reject(error)
    this.#poke()
  }

  #poke(): void {
    const w = this.#wake
    this.#wake = undefined
    w?.()
  }
}
