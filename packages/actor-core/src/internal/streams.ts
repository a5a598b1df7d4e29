import type { AgentAddress, Envelope, TraceContext } from '../envelope.js'
import { AgentNotFound, AgentStopped, HandlerFailed, UnknownMessageType, fromJSON, type MurmurError } from '../errors.js'
import type { MessageDef } from '../message.js'
import { DEFAULT_STREAM_CREDIT, MAX_STREAM_CREDIT, StreamBroken, StreamRefused, type StreamOptions } from '../stream.js'
import { Inbound } from './stream-in.js'
import { Outbound } from './stream-out.js'
import {
  ABORT, DEFAULT_PROBE, END, GRANT, ITEM, OPEN, PING, PROBE, STREAM_GUARANTEE, STREAM_TYPE, clampCredit, readBackward, readForward, type Backward, type Forward, type ProbeTimings,
} from './stream-frames.js'

/** What the stream registry needs of the runtime it lives in (the engine implements it). */
export interface StreamHost {
  /** This node's id (`replyTo` of every frame a local sender sends). */
  readonly name: string | undefined
  /** Whether the agent at `address` runs in this process (then frames do not leave it). */
  hosts(address: AgentAddress): boolean
  /** `undefined` when the way to `address` has room for another item, else a promise of it. */
  ready(address: AgentAddress): Promise<void> | undefined
  /** Hands an envelope to the router; `false` without one, or when it declines. Router errors propagate. */
  route(e: Envelope): boolean
  /** A running local agent: an opaque handle and its message definitions; `undefined` when not hosted. */
  target(address: AgentAddress): { readonly owner: unknown; readonly defs: Readonly<Record<string, MessageDef>>; readonly takesStreams: boolean } | undefined
  /** Queues the call of the agent's `onStream` in its mailbox, with `inbound` as its reply handle. */
  handOver(owner: unknown, inbound: Inbound, opened: Envelope): void
}

/** Outcomes of closed inbound streams kept for late probes (oldest forgotten first). */
const KEPT_OUTCOMES = 1024

/** A `fail` envelope's payload as the error it serializes (a malformed one as `HandlerFailed`). */
function revive(payload: unknown): MurmurError {
  const s = payload as { code?: unknown; message?: unknown } | null
  return s !== null && typeof s === 'object' && typeof s.code === 'string' && typeof s.message === 'string'
    ? fromJSON(payload as Parameters<typeof fromJSON>[0])
    : new HandlerFailed('malformed fail envelope of a stream', { payload })
}

/**
 * The streams of one process, both ends: outbound ones by id (settled by frames from their
 * receiver) and inbound ones by id (fed by frames from their sender). Every frame goes out as an
 * envelope: to this process directly when it hosts the target, else through the router.
 */
export class Streams {
  readonly #out = new Map<string, Outbound>()
  readonly #in = new Map<string, Inbound>()
  /** The outcome of recently closed inbound streams, to answer a probe whose `done` was lost. */
  readonly #outcomes = new Map<string, { kind: 'reply' | 'fail'; payload: unknown }>()
  #seq = 0

  constructor(readonly host: StreamHost, readonly prefix: string, readonly probe: ProbeTimings = DEFAULT_PROBE) {}

  /** Starts streaming `source` to `to` as items of `type`; settles with the receiver's outcome. */
  open(to: AgentAddress, from: AgentAddress | undefined, trace: TraceContext | undefined, type: string,
    source: AsyncIterable<unknown> | Iterable<unknown>, options: StreamOptions | undefined): Promise<void> {
    const asked = options?.credit ?? DEFAULT_STREAM_CREDIT
    if (!(asked >= 1)) return Promise.reject(new RangeError(`stream credit must be at least 1 (got ${asked})`))
    const sid = `${this.prefix}-s${(++this.#seq).toString(36)}`
    const replyTo = this.host.name
    const out = new Outbound(sid, type, clampCredit(asked, MAX_STREAM_CREDIT), {
      forward: (frame: Forward, kind: 'ask' | 'tell'): void => {
        const e: { -readonly [K in keyof Envelope]: Envelope[K] } = {
          kind, to, type: STREAM_TYPE, payload: frame, guarantee: STREAM_GUARANTEE, correlationId: sid,
        }
        if (replyTo !== undefined) e.replyTo = replyTo
        if (frame[0] === OPEN) {
          if (from !== undefined) e.from = from
          if (trace !== undefined) e.trace = trace
        }
        this.#toReceiver(e)
      },
      closed: () => this.#out.delete(sid),
      ready: () => (this.host.hosts(to) ? undefined : this.host.ready(to)),
    }, options?.signal, this.probe)
    this.#out.set(sid, out)
    void out.run(source)
    return out.promise
  }

