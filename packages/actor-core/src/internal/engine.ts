import { nanoid } from 'nanoid'
import type { AgentAddress, Envelope, Router, TraceContext } from '../envelope.js'
import {
  AgentNotFound, AgentStopped, DuplicateAgentId, HandlerFailed, MailboxFull, MurmurError, SchemaViolation,
  SystemStopped, UnknownMessageType, fromJSON, serializeError,
} from '../errors.js'
import { DEFAULT_GUARANTEE } from '../guarantee.js'
import type { DeadLetterReason } from '../dead-letters.js'
import { DeadLetters } from '../dead-letters.js'
import type { InspectionEvent, InspectionObserver, StopReason } from '../inspection.js'
import { Mailbox, type MailboxOptions } from '../mailbox.js'
import type { MessageDef } from '../message.js'
import type { AnyProtocol } from '../protocol.js'
import type { AskOptions, Cancellable, Ref } from '../ref.js'
import { decide, resolveSupervision, type Exit, type SupervisionOptions } from '../supervision.js'
import {
  AWAITING, Cell, IDLE, RUNNING, RefImpl, SCHEDULED, STOPPED, STOPPING, SUSPENDED, construct,
  type AgentCtor, type CellOptions, type Runtime, type StopRequest,
} from './cell.js'
import { Deadlines } from './deadlines.js'
import { newId } from './ids.js'
import { PendingAsk, type ReplyHandle } from './replies.js'
import { childTrace, newTrace } from './trace.js'
import { Streams } from './streams.js'
import { DEFAULT_PROBE, REFUSES_STREAMS, STREAM_TYPE } from './stream-frames.js'
import type { Inbound } from './stream-in.js'
import type { FlowControl, StreamOptions } from '../stream.js'

/** A pino-compatible logger (only `warn` and `error` are used). */
export interface Logger {
  warn(obj: object, msg?: string): void
  error(obj: object, msg?: string): void
}

export interface EngineOptions {
  readonly validate?: 'boundary' | 'always'
  readonly name?: string
  readonly logger?: Logger
  readonly askTimeout?: number
  readonly streams?: { readonly probeEvery?: number; readonly giveUpAfter?: number }
}

export interface SpawnInit {
  readonly id?: string
  readonly input?: unknown
  readonly parent?: Ref
  readonly supervision?: SupervisionOptions
  readonly mailbox?: MailboxOptions
}

/** What `handoff` returns: everything needed to bring the agent back on another node. */
export interface Handoff {
  readonly agentClass: AgentCtor
  readonly address: AgentAddress
  readonly state: unknown
  /** Messages that were waiting in its mailbox, as envelopes to forward to the new home. */
  readonly pending: readonly Envelope[]
}

/**
 * The mailbox entry that hands an inbound stream to its agent: handled like a message, by the
 * agent's `onStream` method (so no branch on the hot path), with the stream as its reply handle.
 */
const ON_STREAM = 'onStream'

/** Most messages one agent handles before others get a turn. */
const PER_CELL = 1024
/** Most messages handled per drain before yielding to I/O with setImmediate. */
const PER_DRAIN = 65_536

interface Thenable {
  then(ok: (v: unknown) => unknown, fail: (e: unknown) => unknown): unknown
}

function isThenable(v: unknown): v is Thenable {
  return v !== null && typeof v === 'object' && typeof (v as Thenable).then === 'function'
}

function toMurmur(error: unknown): MurmurError {
  if (error instanceof MurmurError) return error
  const message = error instanceof Error ? error.message : String(error)
  return new HandlerFailed(message, { name: error instanceof Error ? error.name : typeof error }, { cause: error })
}

/** An envelope literal without the optional fields that are undefined (exactOptionalPropertyTypes). */
type Optional = 'from' | 'correlationId' | 'replyTo' | 'trace'
function envelope(fields: Omit<Envelope, Optional> & { readonly [K in Optional]: Envelope[K] | undefined }): Envelope {
  // Field by field, not `Object.entries`: this runs for every message that leaves the node, and
  // the generic loop (an array of pairs per call) was ~15 % of a remote tell's CPU.
  const e: { -readonly [K in keyof Envelope]: Envelope[K] } = {
    kind: fields.kind, to: fields.to, type: fields.type, payload: fields.payload, guarantee: fields.guarantee,
  }
  if (fields.from !== undefined) e.from = fields.from
  if (fields.correlationId !== undefined) e.correlationId = fields.correlationId
  if (fields.replyTo !== undefined) e.replyTo = fields.replyTo
  if (fields.trace !== undefined) e.trace = fields.trace
  return e as Envelope
}

class Timer implements Cancellable {
  handle: NodeJS.Timeout | undefined = undefined
  constructor(readonly engine: Engine, readonly cell: Cell, readonly type: string, readonly payload: unknown,
    readonly repeat: boolean) {}

  cancel(): void {
    if (this.handle === undefined) return
    if (this.repeat) clearInterval(this.handle)
    else clearTimeout(this.handle)
    this.handle = undefined
    this.cell.timers?.delete(this)
  }
}

class Stop implements StopRequest {
  readonly done: Promise<void>
  resolve!: () => void
  handoff: Handoff | undefined = undefined
  constructor(readonly reason: StopReason) {
    this.done = new Promise((r) => { this.resolve = r })
  }
}

