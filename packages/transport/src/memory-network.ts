import type { Clock, TimerHandle } from './clock.js'
import type { Connector, ConnectorFactory, Link, LinkHandlers, ListenOptions } from './connector.js'
import type { AbortOptions } from './transport.js'
import { AddressInUse, Aborted, NotStarted, PeerUnreachable } from './errors.js'
import { CloseCode, linkLimits, type LinkLimits } from './internal/link-state.js'
import { planDelivery, validateFaults, type LinkFaults } from './internal/memory/faults.js'
import { MemoryLink, type InFlight, type Wire } from './internal/memory/link.js'
import { seededRandom } from './internal/memory/prng.js'
import { Runner } from './internal/memory/runner.js'
import { Scheduler, type Owner, type ScheduledEvent } from './internal/memory/scheduler.js'

export type { LinkFaults } from './internal/memory/faults.js'

export interface MemoryNetworkInit {
  /** Seeds every random choice (faults, `clock.random`): same seed and inputs, same history. */
  readonly seed: number
  /** One-way latency of every link, in virtual ms. Default 1. */
  readonly latency?: number
  /** Bytes per virtual ms leaving a sender's buffer; unlimited (everything queued leaves next step) by default. */
  readonly bandwidth?: number
  /** Faults on every link that has none of its own. */
  readonly faults?: LinkFaults
  /** Virtual ms a dial across a `drop` partition waits before it fails. Default 1000. */
  readonly connectTimeout?: number
  /** Events kept in `trace` (the oldest are forgotten); 0 turns recording off. Default 100 000. */
  readonly traceLimit?: number
}

/** Limits of one node's links; the same meaning as in `uwsConnector`. */
export interface MemoryConnectorInit {
  readonly maxPayloadLength?: number
  readonly highWaterMark?: number
  readonly lowWaterMark?: number
}

export interface PartitionOptions {
  /** `drop` (default): frames across the cut vanish and links stay up. `disconnect`: links across it break (1006). */
  readonly mode?: 'drop' | 'disconnect'
}

export type TraceKind =
  | 'listen'
  | 'dial'
  | 'accept'
  | 'unreachable'
  | 'sent'
  | 'dropped'
  | 'duplicated'
  | 'delivered'
  | 'close'
  | 'crash'
  | 'restart'
  | 'partition'
  | 'heal'

/** One thing that happened, in virtual time. `frame` numbers frames per link direction from 0. */
export interface TraceEvent {
  readonly at: number
  readonly kind: TraceKind
  readonly from?: string
  readonly to?: string
  readonly link?: number
  readonly frame?: number
  readonly bytes?: number
  readonly reason?: string
}

/**
 * An in-process network of simulated nodes on a seeded, virtual-time scheduler, with faults.
 * See {@link createMemoryNetwork}.
 */
export interface MemoryNetwork {
  /** Virtual time. `defer` runs after the current step; timers fire in virtual time; `random` is seeded. */
  readonly clock: Clock
  /** The same clock, except that a crash of `node` cancels every timer and deferral it set. */
  clockFor(node: string): Clock
  /** A connector for `node`; it listens at the address `node`. A crash kills connectors made before it. */
  connector(node: string, init?: MemoryConnectorInit): ConnectorFactory
  /** Faults between `a` and `b`, both directions (`undefined` clears them back to the default). */
  setLinkFaults(a: string, b: string, faults: LinkFaults | undefined): void
  /** Faults on every link of `node` that has none of its own (the sender's node counts first). */
  setNodeFaults(node: string, faults: LinkFaults | undefined): void
  /** Faults for every link without its own or its nodes'. */
  setDefaultFaults(faults: LinkFaults | undefined): void
  /** Cuts `sideA` from `sideB` until `heal()`. */
  partition(sideA: readonly string[], sideB: readonly string[], options?: PartitionOptions): void
  /** Removes every cut. */
  heal(): void
  /**
   * The node stops: peers see its links close (1006, after one latency), its listener is gone,
   * nothing it queued or had on the wire arrives, its `clockFor` timers are cancelled, its own
   * handlers hear nothing, its pending dials never settle and its connectors stay dead.
   */
  crash(node: string): void
  /** A new life for a crashed node: connectors and `clockFor` clocks made from now on work; older ones stay dead. */
  restart(node: string): void
  /** Runs one event; resolves `false` when there was none. */
  step(): Promise<boolean>
  /** Runs every event due in the next `virtualMs`, then sets the clock to that time. Resolves to the steps run. */
  runFor(virtualMs: number): Promise<number>
  /** Runs until no event is left or `maxSteps` ran. Resolves to the steps run. */
  runUntilIdle(maxSteps?: number): Promise<number>
  /** Drives the scheduler from real `setImmediate` turns until `stop()`: plain async/await tests need no stepping. */
  autoRun(): void
  stop(): void
  /** Events waiting (timers included). */
  readonly pending: number
  /** What happened, oldest first, bounded by `traceLimit`. */
  readonly trace: readonly TraceEvent[]
  /** Calls `listener` for every event as it happens (even with `traceLimit: 0`); returns an unsubscribe. */
  onTrace(listener: (event: TraceEvent) => void): () => void
}

