import { systemClock, type Clock, type TimerHandle } from './clock.js'
import type { Connector, ConnectorFactory, Link, LinkHandlers } from './connector.js'
import {
  Aborted,
  AuthenticationFailed,
  ClusterMismatch,
  ConnectionRefused,
  FrameTooLarge,
  HandshakeRequired,
  HoldBackFull,
  HandshakeTimeout,
  HeartbeatTimeout,
  MalformedFrame,
  NotStarted,
  Overloaded,
  PeerUnknown,
  PeerUnreachable,
  ProtocolMismatch,
  RateLimited,
  SessionLost,
  TransportError,
  UnknownChannel,
} from './errors.js'
import { backoffDelay, defaultReconnect, type ReconnectOptions } from './backoff.js'
import { CausalGroup, isStamp, type Stamp } from './causal.js'
import { Emitter } from './events.js'
import { acceptNewer, laneFor } from './fifo.js'
import { defaultFlowLimits, growWindow, shrinkWindow, waterMark, type FlowLimits } from './flow-control.js'
import {
  Flag,
  FrameType,
  PROTOCOL_VERSION,
  decodeFrame,
  defaultStructureLimits,
  encodeFrame,
  encodedSize,
  expect,
  isBytes,
  isUint,
  type StructureLimits,
} from './frame.js'
import { flagsOf, guaranteeOf } from './guarantee.js'
import {
  answerHello,
  checkCompatible,
  freshNonce,
  helloFrame,
  parseHello,
  parseWelcome,
  proofFrame,
  rejectFrame,
  verifyProof,
  verifyWelcome,
  type LaneRef,
  type LocalIdentity,
  type SessionClaim,
} from './handshake.js'
import { createCounters } from './metrics.js'
import { refill, take, tokenBucket, validRateLimit, type RateLimit, type TokenBucket } from './rate-limit.js'
import { STRIDE, ack, classify, offsetOf, push, rewind, unackedCount, unackedEntries, type ReliableOut } from './reliable.js'
import { SentFrame, payloadOf } from './internal/sent-frame.js'
import {
  CONTROL,
  dialerOf,
  inFlight,
  keepsExisting,
  newConn,
  newSession,
  reconcile,
  type Channel,
  type Conn,
  type Lane,
  type Session,
} from './session.js'
import type {
  AbortOptions,
  Capacity,
  ChannelConfig,
  Guarantee,
  InboundMessage,
  PeerInfo,
  SendOptions,
  Transport,
  TransportEvents,
  Unacknowledged,
} from './transport.js'

/** A pino-compatible logger (only what the transport calls). */
export interface Logger {
  warn(obj: object, msg?: string): void
  info(obj: object, msg?: string): void
  debug(obj: object, msg?: string): void
}

export interface TransportInit {
  readonly nodeId: string
  readonly cluster: string
  /** Shared cluster secret: proves membership in the handshake, never sent. */
  readonly secret: string | Uint8Array
  /** Interface to listen on; `127.0.0.1` unless told (`0.0.0.0` for every interface). */
  readonly host?: string
  readonly port?: number
  /**
   * `host:port` other nodes should dial to reach this one, announced in the handshake. Needed when
   * listening on `0.0.0.0` or behind NAT; default: the address listened on.
   */
  readonly advertise?: string
  /** Channels besides `control` (always present); `default` exists unless configured otherwise. */
  readonly channels?: Readonly<Record<string, ChannelConfig>>
  readonly connector: ConnectorFactory
  readonly clock?: Clock
  /** Largest frame accepted from a link (bytes); larger ones are `FrameTooLarge`. Default 1 MiB. */
  readonly maxFrameSize?: number
  /** Frames larger than this are sent as chunks, one per turn, so small frames overtake them. Default 256 KiB. */
  readonly chunkSize?: number
  /** Largest reassembled (chunked) frame. Default 64 MiB. */
  readonly maxMessageSize?: number
  /**
   * Largest frame accepted on a link whose handshake has not completed (bytes). Real handshake
   * frames are about 100–200 bytes (HELLO with a 16-byte nonce, WELCOME and PROOF with a 32-byte
   * HMAC); larger ones are `FrameTooLarge` and close the link before anything is decoded. Default 4 KiB.
   */
  readonly maxHandshakeFrameSize?: number
  /** Containers nested deeper than this in a frame: `FrameTooDeep`, refused before decoding. Default 256. */
  readonly maxNestingDepth?: number
  /** CBOR data items in one frame (chunked ones included), at most: `FrameTooManyItems`. Default 2^20. */
  readonly maxFrameItems?: number
  /**
   * Messages per second each peer may send (token bucket). Beyond it best-effort messages are
   * dropped, reliable ones left unacknowledged (the sender resends them and its window halves),
   * both counted (`rateLimited`) and reported (`RateLimited`). Default: no limit.
   */
  readonly rateLimit?: RateLimit
  /**
   * Bytes of a peer's messages this node holds back, at most: reliable messages that arrived
   * ahead of a gap, and causal messages waiting for their causes. One more that would be held is
   * refused unacknowledged (`HoldBackFull`, counted in `holdBackRefused`) and resent by the peer;
   * messages that can be delivered at once are always accepted. Default 32 MiB.
   */
  readonly maxHeldBytes?: number
  readonly highWaterMark?: number
  readonly lowWaterMark?: number
  readonly hardLimit?: number
  /** A link idle this long gets a ping; silent for three of them, it is closed. Default 1000 ms. */
  readonly heartbeatInterval?: number
  readonly handshakeTimeout?: number
  /** Unacked reliable messages go again when no ack made progress for this long. Default 250 ms. */
  readonly retransmitTimeout?: number
  readonly reconnect?: ReconnectOptions
  /** Messages per data frame, at most. Default 2048 (about 150 KiB of 64-byte payloads: under `chunkSize`). */
  readonly maxBatch?: number
  /** Fixed incarnation (tests); random otherwise. */
  readonly incarnation?: number
  readonly logger?: Logger
}

const DEFAULT_GUARANTEE: readonly Guarantee[] = ['reliable', 'fifo']
const silent: Logger = { warn() {}, info() {}, debug() {} }

/** Error classes a REJECT frame's code maps back to, so the dialer sees the acceptor's reason typed. */
const rejectCodes: Record<string, new (message: string) => TransportError> = {
  [ClusterMismatch.code]: ClusterMismatch,
  [ProtocolMismatch.code]: ProtocolMismatch,
  [AuthenticationFailed.code]: AuthenticationFailed,
  [UnknownChannel.code]: UnknownChannel,
  [HandshakeRequired.code]: HandshakeRequired,
  [HandshakeTimeout.code]: HandshakeTimeout,
  [SessionLost.code]: SessionLost,
}

function aborted(signal: AbortSignal | undefined): Aborted {
  return new Aborted('aborted', undefined, { cause: signal?.reason })
}

function concat(parts: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total)
  let at = 0
  for (const p of parts) {
    out.set(p, at)
    at += p.byteLength
  }
  return out
}

/**
 * The transport core: handshake, sessions, lanes, the guarantees and flow control, over any
 * {@link Connector}. `createUwsTransport` and `createMemoryTransport` only pick the connector.
 *
 * @example
 * const t = createTransport({ nodeId: 'a', cluster: 'demo', secret, connector: uwsConnector({}) })
 * await t.start()
 * const peer = await t.connect('127.0.0.1:7001')
 * t.send(peer.nodeId, { hello: 'world' }, { guarantee: ['reliable', 'fifo'] })
 */
/**
 * The id both ends give a session, for causal counts: each end's `incarnation:epoch`, ordered. The
 * incarnations tell a restarted node which sessions named in stamps were its predecessor's.
 */
function causalSessionId(s: Session, incarnation: number): string {
  const mine = `${incarnation}:${s.epoch}`
  const theirs = `${s.peer.incarnation}:${s.peerEpoch}`
  return mine < theirs ? `${mine}.${theirs}` : `${theirs}.${mine}`
}

/**
 * A restarted node's incarnation is larger than its predecessor's (milliseconds of wall time, then
 * 10 random bits for two starts in one millisecond): causal order needs to tell a peer's next
 * incarnation, whose session may still be opening, from its previous one, which is gone.
 */
function newIncarnation(clock: Clock, random: () => number): number {
  const wall = clock.wallTime?.() ?? Date.now()
  return Math.floor(wall) * 1024 + Math.floor(random() * 1024) + 1
}