/** An ask that came in through `deliver`: its result goes back as a `reply` / `fail` envelope. */
class RemoteReply implements ReplyHandle {
  constructor(readonly engine: Engine, readonly ask: Envelope) {}
  ok(value: unknown): void {
    this.engine.answer(this.ask, 'reply', value)
  }
  fail(error: MurmurError): void {
    this.engine.answer(this.ask, 'fail', serializeError(error))
  }
}

/**
 * A tell from another node whose sender keeps custody of it until it is done with here: handled
 * (or failed in its handler), or dropped (overflow, a stop). Rides in the mailbox's reply slot, so
 * it costs nothing for other messages; it is still a tell, and hands its original envelope back if
 * the agent moves before taking it (the cluster keeps its custody data by that envelope).
 */
class TellReceipt implements ReplyHandle {
  constructor(readonly envelope: Envelope, readonly settle: (e: Envelope) => void) {}
  ok(): void {
    this.settle(this.envelope)
  }
  fail(): void {
    this.settle(this.envelope)
  }
}

/**
 * The runtime behind `ActorSystem`: the registry, the dispatcher (a ready queue of cells drained
 * per microtask), supervision, timers, the router seam. Private to the package.
 */
export class Engine implements Runtime {
  readonly name: string | undefined
  readonly deadLetters = new DeadLetters()
  readonly #validateAlways: boolean
  readonly #askTimeout: number
  readonly #logger: Logger | undefined
  #router: Router | undefined = undefined
  #flow: FlowControl | undefined = undefined
  readonly #classes = new Map<string, AgentCtor>()
  readonly #agents = new Map<string, Map<string, Cell>>()
  /** Cells added so far: a ref whose lookup found none at this count need not look again (see `#send`). */
  #added = 0
  readonly #classOpts = new Map<AgentCtor, CellOptions>()
  #seq = 0
  #ready: Cell[] = []
  #spare: Cell[] = []
  #kicked = false
  /** Cells awaiting an async handler or hook, or waiting to restart: work not in the ready queue. */
  #busy = 0
  #observers: Set<InspectionObserver> | undefined = undefined
  readonly #pending = new Map<string, PendingAsk>()
  readonly #deadlines = new Deadlines()
  #correlation = 0
  readonly #correlationPrefix = nanoid(12)
  #stopping = false
  #clock = -1
  readonly #tick = (): void => { this.#clock = -1 }
  readonly #drain = (): void => this.#drainReady()
  readonly #streams: Streams

