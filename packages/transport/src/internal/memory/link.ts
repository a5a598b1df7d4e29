import type { Link, LinkHandlers } from '../../connector.js'
import { CloseCode, LinkState, assertFrameSize, wireCloseCode, wireCloseReason, type LinkLimits } from '../link-state.js'
import type { Owner } from './scheduler.js'

/** A frame on its way: the copy taken at `send`, and its number on this direction of the link. */
export interface InFlight {
  readonly data: Uint8Array
  readonly n: number
}

/** What a memory link needs from its network: time, the faulty wire, and the record. */
export interface Wire {
  /** Schedules `fn` after `delay` virtual ms on behalf of `owner` (skipped if it crashes). */
  schedule(delay: number, fn: () => void, owner: Owner): void
  /** Virtual ms to push `bytes` out of the sender's buffer; 0 means everything queued leaves at once. */
  transmitTime(bytes: number): number
  /** The frame left `from`'s buffer: apply faults and schedule its arrival at `from.peer`. */
  route(from: MemoryLink, frame: InFlight): void
  /** `from` closed gracefully and everything it queued has left: tell the peer, after those frames. */
  closeNotice(from: MemoryLink, code: number, reason: string): void
  /** `at` received a frame over its limit: break the link on both ends. */
  oversized(at: MemoryLink, bytes: number): void
  sent(from: MemoryLink, frame: InFlight): void
  closed(link: MemoryLink, code: number, reason: string): void
}

/** One end of an in-process link. Each end owns the buffer of frames it sends. */
export class MemoryLink implements Link {
  peer!: MemoryLink
  readonly state: LinkState
  private queue: InFlight[] = []
  private buffered = 0
  private transmitting = false
  private sentCount = 0
  private pendingClose: { code: number; reason: string } | undefined
  /** Arrival time of the last in-order frame sent this way: later frames may not overtake it. */
  lastArrival = 0
  /** Its node crashed: nothing more leaves, and what is on the wire is lost. */
  crashed = false
  /** The set of links of the connector that owns this end, if any. */
  home: Set<MemoryLink> | undefined

  constructor(
    readonly id: number,
    readonly node: string,
    readonly owner: Owner,
    readonly remoteAddress: string,
    handlers: LinkHandlers,
    limits: LinkLimits,
    private readonly wire: Wire,
  ) {
    this.state = new LinkState(handlers, limits)
  }

  send(frame: Uint8Array): boolean {
    if (this.state.closed) return true
    assertFrameSize(frame, this.state.limits)
    // A real socket copies too: the caller may reuse its buffer once `send` returns.
    const item: InFlight = { data: frame.slice(), n: this.sentCount++ }
    this.queue.push(item)
    this.buffered += item.data.byteLength
    this.wire.sent(this, item)
    if (!this.transmitting) this.scheduleTransmit()
    return this.state.afterSend(this.buffered)
  }

  bufferedAmount(): number {
    return this.buffered
  }

  close(code: number = CloseCode.normal, reason = ''): void {
    // Same codes and reasons as a WebSocket would carry, so both connectors tell the same story.
    code = wireCloseCode(code)
    reason = wireCloseReason(reason)
    if (!this.state.finish(code, reason)) return
    this.wire.closed(this, code, reason)
    if (this.transmitting) this.pendingClose = { code, reason }
    else this.wire.closeNotice(this, code, reason)
  }

  cork(fn: () => void): void {
    fn()
  }

  /** A frame arrived from the peer. */
  receive(data: Uint8Array): void {
    if (data.byteLength > this.state.limits.maxPayloadLength) this.wire.oversized(this, data.byteLength)
    else this.state.deliver(data, this)
  }

  /** The link broke under this end (peer crash, cut, protocol violation): queued frames are lost. */
  break(code: number, reason: string): void {
    this.queue = []
    this.buffered = 0
    this.pendingClose = undefined
    if (this.state.finish(code, reason)) this.wire.closed(this, code, reason)
  }

  /** This end's node crashed: it reports nothing (it is gone) and sends nothing more. */
  crash(): void {
    this.crashed = true
    this.queue = []
    this.buffered = 0
    this.pendingClose = undefined
    this.state.closed = true
  }

  private scheduleTransmit(): void {
    const head = this.queue[0]
    if (head === undefined) return
    this.transmitting = true
    this.wire.schedule(this.wire.transmitTime(head.data.byteLength), this.transmit, this.owner)
  }

  private readonly transmit = (): void => {
    this.transmitting = false
    if (this.crashed) return
    // Unlimited bandwidth: the whole queue leaves in this step; otherwise one frame per step.
    const leaving = this.wire.transmitTime(1) === 0 ? this.queue.splice(0) : this.queue.splice(0, 1)
    for (const item of leaving) {
      this.buffered -= item.data.byteLength
      this.wire.route(this, item)
      if (this.crashed) return
    }
    if (this.queue.length > 0) this.scheduleTransmit()
    else if (this.pendingClose !== undefined) {
      this.wire.closeNotice(this, this.pendingClose.code, this.pendingClose.reason)
      this.pendingClose = undefined
    }
    this.state.maybeDrain(this.buffered)
  }
}