export function createTransport(init: TransportInit): Transport {
  return new TransportNode(init)
}

class TransportNode implements Transport {
  readonly nodeId: string
  readonly incarnation: number
  address = ''

  readonly #clock: Clock
  readonly #random: () => number
  readonly #init: TransportInit
  readonly #log: Logger
  readonly #limits: FlowLimits
  readonly #reconnect: Required<ReconnectOptions>
  readonly #maxFrameSize: number
  readonly #chunkSize: number
  readonly #maxMessageSize: number
  readonly #maxHandshakeFrameSize: number
  readonly #structure: StructureLimits
  readonly #rateLimit: RateLimit | undefined
  readonly #maxHeldBytes: number
  readonly #heartbeat: number
  readonly #handshakeTimeout: number
  readonly #rto: number
  readonly #maxBatch: number
  readonly #channels: Channel[] = []
  readonly #channelByName = new Map<string, Channel>()
  readonly #sessions = new Map<string, Session>()
  readonly #conns = new Set<Conn>()
  readonly #causal = new Map<string, CausalGroup>()
  readonly #provisional = new Map<string, number>()
  readonly #spentEpochs = new Set<number>()
  readonly #events = new Emitter<TransportEvents>((error) => this.#log.warn({ err: error }, 'transport event listener threw'))
  readonly #counters = createCounters()
  #connector: Connector | undefined
  #handler: (message: InboundMessage) => void = () => {}
  #dirty: Lane[] = []
  #spare: Lane[] = []
  #flushScheduled = false
  #lastOptions: SendOptions | undefined
  #lastChannel: Channel | undefined
  #lastFlags = 0
  #soonScheduled = false
  #tickTimer: TimerHandle | undefined
  #started = false
  #stopped = false
  #chunkId = 0
  /**
   * The clock as of the last tick (or handshake): heartbeats and retransmission timeouts need no
   * finer time, and reading the clock on every frame cost 7% of a round trip.
   */
  #now = 0
  /** Running average of encoded bytes per message: turns message counts into a byte estimate. */
  #avgMessageBytes = 64