  constructor(options: EngineOptions = {}) {
    this.name = options.name
    this.#validateAlways = options.validate === 'always'
    this.#askTimeout = options.askTimeout ?? 30_000
    this.#logger = options.logger
    this.#streams = new Streams({
      name: this.name,
      hosts: (address) => this.hosts(address),
      route: (e) => this.#router !== undefined && this.#router.route(e),
      ready: (address) => this.#flow?.ready(address),
      target: (address) => {
        const cell = this.lookup(address)
        if (cell === undefined || cell.state >= STOPPING) return undefined
        const onStream = cell.agent['onStream'] as object | undefined
        return { owner: cell, defs: cell.defs, takesStreams: onStream !== undefined && !(REFUSES_STREAMS in onStream) }
      },
      handOver: (owner, inbound: Inbound, e) => {
        this.#enqueue(owner as Cell, ON_STREAM, inbound.view, e.from, e.trace ?? newTrace(), inbound, false)
      },
    }, this.#correlationPrefix, {
      every: options.streams?.probeEvery ?? DEFAULT_PROBE.every,
      giveUpAfter: options.streams?.giveUpAfter ?? DEFAULT_PROBE.giveUpAfter,
    })
  }

  // ---- registry ---------------------------------------------------------------------------

  register(cls: AgentCtor): void {
    const known = this.#classes.get(cls.protocol.name)
    if (known === cls) return
    if (known !== undefined) throw new TypeError(`protocol '${cls.protocol.name}' is already registered by class ${known.name}`)
    this.#classes.set(cls.protocol.name, cls)
  }

  classOf(type: string): AgentCtor | undefined {
    return this.#classes.get(type)
  }

  lookup(address: AgentAddress): Cell | undefined {
    return this.#agents.get(address.type)?.get(address.id)
  }

  hosts(address: AgentAddress): boolean {
    const cell = this.lookup(address)
    return cell !== undefined && cell.state < STOPPING
  }

  localAgents(): AgentAddress[] {
    const out: AgentAddress[] = []
    for (const byId of this.#agents.values()) for (const cell of byId.values()) if (cell.state < STOPPING) out.push(cell.address)
    return out
  }

  useRouter(router: Router | undefined): void {
    this.#router = router
  }

  useFlowControl(flow: FlowControl | undefined): void {
    this.#flow = flow
  }

  inspect(observer: InspectionObserver): () => void {
    const observers = (this.#observers ??= new Set())
    observers.add(observer)
    return () => {
      observers.delete(observer)
      if (observers.size === 0 && this.#observers === observers) this.#observers = undefined
    }
  }

  #emit(event: InspectionEvent): void {
    for (const observer of this.#observers ?? []) {
      try {
        observer(event)
      } catch (error) {
        this.#logger?.warn({ err: error }, 'inspection observer threw')
      }
    }
  }

  // ---- spawn ------------------------------------------------------------------------------

  spawn(cls: AgentCtor, init: SpawnInit | undefined, parent: Cell | undefined, restored?: { state: unknown }): RefImpl {
    if (this.#stopping) throw new SystemStopped('the actor system is stopping')
    const sender = parent // `this.spawn` returns a ref that sends as the parent; `system.spawn` one that does not
    this.register(cls)
    const proto = cls.protocol
    const id = init?.id ?? newId()
    let byId = this.#agents.get(proto.name)
    if (byId === undefined) this.#agents.set(proto.name, (byId = new Map()))
    if (byId.has(id)) throw new DuplicateAgentId(`an agent '${proto.name}/${id}' already runs here`, { type: proto.name, id })
    if (parent === undefined && init?.parent !== undefined) {
      const p = init.parent as RefImpl
      parent = this.lookup(p.address)
      if (parent === undefined || parent.state >= STOPPING) throw new AgentNotFound(`parent ${p.address.type}/${p.address.id} is not hosted here`, { ...p.address })
    }
    const opts = init?.supervision !== undefined || init?.mailbox !== undefined ? this.#cellOptions(cls, init) : this.#defaultOptions(cls)
    const cell = new Cell(this, cls, proto.messages, { type: proto.name, id }, ++this.#seq, init?.input, opts, parent)
    byId.set(id, cell)
    this.#added++
    try {
      cell.agent = construct(cell)
      if (restored !== undefined) (cell.agent as unknown as { restore(s: unknown): void }).restore(restored.state)
    } catch (error) {
      byId.delete(id)
      throw error
    }
    if (parent !== undefined) (parent.children ??= []).push(cell)
    if (this.#observers !== undefined) {
      this.#emit(parent === undefined
        ? { type: 'spawned', agent: cell.address }
        : { type: 'spawned', agent: cell.address, parent: parent.address })
    }
    this.#start(cell, undefined, false)
    return new RefImpl(this, cell.address, proto, sender, cell)
  }

  spawnChild(parent: Cell, cls: AgentCtor, options: object | undefined): Ref {
    return this.spawn(cls, options as SpawnInit | undefined, parent)
  }

  #defaultOptions(cls: AgentCtor): CellOptions {
    let opts = this.#classOpts.get(cls)
    if (opts === undefined) this.#classOpts.set(cls, (opts = this.#cellOptions(cls, undefined)))
    return opts
  }

  #cellOptions(cls: AgentCtor, init: SpawnInit | undefined): CellOptions {
    const capacity = init?.mailbox?.capacity ?? cls.mailbox?.capacity ?? Infinity
    if (!(capacity > 0)) throw new RangeError('mailbox capacity must be positive')
    return {
      supervision: resolveSupervision(cls.supervision, init?.supervision),
      capacity,
      overflow: init?.mailbox?.overflow ?? cls.mailbox?.overflow ?? 'reject',
    }
  }

  /** Runs `onStart` (after `onRestart` on a restart); messages wait until it is done. */
  #start(cell: Cell, error: unknown, restarting: boolean): void {
    cell.state = RUNNING
    const agent = cell.agent as unknown as { onStart(): unknown; onRestart(e: unknown): unknown }
    let result: unknown
    try {
      if (restarting) {
        const r = agent.onRestart(error)
        result = isThenable(r) ? Promise.resolve(r).then(() => agent.onStart()) : agent.onStart()
      } else {
        result = agent.onStart()
      }
    } catch (e) {
      this.#failed(cell, undefined, undefined, e)
      return
    }
    if (isThenable(result)) this.#await(cell, result, undefined, undefined, 0)
    else this.#resume(cell)
  }

  // ---- refs -------------------------------------------------------------------------------

  refFrom(from: Cell | undefined, protocol: AnyProtocol, id: string): Ref {
    const address = { type: protocol.name, id }
    return new RefImpl(this, address, protocol, from, this.lookup(address))
  }

  refOf(address: AgentAddress, from?: Cell): RefImpl {
    return new RefImpl(this, address, this.#classes.get(address.type)?.protocol, from, this.lookup(address))
  }

  senderOf(cell: Cell): Ref | undefined {
    const s = cell.sender
    if (s === undefined) return undefined
    if (s instanceof Cell) return new RefImpl(this, s.address, s.cls.protocol, cell, s)
    return this.refOf(s as AgentAddress, cell)
  }

  traceOf(cell: Cell): TraceContext {
    return (cell.trace ??= newTrace())
  }

  /**
   * A clock read once per synchronous run of code (asks made in one loop share it): timeouts are
   * ms-coarse anyway, and reading the clock per ask cost ~10% of an ask.
   */
  #now(): number {
    if (this.#clock < 0) {
      this.#clock = performance.now()
      queueMicrotask(this.#tick)
    }
    return this.#clock
  }

  /** Called by a PendingAsk when it settles: forget its correlation id, release its deadline. */
  settled(ask: PendingAsk): void {
    if (ask.correlationId !== undefined) this.#pending.delete(ask.correlationId)
    if (ask.deadline !== 0) this.#deadlines.done()
  }

  // ---- sending ----------------------------------------------------------------------------

  tell(ref: RefImpl, type: string, payload: unknown): void {
    this.#send(ref, type, payload, undefined)
  }

  ask(ref: RefImpl, type: string, payload: unknown, options: AskOptions | undefined): Promise<unknown> {
    const pending = new PendingAsk(this, ref.address, type)
    try {
      this.#send(ref, type, payload, pending)
    } catch (error) {
      pending.fail(error)
    }
    if (!pending.settled) {
      const timeout = options?.timeout ?? this.#askTimeout
      if (timeout !== Infinity) {
        pending.deadline = this.#now() + timeout
        this.#deadlines.add(pending, timeout)
      }
      if (options?.signal !== undefined) pending.listen(options.signal)
    }
    return pending.promise
  }

  /** Streams `source` to the agent behind `ref` (see `Ref.stream`). */
  stream(ref: RefImpl, type: string, source: AsyncIterable<unknown> | Iterable<unknown>, options: StreamOptions | undefined): Promise<void> {
    if (ref.protocol !== undefined && ref.protocol.messages[type] === undefined) return Promise.reject(this.#unknownType(ref.address, type))
    const from = ref.from
    const trace = from !== undefined ? childTrace(this.traceOf(from)) : newTrace()
    return this.#streams.open(ref.address, from?.address, trace, type, source, options)
  }

  /** The hot path: a message to a ref, local (enqueue) or not (router). Throws on bad input. */
  #send(ref: RefImpl, type: string, payload: unknown, reply: PendingAsk | undefined): void {
    let cell = ref.cached
    if (cell === undefined || cell.state >= STOPPING) {
      // A ref to an agent elsewhere: no cell was added since its last lookup found none, so none
      // would be found now (two map reads per remote tell spared).
      if (cell === undefined && ref.missedAt === this.#added) return this.#sendOut(ref, type, payload, reply)
      const found = this.lookup(ref.address)
      if (found !== cell) {
        ref.cached = cell = found
        ref.lastType = ''
      }
      if (cell === undefined) {
        ref.missedAt = this.#added
        return this.#sendOut(ref, type, payload, reply)
      }
    }
    // Routed through the cluster for now (see `routeThrough`): ordered behind messages in flight.
    if (cell.routed) return this.#sendOut(ref, type, payload, reply)
    let def = ref.lastDef
    if (type !== ref.lastType) {
      def = cell.defs[type]
      if (def === undefined) throw this.#unknownType(cell.address, type)
      ref.lastType = type
      ref.lastDef = def
    }
    if (this.#validateAlways) payload = this.#check(def!, payload, cell.address, type)
    const from = ref.from
    const trace = from !== undefined ? childTrace(this.traceOf(from)) : this.#observers !== undefined ? newTrace() : undefined
    this.#enqueue(cell, type, payload, from, trace, reply, true)
  }

  #sendOut(ref: RefImpl, type: string, payload: unknown, reply: PendingAsk | undefined): void {
    // The ref's own protocol knows the type (no local cell); the last one is kept as for a local cell.
    let def = ref.lastDef
    if (type !== ref.lastType) {
      def = ref.protocol?.messages[type]
      if (ref.protocol !== undefined && def === undefined) throw this.#unknownType(ref.address, type)
      ref.lastType = type
      ref.lastDef = def
    }
    if (this.#validateAlways && def !== undefined) payload = this.#check(def, payload, ref.address, type)
    const from = ref.from
    let correlationId: string | undefined
    if (reply !== undefined) {
      correlationId = `${this.#correlationPrefix}-${(++this.#correlation).toString(36)}`
      reply.correlationId = correlationId
      reply.replySchema = def?.reply
      this.#pending.set(correlationId, reply)
    }
    const e = envelope({
      kind: reply === undefined ? 'tell' : 'ask',
      to: ref.address,
      from: from?.address,
      type,
      payload,
      guarantee: def?.guarantee ?? DEFAULT_GUARANTEE,
      correlationId,
      replyTo: reply === undefined ? undefined : this.name,
      trace: from !== undefined ? childTrace(this.traceOf(from)) : newTrace(),
    })
    if (this.#route(e)) return
    const error = new AgentNotFound(`no agent ${ref.address.type}/${ref.address.id} is reachable`, { ...ref.address })
    reply?.fail(error)
    this.#dead('agent-not-found', e, error)
  }

  #route(e: Envelope): boolean {
    const router = this.#router
    if (router === undefined) return false
    try {
      return router.route(e)
    } catch (error) {
      this.#logger?.error({ err: error, to: e.to, type: e.type }, 'router threw; envelope dead-lettered')
      return false
    }
  }

  #check(def: MessageDef, payload: unknown, to: AgentAddress, type: string): unknown {
    const result = def.schema.safeParse(payload)
    if (result.success) return result.data
    return this.#throw(new SchemaViolation(`payload of '${type}' for ${to.type}/${to.id} does not match its schema`, {
      type, to, issues: result.error.issues as unknown,
    }))
  }

  #throw(error: MurmurError): never {
    throw error
  }

  #unknownType(to: AgentAddress, type: string): UnknownMessageType {
    return new UnknownMessageType(`protocol '${to.type}' has no message type '${type}'`, { type, to })
  }

  /**
   * Puts a message in a mailbox and schedules the agent. `sender` is a Cell (local agent), an
   * AgentAddress (remote agent) or undefined. With `throwOnReject`, a full mailbox under policy
   * `reject` throws at the sender instead of failing the reply.
   */
  #enqueue(cell: Cell, type: string, payload: unknown, sender: unknown, trace: TraceContext | undefined,
    reply: ReplyHandle | undefined, throwOnReject: boolean): void {
    if (cell.state >= STOPPING) {
      const error = new AgentStopped(`agent ${cell.address.type}/${cell.address.id} has stopped`, { ...cell.address })
      reply?.fail(error)
      this.#dead('agent-stopped', this.#entryEnvelope(cell, type, payload, sender, trace, reply), error)
      return
    }
    let mb = cell.mailbox
    if (mb === undefined) cell.mailbox = mb = new Mailbox()
    if (mb.size >= cell.opts.capacity && !this.#overflow(cell, mb, type, payload, sender, trace, reply, throwOnReject)) return
    mb.push(type, payload, sender, trace, reply)
    if (this.#observers !== undefined) this.#received(cell, type, sender, trace, reply)
    if (cell.state === IDLE) {
      cell.state = SCHEDULED
      this.#ready.push(cell)
      if (!this.#kicked) {
        this.#kicked = true
        queueMicrotask(this.#drain)
      }
    }
  }

  /** A full mailbox: returns true when the new message should still be pushed (oldest dropped). */
  #overflow(cell: Cell, mb: Mailbox, type: string, payload: unknown, sender: unknown, trace: TraceContext | undefined,
    reply: ReplyHandle | undefined, throwOnReject: boolean): boolean {
    const error = new MailboxFull(`mailbox of ${cell.address.type}/${cell.address.id} is full (${cell.opts.capacity})`, {
      ...cell.address, capacity: cell.opts.capacity,
    })
    switch (cell.opts.overflow) {
      case 'drop-oldest':
        this.#dropHead(cell, mb, 'mailbox-full', error)
        return true
      case 'reject':
      case 'drop-newest':
        // a local tell under `reject` throws at the sender; asks and remote messages are refused
        if (cell.opts.overflow === 'reject' && throwOnReject && reply === undefined) throw error
        reply?.fail(error)
        this.#dead('mailbox-full', this.#entryEnvelope(cell, type, payload, sender, trace, reply), error)
        return false
    }
  }

  #received(cell: Cell, type: string, sender: unknown, trace: TraceContext | undefined, reply: ReplyHandle | undefined): void {
    const from = sender instanceof Cell ? sender.address : (sender as AgentAddress | undefined)
    const event: Record<string, unknown> = {
      type: 'received', agent: cell.address, messageType: type, kind: reply === undefined || reply instanceof TellReceipt ? 'tell' : 'ask',
    }
    if (from !== undefined) event['from'] = from
    if (trace !== undefined) event['trace'] = trace
    this.#emit(event as unknown as InspectionEvent)
  }

  /** A mailbox entry as an envelope, for dead letters and handoff. */
  #entryEnvelope(cell: Cell, type: string, payload: unknown, sender: unknown, trace: TraceContext | undefined,
    reply: ReplyHandle | undefined): Envelope {
    if (reply instanceof TellReceipt) return reply.envelope
    let correlationId: string | undefined
    let replyTo: string | undefined
    if (reply instanceof RemoteReply) {
      correlationId = reply.ask.correlationId
      replyTo = reply.ask.replyTo
    } else if (reply instanceof PendingAsk) {
      correlationId = reply.correlationId
      replyTo = this.name
    }
    return envelope({
      kind: reply === undefined ? 'tell' : 'ask',
      to: cell.address,
      from: sender instanceof Cell ? sender.address : (sender as AgentAddress | undefined),
      type,
      payload,
      guarantee: cell.defs[type]?.guarantee ?? DEFAULT_GUARANTEE,
      correlationId,
      replyTo,
      // local messages from outside any agent get their trace lazily: an envelope always has one
      trace: trace ?? newTrace(),
    })
  }

  #dead(reason: DeadLetterReason, e: Envelope, error?: MurmurError): void {
    const letter = error === undefined ? { reason, envelope: e } : { reason, envelope: e, error }
    this.deadLetters.publish(letter)
    if (this.#observers !== undefined) this.#emit({ type: 'dead-lettered', deadLetter: letter })
  }

  // ---- the dispatcher ---------------------------------------------------------------------

  #schedule(cell: Cell): void {
    cell.state = SCHEDULED
    this.#ready.push(cell)
    if (!this.#kicked) {
      this.#kicked = true
      queueMicrotask(this.#drain)
    }
  }

  #drainReady(): void {
    this.#kicked = false
    let budget = PER_DRAIN
    while (this.#ready.length > 0 && budget > 0) {
      const batch = this.#ready
      this.#ready = this.#spare
      for (let i = 0; i < batch.length; i++) {
        const cell = batch[i]!
        if (budget > 0) budget -= this.#run(cell)
        else this.#ready.push(cell)
      }
      batch.length = 0
      this.#spare = batch
    }
    if (this.#ready.length > 0 && !this.#kicked) {
      // a long burst: let I/O in before going on
      this.#kicked = true
      setImmediate(this.#drain)
    }
  }

  /** Handles up to PER_CELL messages of one agent, one at a time; stops at the first async handler. */
  #run(cell: Cell): number {
    if (cell.state !== SCHEDULED) return 0
    cell.state = RUNNING
    const mb = cell.mailbox!
    const agent = cell.agent
    const observed = this.#observers !== undefined
    let n = 0
    while (mb.size > 0 && n < PER_CELL) {
      mb.take()
      n++
      const type = mb.t
      const payload = mb.p
      const reply = mb.r as ReplyHandle | undefined
      cell.sender = mb.s
      cell.trace = mb.tr as TraceContext | undefined
      mb.release()
      const t0 = observed ? performance.now() : 0
      let result: unknown
      try {
        result = (agent[type] as (p: unknown) => unknown)(payload)
      } catch (error) {
        this.#failed(cell, type, reply, error)
        return n
      }
      if (result !== undefined && isThenable(result)) {
        this.#await(cell, result, type, reply, t0)
        return n
      }
      if (reply !== undefined) reply.ok(result)
      if (observed) this.#emit({ type: 'handled', agent: cell.address, messageType: type, durationMs: performance.now() - t0 })
      if (cell.stopping !== undefined) {
        this.#afterStopRequest(cell)
        return n
      }
    }
    cell.sender = undefined
    cell.trace = undefined
    if (mb.size > 0) {
      cell.state = SCHEDULED
      this.#ready.push(cell)
    } else {
      cell.state = IDLE
    }
    return n
  }

  /** An async handler or hook is running: the agent takes its next message when it settles. */
  #await(cell: Cell, result: Thenable, type: string | undefined, reply: ReplyHandle | undefined, t0: number): void {
    cell.state = AWAITING
    this.#busy++
    const gen = cell.gen
    result.then((value) => {
      if (reply !== undefined) reply.ok(value)
      if (cell.gen !== gen) return // restarted or stopped meanwhile (all-for-one): that run is over
      this.#busy--
      cell.state = RUNNING
      if (type !== undefined && this.#observers !== undefined) {
        this.#emit({ type: 'handled', agent: cell.address, messageType: type, durationMs: performance.now() - t0 })
      }
      this.#resume(cell)
    }, (error: unknown) => {
      if (cell.gen !== gen) return reply?.fail(toMurmur(error))
      this.#busy--
      cell.state = RUNNING
      this.#failed(cell, type, reply, error)
    })
  }

  /** After a handler or hook: carry out a stop request, or go on with the mailbox. */
  #resume(cell: Cell): void {
    cell.sender = undefined
    cell.trace = undefined
    if (cell.stopping !== undefined) return this.#afterStopRequest(cell)
    const mb = cell.mailbox
    if (mb !== undefined && mb.size > 0) this.#schedule(cell)
    else cell.state = IDLE
  }

  // ---- failure and supervision ------------------------------------------------------------

  #failed(cell: Cell, type: string | undefined, reply: ReplyHandle | undefined, error: unknown): void {
    cell.sender = undefined
    cell.trace = undefined
    const err = toMurmur(error)
    reply?.fail(err)
    if (this.#observers !== undefined) {
      this.#emit(type === undefined
        ? { type: 'failed', agent: cell.address, error: err.toJSON() }
        : { type: 'failed', agent: cell.address, messageType: type, error: err.toJSON() })
    }
    if (cell.stopping !== undefined) return this.#finishStop(cell)
    this.#supervise(cell, 'failure', error)
  }

  #supervise(cell: Cell, exit: Exit, error: unknown): void {
    const d = decide(cell.opts.supervision, exit, cell.restarts ?? [], Date.now())
    if (d.action === 'stop') {
      cell.stopping = new Stop(exit === 'self-stop' ? 'self-stop' : d.reason === 'max-restarts' ? 'max-restarts' : 'failed')
      return this.#finishStop(cell)
    }
    cell.restarts = d.history
    this.#restart(cell, error, d.delay)
    const parent = cell.parent
    if (exit === 'failure' && parent !== undefined && parent.opts.supervision.strategy === 'all-for-one') {
      for (const sibling of parent.children ?? []) {
        if (sibling !== cell && sibling.state < STOPPING && sibling.stopping === undefined) this.#restart(sibling, error, 0)
      }
    }
  }

  /** Replaces the agent with a fresh instance after `delay` ms; the mailbox is kept, timers and children go. */
  #restart(cell: Cell, error: unknown, delay: number): void {
    if (cell.state === AWAITING || cell.state === SUSPENDED) this.#busy--
    cell.gen++
    this.#clearTimers(cell)
    for (const child of [...(cell.children ?? [])].reverse()) void this.stop(child, 'parent-stopped')
    cell.state = SUSPENDED
    this.#busy++
    const gen = cell.gen
    const attempt = cell.restarts?.length ?? 0
    const again = (): void => {
      if (cell.state !== SUSPENDED || cell.gen !== gen) return
      this.#busy--
      try {
        cell.agent = construct(cell)
      } catch (e) {
        cell.state = RUNNING
        return this.#failed(cell, undefined, undefined, e)
      }
      if (this.#observers !== undefined) this.#emit({ type: 'restarted', agent: cell.address, attempt, delayMs: delay })
      this.#start(cell, error, true)
    }
    if (delay > 0) setTimeout(again, delay)
    else again()
  }

  // ---- timers -----------------------------------------------------------------------------

  schedule(cell: Cell, type: string, payload: unknown, when: { after: number } | { every: number }): Cancellable {
    if (cell.defs[type] === undefined) throw this.#unknownType(cell.address, type)
    const repeat = 'every' in when
    const timer = new Timer(this, cell, type, payload, repeat)
    const gen = cell.gen
    const fire = (): void => {
      if (cell.gen !== gen || cell.state >= STOPPING) return timer.cancel()
      if (!repeat) {
        timer.handle = undefined
        cell.timers?.delete(timer)
      }
      this.#enqueue(cell, type, payload, cell, this.#observers !== undefined ? newTrace() : undefined, undefined, false)
    }
    timer.handle = repeat ? setInterval(fire, (when as { every: number }).every) : setTimeout(fire, (when as { after: number }).after)
    ;(cell.timers ??= new Set()).add(timer)
    return timer
  }

  #clearTimers(cell: Cell): void {
    const timers = cell.timers
    if (timers === undefined) return
    cell.timers = undefined
    for (const t of timers) t.cancel()
  }

  // ---- stopping ---------------------------------------------------------------------------

  stopSelf(cell: Cell): void {
    if (cell.stopping !== undefined || cell.state >= STOPPING) return
    cell.stopping = new Stop('self-stop')
    // outside a handler (e.g. from a callback): act now; inside one, when it returns
    if (cell.state === IDLE || cell.state === SCHEDULED) this.#afterStopRequest(cell)
  }

  /** Stops an agent once its current message is handled. Resolves when it has stopped. */
  stop(cell: Cell, reason: 'stopped' | 'parent-stopped' | 'system-stopped' | 'handoff'): Promise<void> {
    if (cell.state === STOPPED) return Promise.resolve()
    const existing = cell.stopping as Stop | undefined
    if (existing !== undefined && existing.reason !== 'self-stop') return existing.done
    const req = new Stop(reason)
    cell.stopping = req
    // a handler consuming a stream would otherwise wait for the stream's end before the stop
    this.#streams.agentStopped(cell, cell.address)
    if (cell.state !== RUNNING && cell.state !== AWAITING) this.#finishStop(cell)
    return req.done
  }

  #afterStopRequest(cell: Cell): void {
    const req = cell.stopping as Stop
    if (req.reason !== 'self-stop') return this.#finishStop(cell)
    // a self-stop goes through the restart policy (`always` restarts)
    cell.stopping = undefined
    this.#supervise(cell, 'self-stop', undefined)
    if (cell.stopping === undefined) req.resolve()
  }

  #finishStop(cell: Cell): void {
    const req = cell.stopping as Stop
    if (cell.state === SUSPENDED || cell.state === AWAITING) this.#busy--
    cell.state = STOPPING
    cell.gen++
    this.#clearTimers(cell)
    this.#streams.agentStopped(cell, cell.address)
    if (req.reason === 'handoff') {
      const state = (cell.agent as unknown as { onHandoff(): unknown }).onHandoff()
      req.handoff = { agentClass: cell.cls, address: cell.address, state, pending: this.#drainToEnvelopes(cell) }
    } else {
      this.#deadLetterMailbox(cell)
    }
    const children = [...(cell.children ?? [])].reverse()
    const waits = children.map((child) => this.stop(child, 'parent-stopped'))
    const afterChildren = (): void => {
      let r: unknown
      try {
        r = (cell.agent as unknown as { onStop(): unknown }).onStop()
      } catch (error) {
        this.#logger?.warn({ err: error, agent: cell.address }, 'onStop threw')
      }
      if (isThenable(r)) {
        r.then(() => this.#stopped(cell, req), (error) => {
          this.#logger?.warn({ err: error, agent: cell.address }, 'onStop rejected')
          this.#stopped(cell, req)
        })
      } else {
        this.#stopped(cell, req)
      }
    }
    if (children.every((c) => c.state === STOPPED)) afterChildren()
    else void Promise.all(waits).then(afterChildren)
  }

  #stopped(cell: Cell, req: Stop): void {
    // messages that came in during onStop
    if (req.reason === 'handoff') req.handoff = { ...req.handoff!, pending: [...req.handoff!.pending, ...this.#drainToEnvelopes(cell)] }
    else this.#deadLetterMailbox(cell)
    const byId = this.#agents.get(cell.address.type)
    if (byId?.get(cell.address.id) === cell) byId.delete(cell.address.id)
    const siblings = cell.parent?.children
    if (siblings !== undefined) siblings.splice(siblings.indexOf(cell), 1)
    cell.state = STOPPED
    cell.mailbox = undefined
    if (this.#observers !== undefined) this.#emit({ type: 'stopped', agent: cell.address, reason: req.reason })
    req.resolve()
  }

  #deadLetterMailbox(cell: Cell): void {
    const mb = cell.mailbox
    if (mb === undefined || mb.size === 0) return
    const error = new AgentStopped(`agent ${cell.address.type}/${cell.address.id} stopped before handling the message`, { ...cell.address })
    while (mb.size > 0) this.#dropHead(cell, mb, 'agent-stopped', error)
  }

  /** Takes the oldest waiting message out as a dead letter, failing its ask. */
  #dropHead(cell: Cell, mb: Mailbox, reason: DeadLetterReason, error: MurmurError): void {
    mb.take()
    const reply = mb.r as ReplyHandle | undefined
    const e = this.#entryEnvelope(cell, mb.t, mb.p, mb.s, mb.tr as TraceContext | undefined, reply)
    mb.release()
    reply?.fail(error)
    this.#dead(reason, e, error)
  }

  /** The waiting messages as envelopes; local asks among them are kept pending by correlation id. */
  #drainToEnvelopes(cell: Cell): Envelope[] {
    const out: Envelope[] = []
    const mb = cell.mailbox
    while (mb !== undefined && mb.size > 0) {
      mb.take()
      const reply = mb.r
      if (mb.t === ON_STREAM) {
        // a stream does not move with its agent: its sender learns it ended
        mb.release()
        ;(reply as ReplyHandle).fail(new AgentStopped(`agent ${cell.address.type}/${cell.address.id} moved before it took the stream`, { ...cell.address }))
        continue
      }
      if (reply instanceof PendingAsk && reply.correlationId === undefined) {
        reply.correlationId = `${this.#correlationPrefix}-${(++this.#correlation).toString(36)}`
        reply.replySchema = cell.defs[mb.t]?.reply
        this.#pending.set(reply.correlationId, reply)
      }
      out.push(this.#entryEnvelope(cell, mb.t, mb.p, mb.s, mb.tr as TraceContext | undefined, reply as ReplyHandle | undefined))
      mb.release()
    }
    return out
  }

  async handoff(address: AgentAddress): Promise<Handoff> {
    const cell = this.lookup(address)
    if (cell === undefined || cell.state >= STOPPING) throw new AgentNotFound(`no agent ${address.type}/${address.id} here`, { ...address })
    const req = new Stop('handoff')
    const prior = cell.stopping
    if (prior !== undefined && prior.reason !== 'self-stop') throw new AgentStopped(`agent ${address.type}/${address.id} is stopping`, { ...address })
    cell.stopping = req
    this.#streams.agentStopped(cell, cell.address)
    if (cell.state !== RUNNING && cell.state !== AWAITING) this.#finishStop(cell)
    await req.done
    return req.handoff!
  }

  routeThrough(address: AgentAddress, on: boolean): void {
    const cell = this.lookup(address)
    if (cell !== undefined) cell.routed = on
  }

  snapshot(address: AgentAddress): unknown {
    const cell = this.lookup(address)
    if (cell === undefined || cell.state >= STOPPING) throw new AgentNotFound(`no agent ${address.type}/${address.id} here`, { ...address })
    return (cell.agent as unknown as { snapshot(): unknown }).snapshot()
  }

  /** Waits until no agent has work, then stops them all in reverse spawn order. */
  async stopAll(drainTimeout: number): Promise<void> {
    this.#stopping = true
    const cells = [...this.#agents.values()].flatMap((byId) => [...byId.values()])
    for (const cell of cells) this.#clearTimers(cell)
    const deadline = performance.now() + drainTimeout
    while ((this.#ready.length > 0 || this.#kicked || this.#busy > 0) && performance.now() < deadline) {
      await new Promise((r) => (this.#busy > 0 ? setTimeout(r, 1) : setImmediate(r)))
    }
    cells.sort((a, b) => b.seq - a.seq)
    for (const cell of cells) if (cell.state !== STOPPED) await this.stop(cell, 'system-stopped')
    for (const pending of [...this.#pending.values()]) pending.fail(new AgentStopped('the actor system stopped'))
    this.#streams.closeAll(new AgentStopped('the actor system stopped'))
    this.#deadlines.clear()
  }

  // ---- the seam: envelopes from other nodes -----------------------------------------------

  deliver(e: Envelope, settle?: (e: Envelope) => void): void {
    if (e.type === STREAM_TYPE) return this.#streams.receive(e)
    if (e.kind === 'reply' || e.kind === 'fail') return this.#settleRemote(e)
    const cell = this.lookup(e.to)
    if (cell === undefined || cell.state >= STOPPING) {
      return this.#refuse(e, 'agent-not-found', new AgentNotFound(`no agent ${e.to.type}/${e.to.id} here`, { ...e.to }), settle)
    }
    const def = cell.defs[e.type]
    if (def === undefined) return this.#refuse(e, 'unknown-type', this.#unknownType(cell.address, e.type), settle)
    const parsed = def.schema.safeParse(e.payload)
    if (!parsed.success) {
      return this.#refuse(e, 'schema-violation', new SchemaViolation(`payload of '${e.type}' for ${e.to.type}/${e.to.id} does not match its schema`, {
        type: e.type, to: e.to, issues: parsed.error.issues as unknown,
      }), settle)
    }
    const reply = e.kind === 'ask' ? new RemoteReply(this, e) : settle !== undefined ? new TellReceipt(e, settle) : undefined
    this.#enqueue(cell, e.type, parsed.data, e.from, e.trace ?? newTrace(), reply, false)
  }

  /** Bad input is done with here: dead-lettered, an ask answered, a tell's custody released (sending it again would not mend it). */
  #refuse(e: Envelope, reason: DeadLetterReason, error: MurmurError, settle: ((e: Envelope) => void) | undefined): void {
    this.#dead(reason, e, error)
    if (e.kind === 'ask') this.answer(e, 'fail', error.toJSON())
    else settle?.(e)
  }

  #settleRemote(e: Envelope): void {
    const pending = e.correlationId === undefined ? undefined : this.#pending.get(e.correlationId)
    if (pending === undefined) return this.#dead('unmatched-reply', e)
    if (e.kind === 'fail') {
      const s = e.payload as { code?: unknown; message?: unknown; name?: unknown }
      return pending.fail(typeof s?.code === 'string' && typeof s.message === 'string'
        ? fromJSON(e.payload as Parameters<typeof fromJSON>[0])
        : new HandlerFailed('malformed fail envelope', { payload: e.payload }))
    }
    const schema = pending.replySchema
    if (schema === undefined) return pending.ok(e.payload)
    const parsed = schema.safeParse(e.payload)
    if (parsed.success) return pending.ok(parsed.data)
    pending.fail(new SchemaViolation(`reply to '${e.type}' from ${pending.to.type}/${pending.to.id} does not match its schema`, {
      type: e.type, to: pending.to, issues: parsed.error.issues as unknown,
    }))
  }

  /** Sends the result of an ask that came from another node back to it. */
  answer(ask: Envelope, kind: 'reply' | 'fail', payload: unknown): void {
    const e = envelope({
      kind,
      to: ask.from ?? { type: '$asker', id: ask.correlationId ?? '' },
      from: ask.to,
      type: ask.type,
      payload,
      guarantee: ask.guarantee,
      correlationId: ask.correlationId,
      replyTo: ask.replyTo,
      trace: childTrace(ask.trace),
    })
    // the asker may be this very system (an ask that went out and was routed back here)
    if (ask.correlationId !== undefined && this.#pending.has(ask.correlationId)) return this.#settleRemote(e)
    if (!this.#route(e)) this.#dead('agent-not-found', e)
  }
}
