import { createMemoryNetwork, createMemoryTransport, type Clock, type MemoryNetwork, type SendOptions, type Transport } from '@murmur/transport'
import { deriveSeed, prng, type Prng } from '@murmur/swarm'
import { Recorder, type HistoryEvent, type Kind, type VClock } from './history.js'
import { planFaults, type FaultAction, type FaultKind, type FaultPlan } from './plan.js'

export interface TransportScenarioOptions {
  readonly seed: number
  /** Nodes at the start (one more joins). Default 4. */
  readonly nodes?: number
  /** Virtual ms of faults and workload. Default 4000. */
  readonly duration?: number
  /** Virtual ms after the heal for retransmissions and give-ups to finish. Default 4000 (the give-up time, 2500, and then some). */
  readonly quiet?: number
  /**
   * Break the transport on purpose, to show the checker catches it: `retransmission` turns the
   * retransmission timeout off (only a new link resends), so frames lost on a live link are never resent.
   */
  readonly breakMechanism?: 'retransmission'
  /** Called at the end of the run, before shutdown, with the live transports (for diagnosis). */
  readonly inspect?: (transports: ReadonlyMap<string, Transport>, net: MemoryNetwork) => void
  /** Guarantees the workload uses; all by default. */
  readonly kinds?: readonly Kind[]
  /** Fault kinds to leave out of the plan (to narrow a failure down). */
  readonly without?: readonly FaultKind[]
}

/** The wire form of a workload message: `[id, kind, key, seq, vc?]`. */
type Wire = [string, Kind, string, number, VClock?]

const KINDS: readonly Kind[] = ['reliable-fifo', 'reliable-fifo', 'reliable-causal', 'monotonic', 'best-effort']
const OPTIONS: Record<Kind, SendOptions> = {
  'reliable-fifo': { guarantee: ['reliable', 'fifo'] },
  'reliable-causal': { guarantee: ['reliable', 'causal'], group: 'g' },
  monotonic: { guarantee: ['monotonic'], channel: 'mono' },
  'best-effort': { guarantee: ['best-effort'] },
}

interface Life {
  readonly name: string
  readonly transport: Transport
  readonly clock: Clock
  readonly rng: Prng
  inc: string
  alive: boolean
  /** Per (to, key) sequence numbers, for fifo and monotonic. */
  readonly seqs: Map<string, number>
  /** This process's causal knowledge. */
  readonly vc: Record<string, number>
  sent: number
}

/**
 * One seed of the transport simulation: a cluster of transports on a seeded memory network,
 * stepped by hand (no real time), a workload on every guarantee the transport offers, and the
 * seed's fault plan. Returns the recorded history; the same seed gives the same history.
 */