  constructor(init: TransportInit) {
    this.#init = init
    this.nodeId = init.nodeId
    this.#clock = init.clock ?? systemClock
    const clock = this.#clock
    this.#random = clock.random ? () => (clock.random as () => number)() : Math.random
    this.incarnation = init.incarnation ?? newIncarnation(clock, this.#random)
    this.#log = init.logger ?? silent
    const high = init.highWaterMark ?? defaultFlowLimits.highWaterMark
    this.#limits = {
      highWaterMark: high,
      lowWaterMark: init.lowWaterMark ?? Math.min(defaultFlowLimits.lowWaterMark, high >> 2),
      hardLimit: init.hardLimit ?? Math.max(defaultFlowLimits.hardLimit, high * 2),
    }
    this.#reconnect = { ...defaultReconnect, ...init.reconnect }
    this.#maxFrameSize = init.maxFrameSize ?? 1 << 20
    this.#chunkSize = Math.min(init.chunkSize ?? 256 << 10, this.#maxFrameSize - 64)
    this.#maxMessageSize = init.maxMessageSize ?? 64 << 20
    this.#maxHandshakeFrameSize = Math.min(init.maxHandshakeFrameSize ?? 4096, this.#maxFrameSize)
    this.#structure = {
      maxDepth: init.maxNestingDepth ?? defaultStructureLimits.maxDepth,
      maxItems: init.maxFrameItems ?? defaultStructureLimits.maxItems,
    }
    if (init.rateLimit !== undefined && !validRateLimit(init.rateLimit)) {
      throw new TypeError('rateLimit: messagesPerSecond must be positive and burst at least 1')
    }
    this.#rateLimit = init.rateLimit
    this.#maxHeldBytes = init.maxHeldBytes ?? 32 << 20
    this.#heartbeat = init.heartbeatInterval ?? 1000
    this.#handshakeTimeout = init.handshakeTimeout ?? 5000
    this.#rto = init.retransmitTimeout ?? 250
    this.#maxBatch = init.maxBatch ?? 2048
    const configured: Record<string, ChannelConfig> = { [CONTROL]: { parallelism: 1 }, default: {}, ...init.channels }
    for (const [name, config] of Object.entries(configured)) {
      const parallelism = name === CONTROL ? 1 : (config.parallelism ?? 1)
      if (!Number.isInteger(parallelism) || parallelism < 1 || parallelism > 64) {
        throw new TypeError(`channel ${name}: parallelism must be an integer from 1 to 64`)
      }
      const firstLane = this.#channels.reduce((n, c) => n + c.parallelism, 0)
      const channel: Channel = { name, parallelism, monotonic: config.monotonic === true, firstLane }
      this.#channels.push(channel)
      this.#channelByName.set(name, channel)
    }
  }

  get #identity(): LocalIdentity {
    return { cluster: this.#init.cluster, nodeId: this.nodeId, incarnation: this.incarnation, address: this.address, secret: this.#init.secret }
  }

  // ---------------------------------------------------------------- lifecycle

  async start(options?: AbortOptions): Promise<void> {
    if (this.#started) return
    if (options?.signal?.aborted) throw aborted(options.signal)
    this.#connector = this.#init.connector({ clock: this.#clock })
    const listening = await this.#connector.listen(
      { host: this.#init.host ?? '127.0.0.1', port: this.#init.port ?? 0, ...(options?.signal ? { signal: options.signal } : {}) },
      (link) => this.#accept(link),
    )
    this.address = this.#init.advertise ?? listening
    this.#started = true
    this.#now = this.#clock.now()
    this.#armTick()
  }

  async stop(options?: AbortOptions): Promise<void> {
    if (!this.#started || this.#stopped) return
    this.#stopped = true
    if (this.#tickTimer) this.#clock.clearTimeout(this.#tickTimer)
    for (const session of [...this.#sessions.values()]) this.#endSession(session, 'stopped')
    for (const conn of this.#conns) this.#retire(conn, 'stopped')
    await this.#connector?.close(options)
  }

  // ---------------------------------------------------------------- public API

  async connect(address: string, options?: AbortOptions): Promise<PeerInfo> {
    this.#assertRunning()
    for (const session of this.#sessions.values()) {
      if (session.address === address && session.lanes[0]?.link?.phase === 'open') {
        session.suspended = false
        this.#ensureLanes(session)
        return session.peer
      }
    }
    const peer = await this.#dial(address, { channel: CONTROL, lane: 0 }, options?.signal)
    const session = this.#sessions.get(peer.nodeId)
    if (session) {
      session.suspended = false
      this.#ensureLanes(session)
    }
    return peer
  }

  async disconnect(nodeId: string, options?: AbortOptions): Promise<void> {
    if (options?.signal?.aborted) throw aborted(options.signal)
    const session = this.#sessions.get(nodeId)
    if (!session) return
    session.suspended = true
    for (const lane of session.lanes) {
      this.#cancelRedial(lane)
      if (lane.link) this.#retire(lane.link, 'disconnect')
    }
  }

  forget(nodeId: string): void {
    const session = this.#sessions.get(nodeId)
    if (session) this.#endSession(session, 'forgotten')
  }

  send(nodeId: string, payload: unknown, options?: SendOptions): boolean {
    const session = this.#sessions.get(nodeId)
    if (session === undefined) throw new PeerUnknown(`no session with ${nodeId}`, { nodeId })
    // Senders in a hot loop pass the same options object: resolve its channel and flags once.
    let channel: Channel
    let flags: number
    if (options !== undefined && options === this.#lastOptions) {
      channel = this.#lastChannel as Channel
      flags = this.#lastFlags
    } else {
      const found = this.#channelByName.get(options?.channel ?? 'default')
      if (found === undefined) throw new UnknownChannel(`channel '${options?.channel}' is not configured`, { channel: options?.channel })
      channel = found
      flags = flagsOf(options?.guarantee ?? DEFAULT_GUARANTEE, channel.monotonic)
      this.#lastOptions = options
      this.#lastChannel = channel
      this.#lastFlags = flags
    }
    const key = options?.key
    const lane = session.lanes[channel.firstLane + laneFor(key, channel.parallelism)] as Lane
    // The control lane (membership, acks, directory) is measured on its own: bulk data buffered on
    // the other lanes must never make a probe be dropped or a control message be refused.
    const buffered = channel.firstLane === 0 ? this.#laneBuffered(lane) : session.queued * this.#avgMessageBytes + session.linkBytes
    if (flags & Flag.reliable) {
      // A reliable message is held until acknowledged and, once flushed, sits a second time, encoded,
      // in its link's buffer. Near the limit, count that second copy ahead for what is not flushed
      // yet, or the flush lifts the buffered bytes to twice the hard limit after the check passed.
      const committed =
        channel.firstLane !== 0 && buffered * 2 > this.#limits.hardLimit
          ? buffered + (session.queued - inFlight(session)) * this.#avgMessageBytes
          : buffered
      if (committed > this.#limits.hardLimit) {
        this.#counters.overloaded++
        throw new Overloaded(`${Math.round(committed)} bytes buffered toward ${nodeId}, over the hard limit`, { nodeId, buffered: committed })
      }
      const extra = flags & Flag.causal ? this.#stamp(options?.group ?? 'default', nodeId) : null
      push(lane.out, flags, key ?? null, payload, extra)
    } else {
      if (buffered > this.#limits.highWaterMark) {
        this.#counters.bestEffortDropped++
        this.#overHigh(session)
        return false
      }
      lane.queue.push(flags, ++lane.bestEffortSeq, key ?? null, payload)
    }
    session.queued++
    this.#counters.messagesSent++
    // The microtask flush writes it; no end-of-turn flush is needed unless an ack stays behind.
    if (!lane.dirty) {
      lane.dirty = true
      this.#dirty.push(lane)
    }
    if (!this.#soonScheduled) {
      this.#soonScheduled = true
      queueMicrotask(this.#flushSoon)
    }
    if (buffered + this.#avgMessageBytes > this.#limits.highWaterMark) {
      this.#overHigh(session)
      return false
    }
    return true
  }

  ready(nodeId: string, options?: AbortOptions & { deadline?: number }): Promise<void> {
    const session = this.#sessions.get(nodeId)
    if (!session) return Promise.reject(new PeerUnknown(`no session with ${nodeId}`, { nodeId }))
    if (this.#buffered(session) < this.#limits.lowWaterMark) return Promise.resolve()
    if (options?.signal?.aborted) return Promise.reject(aborted(options.signal))
    return new Promise<void>((resolve, reject) => {
      const signal = options?.signal
      const done = (error?: Error): void => {
        session.readyWaiters.delete(waiter)
        if (timer) this.#clock.clearTimeout(timer)
        signal?.removeEventListener('abort', onAbort)
        if (error) reject(error)
        else resolve()
      }
      const waiter = (): void => done()
      const onAbort = (): void => done(aborted(signal))
      const timer =
        options?.deadline === undefined
          ? undefined
          : this.#clock.setTimeout(() => {
              this.#counters.overloaded++
              done(new Overloaded(`${nodeId} still over its low-water mark after ${options.deadline} ms`, { nodeId }))
            }, options.deadline)
      signal?.addEventListener('abort', onAbort, { once: true })
      session.readyWaiters.add(waiter)
      // Drain events and acks normally wake the waiter; a light poll covers a link that drains
      // without saying so.
      const poll = (): void => {
        if (!session.readyWaiters.has(waiter)) return
        this.#sampleLinks(session)
        if (session.readyWaiters.has(waiter)) this.#clock.setTimeout(poll, 2)
      }
      this.#clock.setTimeout(poll, 2)
    })
  }

  capacity(nodeId: string): Capacity {
    const session = this.#sessions.get(nodeId)
    if (!session) throw new PeerUnknown(`no session with ${nodeId}`, { nodeId })
    return {
      bufferedBytes: this.#buffered(session),
      highWaterMark: this.#limits.highWaterMark,
      lowWaterMark: this.#limits.lowWaterMark,
      window: session.window,
      inFlight: inFlight(session),
    }
  }

  peers(): readonly PeerInfo[] {
    return [...this.#sessions.values()].map((s) => s.peer)
  }

  onMessage(handler: (message: InboundMessage) => void): void {
    this.#handler = handler
  }

  on<E extends keyof TransportEvents>(event: E, listener: (data: TransportEvents[E]) => void): () => void {
    return this.#events.on(event, listener)
  }

  metrics(): Readonly<Record<string, number>> {
    let heldBack = 0
    let delayed = 0
    let lanesOpen = 0
    let heldBytes = 0
    let reliableHeld = 0
    for (const session of this.#sessions.values()) {
      heldBytes += session.heldBytes
      for (const lane of session.lanes) {
        if (lane.link?.phase === 'open') lanesOpen++
        reliableHeld += lane.in.held.size
      }
    }
    for (const g of this.#causal.values()) {
      heldBack += g.heldBack
      delayed += g.delayed
    }
    return { ...this.#counters, peers: this.#sessions.size, links: this.#conns.size, lanesOpen, causalHeldBack: heldBack, causalDelayed: delayed, heldBytes, reliableHeld }
  }

  // ---------------------------------------------------------------- links and handshake

  #assertRunning(): void {
    if (!this.#started || this.#stopped) throw new NotStarted(`transport ${this.nodeId} is not running`)
  }

  #handlers(conn: Conn): LinkHandlers {
    return {
      frame: (data) => this.#onFrame(conn, data),
      drain: () => this.#onDrain(conn),
      close: (code, reason) => this.#onClose(conn, code, reason),
    }
  }

  #accept(link: Link): LinkHandlers {
    const conn = newConn('acceptor', this.#clock.now())
    conn.link = link
    this.#conns.add(conn)
    this.#counters.linksOpened++
    if (this.#stopped) this.#retire(conn, 'stopped')
    return this.#handlers(conn)
  }

  /**
   * Open a link for `ref` to `address` and run the dialer's side of the handshake. When the
   * acceptor resumed a session we no longer have, it ends that session on our `SessionLost`, and
   * the next attempt starts a fresh one.
   */
  async #dial(address: string, ref: LaneRef, signal?: AbortSignal): Promise<PeerInfo> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#dialOnce(address, ref, signal)
      } catch (error) {
        if (!(error instanceof SessionLost) || attempt >= 3) throw error
        await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, 10 * (attempt + 1)))
      }
    }
  }

  #dialOnce(address: string, ref: LaneRef, signal?: AbortSignal): Promise<PeerInfo> {
    this.#assertRunning()
    if (signal?.aborted) return Promise.reject(aborted(signal))
    const conn = newConn('dialer', this.#clock.now())
    conn.hello = { ...this.#identity, version: PROTOCOL_VERSION, channel: ref.channel, lane: ref.lane, nonce: freshNonce() }
    this.#conns.add(conn)
    return new Promise<PeerInfo>((resolve, reject) => {
      const onAbort = (): void => this.#failHandshake(conn, aborted(signal), false)
      signal?.addEventListener('abort', onAbort, { once: true })
      conn.settle = (error, peer) => {
        conn.settle = undefined
        signal?.removeEventListener('abort', onAbort)
        if (error) reject(error)
        else resolve(peer as PeerInfo)
      }
      const connector = this.#connector as Connector
      connector.dial(address, this.#handlers(conn), signal ? { signal } : {}).then(
        (link) => {
          if (!this.#conns.has(conn)) {
            link.close(1000, 'abandoned')
            return
          }
          conn.link = link
          this.#counters.linksOpened++
          this.#sendRaw(conn, encodeFrame(helloFrame(this.#identity, ref, (conn.hello as { nonce: Uint8Array }).nonce)))
        },
        (error: unknown) => {
          this.#conns.delete(conn)
          conn.phase = 'closed'
          conn.settle?.(error instanceof Error ? error : new PeerUnreachable(String(error)))
        },
      )
    })
  }

  #onFrame(conn: Conn, data: Uint8Array): void {
    if (!this.#conns.has(conn) || conn.phase === 'closed') return
    conn.lastReceived = this.#now
    this.#counters.framesReceived++
    this.#counters.bytesReceived += data.byteLength
    try {
      // Before authentication only handshake-sized frames are even looked at.
      if (conn.phase === 'open') this.#onOpenFrame(conn, decodeFrame(data, this.#maxFrameSize, this.#structure))
      else this.#onHandshakeFrame(conn, decodeFrame(data, this.#maxHandshakeFrameSize, this.#structure))
    } catch (error) {
      if (!(error instanceof TransportError)) throw error
      this.#counters.rejectedFrames++
      // Before the handshake completes, anything wrong ends the link; after it, the peer is
      // authenticated and one bad frame is dropped (reliable traffic in it is resent).
      if (conn.phase === 'open') this.#report(error, conn)
      else this.#failHandshake(conn, error, true)
    }
  }

  #onHandshakeFrame(conn: Conn, frame: unknown[]): void {
    const type = frame[0]
    if (type === FrameType.reject) {
      // The dialer found that we resume a session of its that it no longer has: end ours.
      if (frame[1] === SessionLost.code && conn.hello && conn.role === 'acceptor') {
        const session = this.#sessionOf(conn.hello)
        if (session && session.peerEpoch === frame[3]) this.#resetSession(session)
      }
      throw this.#rejection(frame)
    }
    switch (conn.phase) {
      case 'hello': {
        if (type !== FrameType.hello) throw new HandshakeRequired(`frame type ${type} before the handshake`)
        const hello = parseHello(frame)
        const incompatible = checkCompatible(hello.version, hello.cluster, this.#identity)
        if (incompatible) throw incompatible
        const channel = this.#channelByName.get(hello.channel)
        if (!channel || hello.lane >= channel.parallelism) {
          throw new UnknownChannel(`peer opened lane ${hello.lane} of channel '${hello.channel}', not configured here`, { channel: hello.channel })
        }
        if (hello.nodeId === this.nodeId) throw new ConnectionRefused('a node cannot connect to itself')
        const current = this.#sessionOf(hello)
        const mine: SessionClaim = current ? { epoch: current.epoch, claim: current.peerEpoch } : { epoch: this.#provisionalEpoch(hello), claim: 0 }
        conn.hello = hello
        conn.epoch = mine.epoch
        conn.epochOfSession = current !== undefined
        conn.nonce = freshNonce()
        conn.phase = 'proof'
        this.#sendRaw(conn, encodeFrame(answerHello(this.#identity, hello, conn.nonce, mine)))
        return
      }
      case 'proof': {
        if (type !== FrameType.proof) throw new HandshakeRequired(`frame type ${type} before the handshake`)
        const hello = conn.hello as NonNullable<Conn['hello']>
        const theirs = verifyProof(this.#identity, hello, conn.nonce as Uint8Array, frame)
        this.#open(conn, { nodeId: hello.nodeId, incarnation: hello.incarnation, address: hello.address }, hello, theirs)
        return
      }
      case 'welcome': {
        if (type !== FrameType.welcome) throw new HandshakeRequired(`frame type ${type} before the handshake`)
        const hello = conn.hello as NonNullable<Conn['hello']>
        const welcome = parseWelcome(frame)
        const peer = verifyWelcome(this.#identity, hello, welcome)
        const session = this.#open(conn, peer, hello, welcome.session)
        // Sent after `#open` decided about the session, so it carries the session it kept or made.
        this.#sendRaw(conn, encodeFrame(proofFrame(this.#identity, hello, peer, welcome.nonce, { epoch: session.epoch, claim: session.peerEpoch })))
        return
      }
    }
  }

  #rejection(frame: unknown[]): TransportError {
    const [, code, reason] = frame
    const Class = typeof code === 'string' ? rejectCodes[code] : undefined
    const message = `peer refused the link: ${typeof reason === 'string' ? reason : 'no reason'}`
    return Class ? new Class(message) : new ConnectionRefused(message, { code })
  }

  /** A handshake failed: count, report, tell the peer why (unless it told us), close, settle. */
  #failHandshake(conn: Conn, error: TransportError, tellPeer: boolean): void {
    if (!this.#conns.has(conn)) return
    this.#counters.handshakeFailures++
    this.#report(error, conn)
    if (tellPeer && conn.link && !(error instanceof HandshakeTimeout && conn.phase === 'welcome')) {
      this.#sendRaw(conn, encodeFrame(rejectFrame(error)))
    }
    conn.settle?.(error)
    this.#retire(conn, error.code)
  }

  #report(error: TransportError, conn: Conn | undefined): void {
    const remote = conn?.peer?.nodeId ?? conn?.hello?.nodeId ?? conn?.link?.remoteAddress
    this.#log.warn({ err: error, code: error.code, remote }, error.message)
    this.#events.emit('error', remote === undefined ? { error } : { error, remote })
  }

  /** The link is authenticated: bind it to its session's lane (creating the session if new). */
  #open(conn: Conn, peer: PeerInfo, ref: LaneRef, theirs: SessionClaim): Session {
    conn.peer = peer
    let session = this.#sessions.get(peer.nodeId)
    if (session && session.peer.incarnation !== peer.incarnation) {
      this.#endSession(session, 'restarted with a new incarnation')
      session = undefined
    }
    // The acceptor announced an epoch in WELCOME (its session's, or one for the session to come).
    // If that session ended or changed since, the dialer's claim on it must not resume a new
    // session under the old epoch: the dialer would carry on with sequence numbers the new session
    // never saw, and its messages would be dropped as duplicates (found by sim seed 928).
    // A provisional epoch is spent once a session is made with it: if that session ended during
    // this handshake, a new one under the same epoch would look to the dialer like the old one
    // resumed, and it would carry on from sequence numbers the new one never saw (sim seed 3174).
    if (conn.role === 'acceptor' && (session ? session.epoch !== conn.epoch : conn.epochOfSession || this.#spentEpochs.has(conn.epoch))) {
      throw new ConnectionRefused('the session changed during the handshake; retry')
    }
    // A dialer with no session yet may have announced a provisional epoch to the peer's own dials,
    // which made their session on it: the peer's claim on it names the session this link starts
    // (taken for stale, it ended a session both sides had just agreed on: sim --swarm seed 6598).
    const provisional = conn.role === 'dialer' ? this.#provisional.get(`${peer.nodeId}/${peer.incarnation}`) : undefined
    const local = session ?? (conn.role === 'acceptor' ? { epoch: conn.epoch, peerEpoch: 0 } : provisional !== undefined ? { epoch: provisional, peerEpoch: 0 } : undefined)
    const decision = reconcile(local, theirs.epoch, theirs.claim)
    if (decision === 'stale-claim') {
      throw new SessionLost(`${peer.nodeId} resumes a session this node no longer has`, { epoch: theirs.claim })
    }
    if (decision === 'reset' && session) {
      this.#resetSession(session)
      session = undefined
      // The dialer was told the ended session's epoch in WELCOME: a session made now would have to
      // reuse it, and the peer's other links would take it for the old one resumed (sim seed 4239).
      // Refused, the dialer comes back, finds no session under that epoch, and starts afresh.
      if (conn.role === 'acceptor') throw new ConnectionRefused('the session was reset; retry')
    }
    conn.phase = 'open'
    const isNew = session === undefined
    if (!session) {
      // The dialer takes the epoch it would announce as an acceptor: when both nodes dial each
      // other at once, each side's session then has the one epoch the other learned.
      const epoch = conn.role === 'acceptor' ? conn.epoch : this.#provisionalEpoch(peer)
      this.#provisional.delete(`${peer.nodeId}/${peer.incarnation}`)
      this.#spend(epoch)
      session = newSession(peer, this.#channels, this.#clock.now(), epoch, theirs.epoch)
      this.#sessions.set(peer.nodeId, session)
      // Held messages may name this session (a third party heard of it first), or an older one.
      for (const clock of this.#causal.values()) clock.recheck()
    } else session.peerEpoch = theirs.epoch
    session.suspended = false
    const channel = this.#channelByName.get(ref.channel) as Channel
    const lane = session.lanes[channel.firstLane + ref.lane] as Lane
    const existing = lane.link
    if (existing && existing !== conn && existing.phase === 'open') {
      if (keepsExisting(dialerOf(existing, this.nodeId), dialerOf(conn, this.nodeId))) {
        this.#counters.duplicateLinksClosed++
        conn.settle?.(undefined, session.peer)
        this.#retire(conn, 'duplicate link')
        return session
      }
      this.#counters.duplicateLinksClosed++
      this.#retire(existing, 'replaced by a simultaneous dial')
    }
    lane.link = conn
    conn.lane = lane
    lane.attempts = 0
    this.#cancelRedial(lane)
    if (channel.firstLane === 0 && session.giveUpTimer) {
      this.#clock.clearTimeout(session.giveUpTimer)
      session.giveUpTimer = undefined
    }
    // A new link resumes the streams: everything unacked goes again (the peer drops what it had),
    // and our ack tells the peer where we are.
    this.#counters.retransmitted += rewind(lane.out)
    lane.progressAt = this.#clock.now()
    lane.ackDue = true
    this.#markDirty(lane)
    if (isNew) {
      this.#counters.peersUp++
      this.#log.info({ peer: peer.nodeId, incarnation: peer.incarnation }, 'peer up')
      this.#events.emit('peer-up', session.peer)
    }
    conn.settle?.(undefined, session.peer)
    // Any lane the dialer opens may be the first of a new session (a redial that reaches a restarted
    // peer): the dialer then opens all the others, or they would never be dialled.
    if (conn.role === 'dialer') this.#ensureLanes(session)
    return session
  }

  #sessionOf(peer: { readonly nodeId: string; readonly incarnation: number }): Session | undefined {
    const session = this.#sessions.get(peer.nodeId)
    return session?.peer.incarnation === peer.incarnation ? session : undefined
  }

  #newEpoch(): number {
    return Math.floor(this.#random() * 2 ** 48) + 1
  }

  /**
   * The epoch announced to a peer we have no session with. Every lane's handshake announces the
   * same one until the session exists, or concurrent lanes would each look like a new session.
   * Bounded: HELLOs come before authentication.
   */
  #provisionalEpoch(peer: { readonly nodeId: string; readonly incarnation: number }): number {
    const key = `${peer.nodeId}/${peer.incarnation}`
    let epoch = this.#provisional.get(key)
    if (epoch === undefined) {
      epoch = this.#newEpoch()
      this.#provisional.set(key, epoch)
      if (this.#provisional.size > 1024) this.#provisional.delete(this.#provisional.keys().next().value as string)
    }
    return epoch
  }

  /**
   * Epochs sessions were made with, so that a handshake begun under a provisional epoch cannot make
   * a second session with it (see `#open`). Bounded: a handshake older than thousands of sessions
   * has timed out long ago. Kept apart from `#provisional`, which unauthenticated HELLOs can churn.
   */
  #spend(epoch: number): void {
    this.#spentEpochs.add(epoch)
    if (this.#spentEpochs.size > 4096) this.#spentEpochs.delete(this.#spentEpochs.values().next().value as number)
  }

  /** The peer lost its side of the session: ours cannot be resumed; its unacked messages go back. */
  #resetSession(session: Session): void {
    this.#counters.sessionResets++
    this.#endSession(session, 'the peer lost the session (it forgot this node)')
  }

  /** Close a link on purpose: its close is expected and does not trigger a redial. */
  #retire(conn: Conn, reason: string): void {
    conn.retired = true
    conn.phase = 'closed'
    if (conn.link) conn.link.close(1000, reason)
    else this.#conns.delete(conn)
  }

  #onClose(conn: Conn, code: number, reason: string): void {
    if (!this.#conns.delete(conn)) return
    conn.phase = 'closed'
    this.#counters.linksClosed++
    conn.settle?.(new PeerUnreachable(`link closed during the handshake (${code} ${reason})`, { code, reason }))
    const lane = conn.lane
    if (!lane || lane.link !== conn) return
    lane.link = undefined
    const session = lane.session
    if (session.ended || this.#stopped) return
    this.#log.debug({ peer: session.peer.nodeId, channel: lane.ref.channel, lane: lane.ref.lane, code, reason }, 'link closed')
    // Any lane's close arms it, not only the control lane's: a session whose control lane never
    // came up (its handshake failed) otherwise never ended once its other lanes closed, and held
    // everything toward the peer, and every causal message waiting on it, for ever (sim seed 1355).
    if (!session.lanes[0]?.link && !session.giveUpTimer && !session.suspended) {
      session.giveUpTimer = this.#clock.setTimeout(() => {
        session.giveUpTimer = undefined
        if (!session.lanes[0]?.link) this.#endSession(session, `unreachable for ${this.#reconnect.giveUpAfter} ms`)
      }, this.#reconnect.giveUpAfter)
    }
    // The side that dialled a lane redials it; the other waits (no duplicate redials to resolve).
    if (!conn.retired && !session.suspended && conn.role === 'dialer') this.#scheduleRedial(lane)
  }

  #onDrain(conn: Conn): void {
    const session = conn.lane?.session
    if (!session) return
    this.#sampleLinks(session)
    for (const lane of session.lanes) if (lane.link === conn && !lane.dirty) this.#markDirty(lane)
  }

  #ensureLanes(session: Session): void {
    for (const lane of session.lanes) {
      if (!lane.link && !lane.dialing && !session.ended) this.#dialLane(lane)
    }
  }

  #dialLane(lane: Lane): void {
    lane.dialing = true
    this.#dial(lane.session.address, lane.ref).then(
      () => {
        lane.dialing = false
      },
      () => {
        lane.dialing = false
        this.#scheduleRedial(lane)
      },
    )
  }

  #scheduleRedial(lane: Lane): void {
    const session = lane.session
    if (lane.redialTimer || lane.dialing || lane.link || session.ended || session.suspended || this.#stopped) return
    const delay = backoffDelay(lane.attempts++, this.#reconnect, this.#random)
    lane.redialTimer = this.#clock.setTimeout(() => {
      lane.redialTimer = undefined
      if (lane.link || session.ended || session.suspended || this.#stopped) return
      this.#counters.reconnects++
      this.#dialLane(lane)
    }, delay)
  }

  /**
   * The side that dialled a lane redials it, the other waits: yet both can end up waiting. In a
   * simultaneous-dial resolution one side kept a link the other had already lost, and each then
   * closed the link the other kept; neither was the dialer of what it lost last, and the lane
   * stayed down for good while the session lived on its control lane, holding every message on it
   * (sim --swarm seed 1326: n2's tell to n0 waited 30 s and more, never sent). So a lane this side
   * has seen with no link, no dial and no redial due for longer than the dialer's longest backoff
   * plus a handshake is dialled from here; a duplicate that makes is resolved as any other.
   */
  #watchOrphan(lane: Lane, now: number): void {
    const session = lane.session
    if (lane.link || lane.dialing || lane.redialTimer || session.ended || session.suspended || this.#stopped || session.lanes[0]?.link?.phase !== 'open') {
      lane.orphanSince = undefined
      return
    }
    lane.orphanSince ??= now
    if (now - lane.orphanSince < this.#reconnect.maxDelay + this.#handshakeTimeout) return
    lane.orphanSince = undefined
    this.#counters.reconnects++
    this.#dialLane(lane)
  }

  #cancelRedial(lane: Lane): void {
    if (lane.redialTimer) this.#clock.clearTimeout(lane.redialTimer)
    lane.redialTimer = undefined
  }

  #endSession(session: Session, reason: string): void {
    if (session.ended) return
    session.ended = true
    if (this.#sessions.get(session.peer.nodeId) === session) this.#sessions.delete(session.peer.nodeId)
    if (session.giveUpTimer) this.#clock.clearTimeout(session.giveUpTimer)
    const unacknowledged: Unacknowledged[] = []
    for (const lane of session.lanes) {
      this.#cancelRedial(lane)
      if (lane.link) this.#retire(lane.link, reason)
      lane.link = undefined
      for (const [flags, key, payload] of unackedEntries(lane.out)) {
        if (flags & Flag.tooLarge) continue // reported when it was dropped
        const guarantee = guaranteeOf(flags)
        unacknowledged.push(key === null ? { channel: lane.channel.name, guarantee, payload } : { channel: lane.channel.name, guarantee, key, payload })
      }
    }
    for (const waiter of session.readyWaiters) waiter()
    this.#counters.peersDown++
    this.#log.info({ peer: session.peer.nodeId, reason, unacknowledged: unacknowledged.length }, 'peer down')
    // Messages this node already acked but held back for causes in this session: those causes
    // will never come now, so what waited only for them is handled (it would be lost otherwise).
    if (!this.#stopped) for (const clock of this.#causal.values()) clock.end(session.peer.nodeId, causalSessionId(session, this.incarnation))
    this.#events.emit('peer-down', { peer: session.peer, reason, unacknowledged })
  }

  // ---------------------------------------------------------------- sending

  #markDirty(lane: Lane): void {
    lane.dirty = true
    this.#dirty.push(lane)
    this.#flushThisTurn()
  }

  #flushThisTurn(): void {
    if (!this.#flushScheduled) {
      this.#flushScheduled = true
      this.#clock.defer(this.#flush)
    }
  }

  /**
   * Messages go out when the code that sent them returns (a microtask): a loop of sends, or all
   * the replies made while handling one incoming frame, become one frame, and a lone request
   * waits for nothing. Acks that have no data to ride on wait for the end of the turn (`defer`),
   * so a burst of incoming frames costs one ack, not one each.
   */
  readonly #flushSoon = (): void => {
    this.#soonScheduled = false
    this.#flushLanes(false)
  }

  /** Once per turn: every lane that got messages (or owes an ack) writes them as few frames. */
  readonly #flush = (): void => {
    this.#flushScheduled = false
    this.#flushLanes(true)
  }

  /** See {@link Transport.flushes}. */
  flushes = 0

  #flushLanes(acks: boolean): void {
    this.flushes++
    // Two lists swapped, so a flush allocates nothing.
    const lanes = this.#dirty
    this.#dirty = this.#spare
    for (const lane of lanes) {
      if (!acks && lane.queue.length === 0 && lane.out.sent === lane.out.nextSeq - 1 && lane.link?.chunkQueue.length === 0) {
        this.#dirty.push(lane)
        this.#flushThisTurn()
        continue
      }
      lane.dirty = false
      if (lane.session.ended) continue
      // Corking pays off only when the flush writes several frames.
      const link = lane.link?.link
      if (link?.cork && lane.queue.length / 4 + (lane.out.nextSeq - 1 - lane.out.sent) > this.#maxBatch) link.cork(() => this.#flushLane(lane))
      else this.#flushLane(lane)
      this.#sampleLane(lane)
    }
    lanes.length = 0
    this.#spare = lanes
  }

  /** What the lane's link holds in its own buffer counts toward the session's buffered bytes. */
  #sampleLane(lane: Lane): void {
    const bytes = lane.link?.link?.bufferedAmount() ?? 0
    const session = lane.session
    if (bytes === lane.linkBytes) return
    session.linkBytes += bytes - lane.linkBytes
    lane.linkBytes = bytes
    this.#checkDrained(session)
  }

  #flushLane(lane: Lane): void {
    const conn = lane.link
    if (!conn || conn.phase !== 'open') return
    const session = lane.session
    if (conn.chunkQueue.length > 0) {
      this.#sendRaw(conn, conn.chunkQueue.shift() as Uint8Array)
      if (conn.chunkQueue.length > 0 && !lane.dirty) this.#markDirty(lane)
    }
    const max = this.#maxBatch
    let frame: unknown[] = [FrameType.data, lane.in.next - 1]
    let count = 0
    const queue = lane.queue
    for (let i = 0; i < queue.length; i += 4) {
      frame.push(queue[i], queue[i + 1], queue[i + 2], queue[i + 3])
      if (++count === max) {
        this.#sendData(conn, frame, count)
        frame = [FrameType.data, lane.in.next - 1]
        count = 0
      }
    }
    session.queued -= queue.length / 4
    queue.length = 0
    const out = lane.out
    // The window bounds bulk traffic; the control lane is outside it, or a full window of bulk
    // messages would hold a membership probe or an ack behind it.
    let budget = lane.channel.firstLane === 0 ? Infinity : session.window - inFlight(session)
    if (out.sent === out.acked && out.sent < out.nextSeq - 1) lane.progressAt = this.#now
    const buf = out.buf
    // The reliable messages of the frame being built: `reliable` of them, from seq `first`.
    let first = out.sent + 1
    let reliable = 0
    while (budget > 0 && out.sent < out.nextSeq - 1) {
      const seq = out.sent + 1
      const i = offsetOf(out, seq)
      const flags = buf[i] as number
      frame.push(flags, seq, buf[i + 2], payloadOf(buf[i + 3], seq))
      if (flags & Flag.causal) frame.push(buf[i + 4])
      out.sent++
      budget--
      reliable++
      if (++count === max) {
        this.#keepBytes(out, first, reliable, this.#sendData(conn, frame, count))
        frame = [FrameType.data, lane.in.next - 1]
        count = 0
        first = out.sent + 1
        reliable = 0
      }
    }
    if (count > 0) this.#keepBytes(out, first, reliable, this.#sendData(conn, frame, count))
    else if (lane.ackDue) this.#sendAck(lane, conn, frame)
    if (lane.channel.firstLane === 0 && session.controlAcks.length > 0) {
      this.#sendRaw(conn, encodeFrame([FrameType.ack, ...session.controlAcks]))
      session.controlAcks.length = 0
    }
  }

  /**
   * An ack with no data to ride on goes on the control lane when it is open, so that it never
   * waits behind bulk data queued in the other direction of its own lane (which would stall the
   * sender's window); on its own lane otherwise.
   */
  #sendAck(lane: Lane, conn: Conn, frame: unknown[]): void {
    const control = lane.session.lanes[0] as Lane
    if (lane === control || control.link?.phase !== 'open') {
      this.#sendData(conn, frame, 0)
      return
    }
    lane.ackDue = false
    lane.session.controlAcks.push(lane.ref.channel, lane.ref.lane, lane.in.next - 1)
    this.#counters.acksViaControl++
    if (!control.dirty) this.#markDirty(control)
  }

  /**
   * A data frame over `maxMessageSize`. Several messages: split in halves, each sent (and split)
   * on its own. One message: it can never be sent. A best-effort one is dropped; a reliable one
   * goes as a placeholder without its payload (`Flag.tooLarge`), in its slot of the out buffer too,
   * so that retransmissions, the receiver's sequence and causal counts stay whole and the messages
   * after it are not stuck behind it for ever. Either way counted and reported as `FrameTooLarge`.
   */
  #sendOversize(conn: Conn, frame: unknown[], count: number, size: number): void {
    if (count > 1) {
      const head: unknown[] = [frame[0], frame[1]]
      const tail: unknown[] = [frame[0], frame[1]]
      let n = 0
      for (let i = 2; i < frame.length; n++) {
        const width = (frame[i] as number) & Flag.causal ? 5 : 4
        for (let j = 0; j < width; j++) (n < count >> 1 ? head : tail).push(frame[i + j])
        i += width
      }
      this.#sendData(conn, head, count >> 1)
      this.#sendData(conn, tail, count - (count >> 1))
      return
    }
    const flags = frame[2] as number
    this.#counters.tooLargeDropped++
    this.#report(new FrameTooLarge(`a message of ${size} bytes exceeds maxMessageSize (${this.#maxMessageSize}): dropped`, { size, max: this.#maxMessageSize, channel: (conn.lane as Lane).channel.name }), conn)
    if (!(flags & Flag.reliable)) return
    const out = (conn.lane as Lane).out
    const i = offsetOf(out, frame[3] as number)
    out.buf[i] = flags | Flag.tooLarge
    out.buf[i + 3] = null
    frame[2] = flags | Flag.tooLarge
    frame[5] = null
    this.#sendData(conn, frame, 1)
  }

  /**
   * The reliable messages `from … from + n - 1` went out whole in `bytes` (`undefined`: they did
   * not, e.g. in chunks): their out-buffer slots hold the bytes from now on, not their payloads.
   */
  #keepBytes(out: ReliableOut, from: number, n: number, bytes: Uint8Array | undefined): void {
    if (bytes === undefined || n === 0) return
    // A copy of its own: `bytes` is a view into the encoder's working buffer (up to 4x the largest
    // frame), and a small frame kept for a slow peer must not pin a whole one (a memcpy per frame).
    const sent = new SentFrame(bytes.slice())
    const buf = out.buf
    for (let i = offsetOf(out, from) + 3, end = i + n * STRIDE; i < end; i += STRIDE) buf[i] = sent
  }

  /** Encodes and sends a data frame; returns its bytes when they went out as one frame (not chunked, not split). */
  #sendData(conn: Conn, frame: unknown[], count: number): Uint8Array | undefined {
    const lane = conn.lane as Lane
    lane.ackDue = false
    const bytes = encodeFrame(frame)
    if (count > 0) this.#avgMessageBytes = this.#avgMessageBytes * 0.9 + (bytes.byteLength / count) * 0.1
    // Small frames go at once, overtaking the chunks of a big one still on its way.
    if (bytes.byteLength <= this.#chunkSize) {
      this.#sendRaw(conn, bytes)
      return bytes
    }
    // Several messages in a frame with more bytes than the peer's item limit: split, since such a
    // frame may hold more items than that too (an item is at least a byte) and be refused whole,
    // again at every retransmission (a window of swarm runs, each a few hundred tells, can get there).
    if (bytes.byteLength > this.#maxMessageSize || (count > 1 && bytes.byteLength > this.#structure.maxItems)) {
      this.#sendOversize(conn, frame, count, bytes.byteLength)
      return undefined
    }
    const id = ++this.#chunkId
    const n = Math.ceil(bytes.byteLength / this.#chunkSize)
    for (let k = 0; k < n; k++) {
      const part = bytes.subarray(k * this.#chunkSize, Math.min(bytes.byteLength, (k + 1) * this.#chunkSize))
      conn.chunkQueue.push(encodeFrame([FrameType.chunk, id, k, n, part]))
    }
    this.#counters.chunksSent += n
    if (conn.chunkQueue.length === n) this.#sendRaw(conn, conn.chunkQueue.shift() as Uint8Array)
    if (!lane.dirty) this.#markDirty(lane)
    return undefined
  }

  #sendRaw(conn: Conn, bytes: Uint8Array): void {
    if (!conn.link) return
    conn.link.send(bytes)
    conn.lastSent = this.#now
    this.#counters.framesSent++
    this.#counters.bytesSent += bytes.byteLength
  }

  /** The id both ends give their current session (their two epochs, ordered), for causal counts. */
  readonly #causalSession = (peer: string): string | undefined => {
    const s = this.#sessions.get(peer)
    return s === undefined ? undefined : causalSessionId(s, this.incarnation)
  }

  #causalGroup(group: string): CausalGroup {
    let clock = this.#causal.get(group)
    if (!clock) this.#causal.set(group, (clock = new CausalGroup(this.nodeId, this.#causalSession, `${this.incarnation}:`)))
    return clock
  }

  #stamp(group: string, to: string): [string, Stamp] {
    return [group, this.#causalGroup(group).stamp(to)]
  }

  // ---------------------------------------------------------------- receiving

  #onOpenFrame(conn: Conn, frame: unknown[]): void {
    switch (frame[0]) {
      case FrameType.data:
        return this.#onData(conn, frame)
      case FrameType.ping:
        expect(frame.length === 2 && isUint(frame[1]), 'ping')
        return this.#onAck(conn.lane as Lane, frame[1] as number)
      case FrameType.chunk:
        return this.#onChunk(conn, frame)
      case FrameType.ack:
        return this.#onControlAcks(conn, frame)
      case FrameType.reject:
        // The peer is closing this link and says why (e.g. it lost a simultaneous-dial tie-break).
        this.#log.debug({ peer: conn.peer?.nodeId, reason: frame[2] }, 'peer closing link')
        return
      default:
        throw new MalformedFrame(`handshake frame (type ${frame[0]}) on an open link`)
    }
  }

  #onData(conn: Conn, frame: unknown[]): void {
    const lane = conn.lane
    if (!lane || lane.session.ended) return
    expect(isUint(frame[1]), 'ack')
    this.#onAck(lane, frame[1] as number)
    const session = lane.session
    const bucket = this.#rateLimit === undefined ? undefined : this.#bucket(session, this.#rateLimit)
    const inb = lane.in
    for (let i = 2; i < frame.length; ) {
      const flags = frame[i]
      const seq = frame[i + 1]
      const key = frame[i + 2]
      const payload = frame[i + 3]
      expect(isUint(flags) && isUint(seq) && (key === null || typeof key === 'string') && i + 3 < frame.length, 'message tuple')
      let extra: unknown = null
      if (flags & Flag.causal) {
        extra = frame[i + 4]
        expect(Array.isArray(extra) && extra.length === 2 && typeof extra[0] === 'string' && isStamp(extra[1]), 'causal stamp')
        i += 5
      } else i += 4
      if (bucket !== undefined && !take(bucket)) {
        this.#refuseOverRate(conn)
        continue
      }
      if (flags & Flag.reliable) {
        lane.ackDue = true
        const arrival = classify(inb, seq)
        if (arrival === 'duplicate') {
          this.#counters.duplicatesDropped++
        } else if (arrival === 'hold') {
          // Bounded by the sender's window and by bytes; beyond them the message is dropped unacked and resent.
          const size = encodedSize([key, payload, extra])
          if (inb.held.size < 1 << 18 && this.#mayHold(conn, size)) {
            inb.held.set(seq, [flags, key, payload, extra])
            session.heldBytes += size
            this.#counters.heldBack++
          }
        } else {
          const held = flags & Flag.causal ? this.#causalHold(conn, key, payload, extra) : 0
          if (held < 0) continue
          inb.next++
          this.#deliverUp(lane, flags, key, payload, extra, held)
          this.#releaseHeld(conn, lane)
        }
      } else {
        if (flags & Flag.fifo) {
          if (!acceptNewer(lane.fifoLast, seq)) {
            this.#counters.staleDropped++
            continue
          }
          lane.fifoLast = seq
        }
        if (flags & Flag.monotonic && !lane.latest.accept(key ?? '', seq)) {
          this.#counters.staleDropped++
          continue
        }
        // Causal without reliable is no message this transport sends; it is held all the same, within the budget.
        const held = flags & Flag.causal ? this.#causalHold(conn, key, payload, extra) : 0
        if (held < 0) continue
        this.#deliverUp(lane, flags, key, payload, extra, held)
      }
    }
    if (lane.ackDue && !lane.dirty) this.#ackSoon(lane)
  }

  /**
   * An ack is owed on `lane`: looked at when the code that handles this frame returns (the
   * microtask flush), where it rides on whatever that code sent back (an ask's reply, the next
   * request), or, with nothing to ride on, is put off to the end of the turn as before (see
   * `#flushLanes`). Scheduling the end-of-turn flush at once cost every round trip an extra
   * event-loop iteration (a `setImmediate` and an `epoll_wait`) on both nodes, for nothing.
   */
  #ackSoon(lane: Lane): void {
    lane.dirty = true
    this.#dirty.push(lane)
    if (!this.#soonScheduled) {
      this.#soonScheduled = true
      queueMicrotask(this.#flushSoon)
    }
  }

  #onAck(lane: Lane, upTo: number): void {
    const n = ack(lane.out, upTo)
    if (n < 0) throw new MalformedFrame(`ack for ${upTo}, never sent`)
    if (n === 0) return
    const session = lane.session
    session.queued -= n
    session.window = growWindow(session.window, n)
    lane.progressAt = this.#now
    for (const l of session.lanes) if (!l.dirty && l.out.sent < l.out.nextSeq - 1) this.#markDirty(l)
    this.#checkDrained(session)
  }

  #onControlAcks(conn: Conn, frame: unknown[]): void {
    const session = conn.lane?.session
    expect(session !== undefined && conn.lane?.channel.firstLane === 0 && frame.length % 3 === 1, 'acks on the control lane')
    for (let i = 1; i < frame.length; i += 3) {
      const channel = this.#channelByName.get(frame[i] as string)
      const index = frame[i + 1]
      expect(channel !== undefined && isUint(index) && index < channel.parallelism && isUint(frame[i + 2]), 'lane ack')
      this.#onAck(session.lanes[channel.firstLane + index] as Lane, frame[i + 2] as number)
    }
  }

  #onChunk(conn: Conn, frame: unknown[]): void {
    const [, id, index, count, part] = frame
    expect(frame.length === 5 && isUint(id) && isUint(count) && count > 1 && isUint(index) && index < count && isBytes(part), 'chunk')
    this.#counters.chunksReceived++
    if (count * this.#chunkSize > this.#maxMessageSize + this.#chunkSize) {
      throw new FrameTooLarge(`chunked frame of ${count} chunks exceeds maxMessageSize`, { count })
    }
    let r = conn.reassembly
    if (!r || r.id !== id) conn.reassembly = r = { id, parts: new Array<Uint8Array | undefined>(count), missing: count, bytes: 0 }
    expect(r.parts.length === count, 'chunk count')
    if (r.parts[index] !== undefined) return
    r.parts[index] = part
    r.missing--
    r.bytes += part.byteLength
    if (r.bytes > this.#maxMessageSize) {
      conn.reassembly = undefined
      throw new FrameTooLarge(`chunked frame exceeds ${this.#maxMessageSize} bytes`, { size: r.bytes })
    }
    if (r.missing > 0) return
    conn.reassembly = undefined
    const whole = decodeFrame(concat(r.parts as Uint8Array[], r.bytes), this.#maxMessageSize, this.#structure)
    expect(whole[0] === FrameType.data, 'chunked frame type')
    this.#onData(conn, whole)
  }

  /**
   * Delivers a message, or for a causal one hands it to its group, which delivers it when its
   * causes are; `held` is its size if it will wait (counted in the session's held bytes meanwhile).
   */
  #deliverUp(lane: Lane, flags: number, key: string | null, payload: unknown, extra: unknown, held: number): void {
    if (flags & Flag.causal) {
      const [group, stamp] = extra as [string, Stamp]
      const session = lane.session
      session.heldBytes += held
      this.#causalGroup(group).receive(session.peer.nodeId, stamp, () => {
        session.heldBytes -= held
        this.#deliver(lane, flags, key, payload)
      })
      return
    }
    this.#deliver(lane, flags, key, payload)
  }

  /**
   * Reliable messages held behind a gap that has just filled are delivered in order, until the
   * next gap, or until a causal one that would wait no longer fits the budget: that one is
   * dropped unacked (the peer resends it) and the rest stay held.
   */
  #releaseHeld(conn: Conn, lane: Lane): void {
    const inb = lane.in
    const session = lane.session
    let next = inb.held.get(inb.next)
    while (next !== undefined) {
      inb.held.delete(inb.next)
      session.heldBytes -= encodedSize([next[1], next[2], next[3]])
      const held = next[0] & Flag.causal ? this.#causalHold(conn, next[1], next[2], next[3]) : 0
      if (held < 0) return
      inb.next++
      this.#deliverUp(lane, next[0], next[1], next[2], next[3], held)
      next = inb.held.get(inb.next)
    }
  }

  /**
   * For a causal message about to be accepted: 0 if it can be delivered at once, its size if it
   * will wait for its causes and fits the session's budget of held bytes, -1 if it does not fit
   * (refused: counted, reported, not acknowledged). A message that can be delivered is never
   * refused, so the budget cannot stop the causal order from making progress.
   */
  #causalHold(conn: Conn, key: string | null, payload: unknown, extra: unknown): number {
    const [group, stamp] = extra as [string, Stamp]
    if (!this.#causalGroup(group).wouldWait(stamp)) return 0
    const size = encodedSize([key, payload, extra])
    return this.#mayHold(conn, size) ? size : -1
  }

  /** Whether the peer's held messages may grow by `size` bytes; refusals are counted and reported. */
  #mayHold(conn: Conn, size: number): boolean {
    const session = (conn.lane as Lane).session
    // One message always fits into an empty budget: a message larger than it must not wait for ever.
    if (session.heldBytes === 0 || session.heldBytes + size <= this.#maxHeldBytes) return true
    this.#counters.holdBackRefused++
    if (session.holdReportedAt !== this.#now) {
      session.holdReportedAt = this.#now
      this.#report(new HoldBackFull(`${session.heldBytes} bytes of ${session.peer.nodeId}'s messages held here: over ${this.#maxHeldBytes}`, { heldBytes: session.heldBytes, max: this.#maxHeldBytes }), conn)
    }
    return false
  }

  /** The peer's token bucket, refilled for this frame. */
  #bucket(session: Session, limit: RateLimit): TokenBucket {
    if (session.bucket === undefined) session.bucket = tokenBucket(limit, this.#now)
    else refill(session.bucket, limit, this.#now)
    return session.bucket
  }

  #refuseOverRate(conn: Conn): void {
    const session = (conn.lane as Lane).session
    this.#counters.rateLimited++
    if (session.rateReportedAt !== this.#now) {
      session.rateReportedAt = this.#now
      const limit = this.#rateLimit as RateLimit
      this.#report(new RateLimited(`${session.peer.nodeId} sends over ${limit.messagesPerSecond} messages per second`, { nodeId: session.peer.nodeId, limit: limit.messagesPerSecond }), conn)
    }
  }

  #deliver(lane: Lane, flags: number, key: string | null, payload: unknown): void {
    if (flags & Flag.tooLarge) {
      this.#counters.tooLargeReceived++
      return
    }
    this.#counters.messagesDelivered++
    const from = lane.session.peer
    const channel = lane.channel.name
    const guarantee = guaranteeOf(flags)
    const message: InboundMessage = key === null ? { from, channel, guarantee, payload } : { from, channel, guarantee, key, payload }
    try {
      this.#handler(message)
    } catch (error) {
      this.#log.warn({ err: error, peer: from.nodeId }, 'message handler threw')
    }
  }

  // ---------------------------------------------------------------- flow control and timers

  /** What one lane holds toward its peer: queued, unacknowledged, and in its link's buffer. */
  #laneBuffered(lane: Lane): number {
    return (lane.queue.length / 4 + unackedCount(lane.out)) * this.#avgMessageBytes + lane.linkBytes
  }

  #buffered(session: Session): number {
    return session.queued * this.#avgMessageBytes + session.linkBytes
  }

  #sampleLinks(session: Session): void {
    for (const lane of session.lanes) this.#sampleLane(lane)
    this.#checkDrained(session)
  }

  #overHigh(session: Session): void {
    if (waterMark(this.#buffered(session), session.overHighWater, this.#limits) === 'backpressure') {
      session.overHighWater = true
      this.#events.emit('backpressure', { peer: session.peer })
    }
  }

  #checkDrained(session: Session): void {
    const buffered = this.#buffered(session)
    if (waterMark(buffered, session.overHighWater, this.#limits) === 'drained') {
      session.overHighWater = false
      this.#events.emit('drained', { peer: session.peer })
    }
    if (session.readyWaiters.size > 0 && buffered < this.#limits.lowWaterMark) {
      for (const waiter of session.readyWaiters) waiter()
    }
  }

  #armTick(): void {
    const every = Math.max(5, Math.min(this.#heartbeat, this.#rto, this.#handshakeTimeout) / 2)
    this.#tickTimer = this.#clock.setTimeout(() => {
      if (this.#stopped) return
      this.#tick()
      this.#armTick()
    }, every)
  }

  /** Handshake timeouts, heartbeats, retransmission timeouts: one periodic pass, not a timer per link. */
  #tick(): void {
    const now = (this.#now = this.#clock.now())
    for (const conn of this.#conns) {
      if (conn.phase !== 'open') {
        if (conn.phase !== 'closed' && now - conn.openedAt > this.#handshakeTimeout) {
          this.#failHandshake(conn, new HandshakeTimeout(`handshake not done after ${this.#handshakeTimeout} ms`), true)
        }
      } else if (now - conn.lastReceived > 3 * this.#heartbeat) {
        this.#counters.heartbeatTimeouts++
        this.#report(new HeartbeatTimeout(`no frame for ${now - conn.lastReceived} ms: link presumed dead`), conn)
        conn.phase = 'closed'
        conn.link?.close(1001, 'heartbeat timeout')
      } else if (now - conn.lastSent >= this.#heartbeat && conn.lane) {
        this.#sendRaw(conn, encodeFrame([FrameType.ping, conn.lane.in.next - 1]))
      }
    }
    for (const session of this.#sessions.values()) {
      for (const lane of session.lanes) {
        this.#watchOrphan(lane, now)
        const out = lane.out
        if (out.sent > out.acked && lane.link?.phase === 'open' && now - lane.progressAt > this.#rto) {
          this.#counters.retransmitTimeouts++
          this.#counters.retransmitted += rewind(out)
          session.window = shrinkWindow(session.window)
          lane.progressAt = now
          if (!lane.dirty) this.#markDirty(lane)
        }
      }
      this.#sampleLinks(session)
    }
    // A session that a peer opened and this node never did (the last handshake message was lost)
    // is over on the peer's side once its links have been down for the give-up time: stop waiting.
    for (const clock of this.#causal.values()) clock.expireUnopened(now, this.#handshakeTimeout + this.#reconnect.giveUpAfter)
  }
}