/** One life of a node, from start or restart to crash: what its clocks, connectors and links belong to. */
interface Life extends Owner {
  alive: boolean
}

interface Node {
  readonly name: string
  life: Life
  listener: { readonly accept: (link: Link) => LinkHandlers; readonly limits: LinkLimits; readonly links: Set<MemoryLink> } | undefined
  readonly links: Set<MemoryLink>
}

interface Cut {
  readonly a: ReadonlySet<string>
  readonly b: ReadonlySet<string>
  readonly mode: 'drop' | 'disconnect'
}

const GLOBAL: Owner = { alive: true }
/** Handlers of an accepted link until `accept` returns its own. */
const UNSET: LinkHandlers = { frame() {}, drain() {}, close() {} }

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\u0000${b}` : `${b}\u0000${a}`
}

/**
 * Creates an in-process network whose whole history is a function of its seed and its inputs.
 *
 * @example
 * ```ts
 * const net = createMemoryNetwork({ seed: 42, faults: { drop: 0.01, delay: [0, 5] } })
 * net.autoRun()
 * const a = net.connector('a')({ clock: net.clockFor('a') })
 * const b = net.connector('b')({ clock: net.clockFor('b') })
 * await b.listen({ host: '127.0.0.1', port: 0 }, (link) => ({ frame: (f) => link.send(f), drain() {}, close() {} }))
 * const link = await a.dial('b', { frame: (f) => console.log('echo', f), drain() {}, close() {} })
 * link.send(new Uint8Array([1]))
 * net.partition(['a'], ['b'])
 * net.crash('b')
 * net.stop()
 * ```
 */
export function createMemoryNetwork(init: MemoryNetworkInit): MemoryNetwork {
  const scheduler = new Scheduler()
  const runner = new Runner(scheduler)
  const random = seededRandom(init.seed)
  const latency = init.latency ?? 1
  const bandwidth = init.bandwidth ?? Number.POSITIVE_INFINITY
  const connectTimeout = init.connectTimeout ?? 1000
  const traceLimit = init.traceLimit ?? 100_000
  if (!(latency >= 0)) throw new RangeError('latency must be >= 0')
  if (!(bandwidth > 0)) throw new RangeError('bandwidth must be > 0')
  let defaultFaults = init.faults === undefined ? undefined : validateFaults(init.faults)
  const linkFaults = new Map<string, LinkFaults>()
  const nodeFaults = new Map<string, LinkFaults>()
  const faultsOf = (from: string, to: string): LinkFaults | undefined =>
    linkFaults.get(pairKey(from, to)) ?? nodeFaults.get(from) ?? nodeFaults.get(to) ?? defaultFaults
  const nodes = new Map<string, Node>()
  let cuts: Cut[] = []
  const trace: TraceEvent[] = []
  const listeners = new Set<(event: TraceEvent) => void>()
  let nextLinkId = 0

  function record(event: TraceEvent): void {
    if (traceLimit > 0) {
      trace.push(event)
      if (trace.length >= 2 * traceLimit) trace.splice(0, trace.length - traceLimit)
    }
    for (const listener of listeners) listener(event)
  }

  function frameEvent(kind: TraceKind, from: MemoryLink, frame: InFlight, reason?: string): void {
    if (traceLimit === 0 && listeners.size === 0) return
    const base = { at: scheduler.now, kind, from: from.node, to: from.peer.node, link: from.id, frame: frame.n, bytes: frame.data.byteLength }
    record(reason === undefined ? base : { ...base, reason })
  }

  function nodeOf(name: string): Node {
    let node = nodes.get(name)
    if (node === undefined) {
      node = { name, life: { alive: true }, listener: undefined, links: new Set() }
      nodes.set(name, node)
    }
    return node
  }

  function cutBetween(x: string, y: string): Cut | undefined {
    for (const cut of cuts) {
      if ((cut.a.has(x) && cut.b.has(y)) || (cut.b.has(x) && cut.a.has(y))) return cut
    }
    return undefined
  }

  function deliver(from: MemoryLink, frame: InFlight, data: Uint8Array): void {
    const to = from.peer
    if (from.crashed) frameEvent('dropped', from, frame, 'sender crashed')
    else if (to.state.closed) frameEvent('dropped', from, frame, 'link closed')
    else if (cutBetween(from.node, to.node) !== undefined) frameEvent('dropped', from, frame, 'partition')
    else {
      frameEvent('delivered', from, frame)
      to.receive(data)
    }
  }

  const wire: Wire = {
    schedule: (delay, fn, owner) => {
      scheduler.schedule(delay, fn, owner)
    },
    transmitTime: (bytes) => (bandwidth === Number.POSITIVE_INFINITY ? 0 : bytes / bandwidth),
    route(from, frame) {
      const plan = planDelivery(faultsOf(from.node, from.peer.node), random)
      if (plan.length === 0) frameEvent('dropped', from, frame, 'fault')
      plan.forEach((delivery, i) => {
        let arrival = scheduler.now + latency + delivery.delay
        if (!delivery.reordered) {
          arrival = Math.max(arrival, from.lastArrival)
          from.lastArrival = arrival
        }
        // The second copy of a duplicate is the receiver's own buffer too.
        const data = i === 0 ? frame.data : frame.data.slice()
        if (i > 0) frameEvent('duplicated', from, frame)
        scheduler.schedule(arrival - scheduler.now, () => deliver(from, frame, data))
      })
    },
    closeNotice(from, code, reason) {
      const arrival = Math.max(scheduler.now + latency, from.lastArrival)
      scheduler.schedule(arrival - scheduler.now, () => {
        if (!from.crashed) from.peer.break(code, reason)
      })
    },
    oversized(at, bytes) {
      const reason = 'frame too large'
      record({ at: scheduler.now, kind: 'dropped', from: at.peer.node, to: at.node, link: at.id, bytes, reason })
      at.break(CloseCode.tooBig, reason)
      scheduler.schedule(latency, () => at.peer.break(CloseCode.tooBig, reason))
    },
    sent: (from, frame) => frameEvent('sent', from, frame),
    closed(link, code, reason) {
      // Forget a link once both ends are closed; until then a crash must still find it.
      if (link.peer.state.closed) {
        for (const end of [link, link.peer]) {
          nodes.get(end.node)?.links.delete(end)
          end.home?.delete(end)
        }
      }
      record({ at: scheduler.now, kind: 'close', from: link.node, to: link.peer.node, link: link.id, reason: `${code} ${reason}` })
    },
  }

  function makeClock(owner: Owner): Clock {
    return {
      now: () => scheduler.now,
      wallTime: () => scheduler.now,
      setTimeout: (fn, ms) => ({ __timer: scheduler.schedule(ms, fn, owner) }),
      clearTimeout: (handle: TimerHandle) => {
        ;(handle.__timer as ScheduledEvent).cancelled = true
      },
      defer: (fn) => {
        scheduler.schedule(0, fn, owner)
      },
      random,
    }
  }

  /** Breaks both ends of a link as the network sees it (`disconnect` partitions). */
  function breakBoth(link: MemoryLink, reason: string): void {
    scheduler.schedule(0, () => {
      link.break(CloseCode.abnormal, reason)
      link.peer.break(CloseCode.abnormal, reason)
    })
  }

  function makeConnector(name: string, limits: LinkLimits): Connector {
    const node = nodeOf(name)
    const life = node.life
    const mine = new Set<MemoryLink>()
    let closed = false
    let listening = false

    const assertAlive = (what: string): void => {
      if (!life.alive) throw new NotStarted(`cannot ${what}: node ${name} crashed`)
      if (closed) throw new NotStarted(`cannot ${what}: connector closed`)
    }

    function adopt(link: MemoryLink, at: Node, home: Set<MemoryLink>): MemoryLink {
      home.add(link)
      at.links.add(link)
      link.home = home
      return link
    }

    function connect(target: Node, handlers: LinkHandlers): MemoryLink {
      const listener = target.listener
      if (listener === undefined) throw new Error('unreachable: connect without a listener')
      const id = nextLinkId++
      const dialer = adopt(new MemoryLink(id, name, life, target.name, handlers, limits, wire), node, mine)
      const accepted = adopt(new MemoryLink(id, target.name, target.life, name, UNSET, listener.limits, wire), target, listener.links)
      dialer.peer = accepted
      accepted.peer = dialer
      record({ at: scheduler.now, kind: 'accept', from: name, to: target.name, link: id })
      accepted.state.handlers = listener.accept(accepted)
      return dialer
    }

    return {
      async listen(_options: ListenOptions, accept: (link: Link) => LinkHandlers): Promise<string> {
        assertAlive('listen')
        if (node.listener !== undefined || listening) throw new AddressInUse(`memory node ${name} is already listening`)
        listening = true
        node.listener = { accept, limits, links: mine }
        record({ at: scheduler.now, kind: 'listen', from: name })
        return name
      },

      dial(address: string, handlers: LinkHandlers, options: AbortOptions = {}): Promise<Link> {
        return new Promise<Link>((resolve, reject) => {
          assertAlive('dial')
          const { signal } = options
          const aborted = (): Aborted => new Aborted(`dial ${address} aborted`, { address }, { cause: signal?.reason })
          if (signal?.aborted) throw aborted()
          let settled = false
          const onAbort = (): void => {
            settled = true
            reject(aborted())
          }
          signal?.addEventListener('abort', onAbort, { once: true })
          const finish = (fn: () => void): void => {
            signal?.removeEventListener('abort', onAbort)
            if (!settled) fn()
            settled = true
          }
          const unreachable = (why: string, after: number): void => {
            record({ at: scheduler.now, kind: 'unreachable', from: name, to: address, reason: why })
            scheduler.schedule(after, () => finish(() => reject(new PeerUnreachable(`cannot reach ${address}: ${why}`, { address }))), life)
          }
          record({ at: scheduler.now, kind: 'dial', from: name, to: address })
          // The connection request travels one latency; the answer travels back one more.
          scheduler.schedule(
            latency,
            () => {
              const target = nodes.get(address)
              const cut = cutBetween(name, address)
              if (settled) return
              if (closed) finish(() => reject(new NotStarted('cannot dial: connector closed')))
              else if (cut !== undefined) unreachable('partitioned', cut.mode === 'drop' ? connectTimeout - latency : latency)
              else if (target?.listener === undefined) unreachable('nothing listens there', latency)
              else {
                const link = connect(target, handlers)
                scheduler.schedule(
                  latency,
                  () => {
                    if (settled) link.close(CloseCode.goingAway, 'dial aborted')
                    else finish(() => resolve(link))
                  },
                  life,
                )
              }
            },
            life,
          )
        })
      },

      async close(): Promise<void> {
        closed = true
        if (listening && node.listener?.links === mine) node.listener = undefined
        for (const link of [...mine]) link.close(CloseCode.goingAway, 'connector closed')
      },
    }
  }

  return {
    clock: makeClock(GLOBAL),
    clockFor: (name) => makeClock(nodeOf(name).life),
    connector: (name, connectorInit = {}) => {
      const limits = linkLimits(connectorInit)
      return () => makeConnector(name, limits)
    },
    setLinkFaults(a, b, faults) {
      if (faults === undefined) linkFaults.delete(pairKey(a, b))
      else linkFaults.set(pairKey(a, b), validateFaults(faults))
    },
    setNodeFaults(name, faults) {
      if (faults === undefined) nodeFaults.delete(name)
      else nodeFaults.set(name, validateFaults(faults))
    },
    setDefaultFaults(faults) {
      defaultFaults = faults === undefined ? undefined : validateFaults(faults)
    },
    partition(sideA, sideB, options = {}) {
      const cut: Cut = { a: new Set(sideA), b: new Set(sideB), mode: options.mode ?? 'drop' }
      cuts = [...cuts, cut]
      record({ at: scheduler.now, kind: 'partition', reason: `${[...cut.a].join(',')} | ${[...cut.b].join(',')} (${cut.mode})` })
      if (cut.mode !== 'disconnect') return
      for (const name of cut.a) {
        for (const link of nodes.get(name)?.links ?? []) {
          if (cut.b.has(link.peer.node)) breakBoth(link, 'partitioned')
        }
      }
    },
    heal() {
      cuts = []
      record({ at: scheduler.now, kind: 'heal' })
    },
    crash(name) {
      const node = nodeOf(name)
      if (!node.life.alive) return
      node.life.alive = false
      node.listener = undefined
      record({ at: scheduler.now, kind: 'crash', from: name })
      for (const link of [...node.links]) {
        link.crash()
        const peer = link.peer
        scheduler.schedule(latency, () => peer.break(CloseCode.abnormal, 'peer crashed'))
      }
      node.links.clear()
    },
    restart(name) {
      const node = nodeOf(name)
      if (node.life.alive) return
      node.life = { alive: true }
      record({ at: scheduler.now, kind: 'restart', from: name })
    },
    step: () => runner.step(),
    runFor: (ms) => runner.runFor(ms),
    runUntilIdle: (maxSteps) => runner.runUntilIdle(maxSteps),
    autoRun: () => runner.autoRun(),
    stop: () => runner.stop(),
    get pending() {
      return scheduler.pending
    },
    trace,
    onTrace(listener) {
      listeners.add(listener)
      return () => listeners.delete(listener)
    },
  }
}