  /** An envelope of type `$stream`, from this process or another node. Never throws for bad input. */
  receive(e: Envelope): void {
    const sid = e.correlationId
    if (typeof sid !== 'string') return
    if (e.kind === 'reply' || e.kind === 'fail') {
      const out = this.#out.get(sid)
      if (out === undefined) {
        // Settled already: late grants and duplicates end here. A ping means a consumer still waits
        // (this process restarted, or the outcome was lost): it must not wait for ever.
        if (e.kind === 'reply' && readBackward(e.payload)?.[0] === PING && e.from !== undefined) this.#abandoned(e.from, sid)
        return
      }
      if (e.kind === 'fail') return out.fail(revive(e.payload))
      const frame = readBackward(e.payload)
      if (frame !== undefined) out.back(frame)
      return
    }
    const frame = readForward(e.payload)
    if (frame === undefined) return
    if (frame[0] === OPEN) return this.#accept(e, sid, frame[1], frame[2])
    const inbound = this.#in.get(sid)
    const outcome = inbound === undefined && frame[0] === PROBE ? this.#outcomes.get(sid) : undefined
    if (outcome !== undefined) return this.#back(e, outcome.kind, outcome.payload)
    if (inbound === undefined) {
      // Its receiver stopped, or moved, or this node restarted: the sender must not wait for ever.
      if (frame[0] !== ABORT) this.#back(e, 'fail', new StreamBroken(`stream ${sid} is not open at ${e.to.type}/${e.to.id}`, { sid, ...e.to }).toJSON())
      return
    }
    switch (frame[0]) {
      case ITEM: return inbound.item(frame[1], frame[2])
      case END: return inbound.end(frame[1])
      case ABORT: return inbound.abort(frame[1])
      case PROBE: return inbound.probe(frame[1])
    }
  }

  /** The agent behind `owner` stopped (or moved): its inbound streams end with `AgentStopped`. */
  agentStopped(owner: unknown, address: AgentAddress): void {
    if (this.#in.size === 0) return
    for (const inbound of this.#in.values()) {
      if (inbound.owner === owner) inbound.fail(new AgentStopped(`agent ${address.type}/${address.id} stopped during the stream`, { ...address }))
    }
  }

  /** The system stops: every stream still open here fails with `error`. */
  closeAll(error: MurmurError): void {
    for (const inbound of [...this.#in.values()]) inbound.fail(error)
    for (const out of [...this.#out.values()]) out.fail(error)
  }

  #accept(opened: Envelope, sid: string, type: string, credit: number): void {
    if (this.#in.has(sid)) return // a duplicate open
    const t = this.host.target(opened.to)
    if (t === undefined) {
      return this.#back(opened, 'fail', new AgentNotFound(`no agent ${opened.to.type}/${opened.to.id} here`, { ...opened.to }).toJSON())
    }
    if (!t.takesStreams) {
      return this.#back(opened, 'fail', new StreamRefused(`agent ${opened.to.type}/${opened.to.id} takes no streams (its class has no onStream)`, { ...opened.to, type }).toJSON())
    }
    const def = t.defs[type]
    if (def === undefined) {
      return this.#back(opened, 'fail', new UnknownMessageType(`protocol '${opened.to.type}' has no message type '${type}'`, { type, to: opened.to }).toJSON())
    }
    let last: { kind: 'reply' | 'fail'; payload: unknown } | undefined
    const inbound = new Inbound(sid, t.owner, type, def.schema, clampCredit(credit, MAX_STREAM_CREDIT), {
      back: (frame: Backward) => {
        if (frame[0] !== GRANT) last = { kind: 'reply', payload: frame }
        this.#back(opened, 'reply', frame)
      },
      fail: (error: MurmurError) => {
        last = { kind: 'fail', payload: error.toJSON() }
        this.#back(opened, 'fail', last.payload)
      },
      closed: () => {
        this.#in.delete(sid)
        if (last !== undefined) this.#remember(sid, last)
      },
    }, this.probe)
    this.#in.set(sid, inbound)
    this.host.handOver(t.owner, inbound, opened)
    // first credit, unless the hand-over already failed (a full mailbox)
    if (this.#in.get(sid) === inbound) this.#back(opened, 'reply', [GRANT, inbound.granted])
  }

  #abandoned(receiver: AgentAddress, sid: string): void {
    try {
      this.#toReceiver({
        kind: 'tell', to: receiver, type: STREAM_TYPE, payload: [ABORT, 'the sender no longer has this stream'],
        guarantee: STREAM_GUARANTEE, correlationId: sid,
      })
    } catch {
      // the receiver is out of reach: it gives up on its own
    }
  }

  #remember(sid: string, outcome: { kind: 'reply' | 'fail'; payload: unknown }): void {
    if (this.#outcomes.size >= KEPT_OUTCOMES) this.#outcomes.delete(this.#outcomes.keys().next().value!)
    this.#outcomes.set(sid, outcome)
  }

  #toReceiver(e: Envelope): void {
    if (this.host.hosts(e.to)) return this.receive(e)
    if (!this.host.route(e)) throw new AgentNotFound(`no agent ${e.to.type}/${e.to.id} is reachable`, { ...e.to })
  }

  /** A frame from the receiving end to the sender of the stream `opened` (or of a frame of it) belongs to. */
  #back(toward: Envelope, kind: 'reply' | 'fail', payload: unknown): void {
    const sid = toward.correlationId!
    const e: { -readonly [K in keyof Envelope]: Envelope[K] } = {
      kind, to: toward.from ?? { type: STREAM_TYPE, id: sid }, from: toward.to, type: STREAM_TYPE, payload,
      guarantee: STREAM_GUARANTEE, correlationId: sid,
    }
    if (toward.replyTo !== undefined) e.replyTo = toward.replyTo
    if (this.#out.has(sid)) return this.receive(e)
    if (toward.replyTo === undefined || toward.replyTo === this.host.name) return // its sender is gone
    try {
      this.host.route(e)
    } catch {
      // the sender's node is out of reach: its stream ends when it finds out
    }
  }
}
