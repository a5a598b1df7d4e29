import type {
  Transport,
  PeerInfo,
  InboundMessage,
  SendOptions,
  TransportEvents,
  Unacknowledged,
  Capacity,
} from '@murmur/transport'

interface Queued {
  from: FakeTransport
  payload: unknown
  options: SendOptions
}

/**
 * A small in-process stand-in for `@murmur/transport` (used until its memory network landed, and
 * still handy: crash semantics are explicit). Messages between two nodes are delivered in order,
 * one turn later (setImmediate); reliable messages not yet delivered when a node crashes are
 * handed back by `forget` on the survivors, like the real transport's `peer-down.unacknowledged`.
 * Payloads are cloned (structuredClone) to catch code that shares objects across nodes.
 */
export class FakeNetwork {
  readonly byAddress = new Map<string, FakeTransport>()
  readonly byId = new Map<string, FakeTransport>()
  next = 7000
  transport(init: { nodeId: string; cluster?: string; secret: string }): FakeTransport {
    return new FakeTransport(this, init.nodeId, init.cluster ?? 'murmur', init.secret)
  }
}

export class FakeTransport implements Transport {
  readonly incarnation = Date.now() + Math.floor(Math.random() * 1000)
  address = ''
  running = false
  crashed = false
  readonly conns = new Map<string, FakeTransport>()
  /** Per peer: messages sent and not yet delivered (the reliable ones are the "unacknowledged"). */
  readonly inFlight = new Map<string, Queued[]>()
  handler: (m: InboundMessage) => void = () => {}
  listeners = new Map<string, Set<(d: never) => void>>()
  sent = 0

  constructor(
    readonly network: FakeNetwork,
    readonly nodeId: string,
    readonly cluster: string,
    readonly secret: string,
  ) {}

  get info(): PeerInfo {
    return { nodeId: this.nodeId, incarnation: this.incarnation, address: this.address }
  }

  async start(): Promise<void> {
    this.address = `127.0.0.1:${this.network.next++}`
    this.network.byAddress.set(this.address, this)
    this.network.byId.set(this.nodeId, this)
    this.running = true
  }

  async stop(): Promise<void> {
    this.running = false
    this.network.byAddress.delete(this.address)
    for (const peer of [...this.conns.values()]) this.drop(peer, 'stopped')
  }

  /** kill -9: no goodbye; peers see their connection close. */
  crash(): void {
    this.crashed = true
    this.running = false
    this.network.byAddress.delete(this.address)
    for (const peer of [...this.conns.values()]) {
      this.conns.delete(peer.nodeId)
      peer.conns.delete(this.nodeId)
      peer.emit('peer-down', { peer: this.info, reason: 'connection-lost', unacknowledged: [] })
    }
  }

  drop(peer: FakeTransport, reason: string): void {
    this.conns.delete(peer.nodeId)
    peer.conns.delete(this.nodeId)
    peer.emit('peer-down', { peer: this.info, reason, unacknowledged: [] })
    this.emit('peer-down', { peer: peer.info, reason, unacknowledged: [] })
  }

  async connect(address: string): Promise<PeerInfo> {
    await new Promise((r) => setImmediate(r))
    const peer = this.network.byAddress.get(address)
    if (!peer || !peer.running || !this.running) throw Object.assign(new Error(`unreachable ${address}`), { code: 'PEER_UNREACHABLE' })
    if (peer.secret !== this.secret || peer.cluster !== this.cluster) {
      this.emit('error', { error: Object.assign(new Error('auth failed'), { code: 'AUTHENTICATION_FAILED' }) as never, remote: address })
      throw Object.assign(new Error('authentication failed'), { code: 'AUTHENTICATION_FAILED' })
    }
    if (!this.conns.has(peer.nodeId)) {
      this.conns.set(peer.nodeId, peer)
      peer.conns.set(this.nodeId, this)
      this.emit('peer-up', peer.info)
      peer.emit('peer-up', this.info)
    }
    return peer.info
  }

  async disconnect(nodeId: string): Promise<void> {
    const peer = this.conns.get(nodeId)
    if (peer) this.drop(peer, 'disconnect')
  }

  forget(nodeId: string): void {
    const q = this.inFlight.get(nodeId) ?? []
    this.inFlight.delete(nodeId)
    const unacknowledged: Unacknowledged[] = q
      .filter((m) => !(m.options.guarantee ?? ['reliable']).includes('best-effort'))
      .map((m) => ({ channel: m.options.channel ?? 'default', guarantee: m.options.guarantee ?? ['reliable', 'fifo'], payload: m.payload }))
    this.emit('peer-down', { peer: { nodeId, incarnation: 0, address: '' }, reason: 'forgotten', unacknowledged })
  }

  send(nodeId: string, payload: unknown, options: SendOptions = {}): boolean {
    if (this.crashed) return false
    const peer = this.conns.get(nodeId)
    const q = this.inFlight.get(nodeId) ?? []
    this.inFlight.set(nodeId, q)
    if (!peer) {
      if (!this.network.byId.has(nodeId)) throw Object.assign(new Error(`unknown peer ${nodeId}`), { code: 'PEER_UNKNOWN' })
      // Connection lost: reliable messages wait for a reconnect (or `forget`), like the real one.
      if (!(options.guarantee ?? []).includes('best-effort')) q.push({ from: this, payload: structuredClone(payload), options })
      return true
    }
    const item: Queued = { from: this, payload: structuredClone(payload), options }
    q.push(item)
    this.sent++
    setImmediate(() => {
      if (peer.crashed || this.crashed) return
      const i = q.indexOf(item)
      if (i < 0) return
      // In order per peer: deliver everything up to this one.
      const ready = q.splice(0, i + 1)
      for (const m of ready) {
        peer.handler({ from: this.info, channel: m.options.channel ?? 'default', guarantee: m.options.guarantee ?? ['reliable', 'fifo'], payload: m.payload })
      }
    })
    return true
  }

  async ready(): Promise<void> {}
  capacity(): Capacity {
    return { bufferedBytes: 0, highWaterMark: 1 << 20, lowWaterMark: 1 << 18, window: 1024, inFlight: 0 }
  }
  peers(): readonly PeerInfo[] {
    return [...this.conns.values()].map((p) => p.info)
  }
  onMessage(handler: (message: InboundMessage) => void): void {
    this.handler = handler
  }
  on<E extends keyof TransportEvents>(event: E, listener: (data: TransportEvents[E]) => void): () => void {
    const set = this.listeners.get(event) ?? new Set()
    this.listeners.set(event, set)
    set.add(listener as (d: never) => void)
    return () => set.delete(listener as (d: never) => void)
  }
  emit<E extends keyof TransportEvents>(event: E, data: TransportEvents[E]): void {
    for (const l of this.listeners.get(event) ?? []) (l as (d: TransportEvents[E]) => void)(data)
  }
  metrics(): Readonly<Record<string, number>> {
    return { sent: this.sent }
  }
}