export async function runTransportScenario(options: TransportScenarioOptions): Promise<{ events: HistoryEvent[]; plan: FaultPlan; stats: Record<string, number> }> {
  const duration = options.duration ?? 4000
  const quiet = options.quiet ?? 4000
  const plan = planFaults(options.seed, options.nodes ?? 4, duration, options.without)
  const net = createMemoryNetwork({ seed: options.seed, traceLimit: 0, faults: plan.defaultFaults })
  const rec = new Recorder()
  const lives = new Map<string, Life>()
  const stats = { sent: 0, refused: 0, delivered: 0, returned: 0, crashes: 0, partitions: 0, causalHeldBack: 0, duplicatesDropped: 0, retransmitted: 0 }
  const now = (): number => net.clock.now()
  let workloadOn = true
  const kinds = options.kinds === undefined ? KINDS : KINDS.filter((k) => options.kinds?.includes(k))

  const start = (name: string): void => {
    const transport = createMemoryTransport(net, {
      nodeId: name,
      cluster: 'sim',
      secret: 'sim',
      channels: { default: { parallelism: 2 }, mono: { monotonic: true } },
      heartbeatInterval: 500,
      handshakeTimeout: 1000,
      reconnect: { initialDelay: 20, maxDelay: 500, giveUpAfter: 2500 },
      ...(options.breakMechanism === 'retransmission' ? { retransmitTimeout: 1e12 } : {}),
    })
    const life: Life = { name, transport, clock: net.clockFor(name), rng: prng(deriveSeed(options.seed, `${name}@${now()}`)), inc: `${name}@${transport.incarnation}`, alive: true, seqs: new Map(), vc: {}, sent: 0 }
    lives.set(name, life)
    transport.onMessage((m) => {
      const [id, kind, key, seq, vc] = m.payload as Wire
      if (vc) for (const [k, v] of Object.entries(vc)) life.vc[k] = Math.max(life.vc[k] ?? 0, v)
      const from = `${m.from.nodeId}@${m.from.incarnation}`
      stats.delivered++
      rec.push(vc ? { t: 'deliver', at: now(), id, node: life.inc, from, kind, key, seq, vc } : { t: 'deliver', at: now(), id, node: life.inc, from, kind, key, seq })
    })
    transport.on('peer-down', ({ peer, reason, unacknowledged }) => {
      rec.push({ t: 'fault', at: now(), what: `${life.inc}: peer-down ${peer.nodeId}@${peer.incarnation} (${reason}), ${unacknowledged.length} handed back` })
      for (const u of unacknowledged) {
        stats.returned++
        rec.push({ t: 'returned', at: now(), id: (u.payload as Wire)[0], node: life.inc })
      }
    })
    transport.start().then(
      () => {
        if (!life.alive) return
        rec.push({ t: 'up', at: now(), node: life.inc })
        workload(life)
        maintain(life)
      },
      () => {},
    )
  }

  const end = (name: string, how: 'crash' | 'leave'): void => {
    const life = lives.get(name)
    if (!life?.alive) return
    life.alive = false
    rec.push({ t: 'down', at: now(), node: life.inc })
    if (how === 'crash') net.crash(name)
    else void life.transport.stop().catch(() => {})
  }

  /** Dial every live node this one is not connected to (the smaller name dials). */
  const maintain = (life: Life): void => {
    if (!life.alive) return
    const peers = new Set(life.transport.peers().map((p) => p.nodeId))
    for (const other of lives.values()) {
      if (other.alive && other.name > life.name && !peers.has(other.name)) life.transport.connect(other.name).catch(() => {})
    }
    life.clock.setTimeout(() => maintain(life), 400)
  }

  const workload = (life: Life): void => {
    if (!life.alive || !workloadOn) return
    const peers = life.transport.peers()
    const peer = peers[life.rng.int(peers.length)]
    if (peer !== undefined) {
      const kind = kinds[life.rng.int(kinds.length)] as Kind
      const key = kind === 'monotonic' ? 'm' : `k${life.rng.int(3)}`
      const stream = `${peer.nodeId}\u0000${kind}\u0000${key}`
      const seq = (life.seqs.get(stream) ?? 0) + 1
      const id = `${life.inc}#${++life.sent}`
      let vc: VClock | undefined
      if (kind === 'reliable-causal') {
        life.vc[life.inc] = (life.vc[life.inc] ?? 0) + 1
        vc = { ...life.vc }
      }
      const wire: Wire = vc ? [id, kind, key, seq, vc] : [id, kind, key, seq]
      try {
        life.transport.send(peer.nodeId, wire, kind === 'best-effort' || kind === 'monotonic' ? { ...OPTIONS[kind], key } : { ...OPTIONS[kind], key })
        life.seqs.set(stream, seq)
        stats.sent++
        const to = `${peer.nodeId}@${peer.incarnation}`
        rec.push(vc ? { t: 'send', at: now(), id, from: life.inc, to, kind, key, seq, vc } : { t: 'send', at: now(), id, from: life.inc, to, kind, key, seq })
      } catch {
        stats.refused++
      }
    }
    life.clock.setTimeout(() => workload(life), 4 + life.rng.int(40))
  }

  const act = (a: FaultAction): void => {
    switch (a.do) {
      case 'join':
        rec.push({ t: 'fault', at: now(), what: `join ${a.node}` })
        start(a.node)
        break
      case 'leave':
        rec.push({ t: 'fault', at: now(), what: `leave ${a.node}` })
        end(a.node, 'leave')
        break
      case 'crash': {
        if (!lives.get(a.node)?.alive) break
        stats.crashes++
        rec.push({ t: 'fault', at: now(), what: `crash ${a.node}, restart at ${a.restartAt}` })
        end(a.node, 'crash')
        net.clock.setTimeout(() => restart(a.node), a.restartAt - now())
        break
      }
      case 'partition':
        stats.partitions++
        rec.push({ t: 'fault', at: now(), what: `partition ${a.sides[0].join(',')} | ${a.sides[1].join(',')} (${a.mode}) until ${a.until}` })
        net.partition(a.sides[0], a.sides[1], { mode: a.mode })
        net.clock.setTimeout(() => {
          net.heal()
          rec.push({ t: 'fault', at: now(), what: 'heal' })
        }, a.until - now())
        break
      case 'link-faults':
        rec.push({ t: 'fault', at: now(), what: `faults ${a.a}-${a.b} ${JSON.stringify(a.faults)}` })
        net.setLinkFaults(a.a, a.b, a.faults)
        break
    }
  }

  const restart = (name: string): void => {
    if (lives.get(name)?.alive || !workloadOn) return
    net.restart(name)
    rec.push({ t: 'fault', at: now(), what: `restart ${name}` })
    start(name)
  }

  rec.push({ t: 'fault', at: 0, what: `default faults ${JSON.stringify(plan.defaultFaults)}` })
  for (const name of plan.initial) start(name)
  for (const a of plan.actions) net.clock.setTimeout(() => act(a), a.at)
  net.clock.setTimeout(() => {
    workloadOn = false
    net.heal()
    net.setDefaultFaults(undefined)
    for (const a of plan.actions) if (a.do === 'link-faults') net.setLinkFaults(a.a, a.b, undefined)
    rec.push({ t: 'fault', at: now(), what: 'end of faults: heal all, faults off, restart the crashed' })
    for (const a of plan.actions) if (a.do === 'crash' && !lives.get(a.node)?.alive) {
      workloadOn = true
      restart(a.node)
      workloadOn = false
    }
  }, duration)
  try {
    await net.runFor(duration + quiet)
    rec.push({ t: 'healed', at: now() })
    options.inspect?.(new Map([...lives.values()].filter((l) => l.alive).map((l) => [l.name, l.transport])), net)
    for (const life of lives.values()) {
      if (!life.alive) continue
      const m = life.transport.metrics()
      stats.causalHeldBack += m.causalHeldBack ?? 0
      stats.duplicatesDropped += m.duplicatesDropped ?? 0
      stats.retransmitted += m.retransmitted ?? 0
    }
  } finally {
    // What the shutdown hands back is not part of the run: recording stops here.
    rec.close()
    for (const life of lives.values()) if (life.alive) void life.transport.stop().catch(() => {})
    await net.runFor(100).catch(() => 0)
  }
  return { events: rec.events, plan, stats }
}
