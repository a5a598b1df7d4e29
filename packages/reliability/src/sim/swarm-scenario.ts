import { createMemoryNetwork, createMemoryTransport, type Clock, type LinkFaults, type MemoryNetwork } from '@murmur/transport'
import { deriveSeed, prng, Swarm, type Prng } from '@murmur/swarm'
import type { Payload } from '@murmur/actor-core'
import { Tally, TallyAgent } from '../workload/agents.js'
import { Recorder, type HistoryEvent } from './history.js'
import { planFaults, type FaultAction, type FaultKind, type FaultPlan } from './plan.js'

export interface SwarmScenarioOptions {
  readonly seed: number
  /** Nodes at the start (one more joins). Default 4. */
  readonly nodes?: number
  /** Agents spawned once the cluster formed. Default 20. */
  readonly agents?: number
  /** Virtual ms of faults and workload. Default 4000. */
  readonly duration?: number
  /** Least virtual ms of quiet after the heal (swarm's park timeout is 10 s). Default 10000. */
  readonly minQuiet?: number
  /** Most virtual ms to wait after the heal for membership, directories and deliveries to settle. Default 30000. */
  readonly maxQuiet?: number
  /** The highest message loss of a link (the plan draws up to 30%; scaled to this). Default 0.1. */
  readonly maxLoss?: number
  /** Mean virtual ms between two tells of one node. Default 25. */
  readonly every?: number
  /** Fault kinds to leave out of the plan (to narrow a failure down). */
  readonly without?: readonly FaultKind[]
  /** Called with the network before any node starts (for diagnosis, e.g. `net.onTrace`). */
  readonly onNetwork?: (net: MemoryNetwork) => void
  /** Called at the end, before shutdown, with the live nodes (for diagnosis). */
  readonly inspect?: (nodes: ReadonlyMap<string, Swarm>, net: MemoryNetwork) => void
}

export interface SwarmScenarioResult {
  readonly events: HistoryEvent[]
  readonly plan: FaultPlan
  readonly stats: Record<string, number>
}

const SECRET = 'sim-swarm'

/** One life of a node name: from a `Swarm.start` to its crash or leave. */
interface Life {
  readonly name: string
  /** `name@n`, n counting this name's lives: the checker's node. */
  readonly inc: string
  readonly clock: Clock
  readonly rng: Prng
  node: Swarm | undefined
  /** Handles and sends count only while true (a crashed node's mailboxes may still drain in this process). */
  alive: boolean
  /** Ended by a crash (restarted at the end of the faults), not by a leave. */
  crashed: boolean
  working: boolean
  /** Its directory knew every agent once: from then on it tells. */
  joined: boolean
  seq: number
}

/**
 * One seed of the whole-cluster simulation: Swarm nodes (each with its memory transport and the
 * network's virtual clock) on one seeded memory network, stepped by hand with `runFor`. After the
 * cluster formed, one node spawns the agents; then every node tells `add` (reliable, fifo) to
 * random agents while the seed's fault plan runs (loss, duplication, reordering, delays,
 * partitions, crashes and restarts, a join, sometimes a graceful leave). Then everything heals,
 * the crashed restart, and the run waits at least `minQuiet` virtual ms, then until the live nodes
 * agree on the members and the directory (measured as `convergeMs`) and every accepted tell from
 * a live sender was handled (`drainMs`), or `maxQuiet` passes; then each live node records its
 * `final` view.
 *
 * The history maps like the chaos test's: a tell is `send` to `agent:<id>` with key `<id>` and the
 * sender's per-stream number; a handling is `deliver` at the hosting node's life.
 *
 * @example
 * const { events } = await runSwarmScenario({ seed: 7 })
 * check(events) // [] when the guarantees held
 */
export async function runSwarmScenario(options: SwarmScenarioOptions): Promise<SwarmScenarioResult> {
  // swarm's anti-entropy picks its peer with Math.random (swarm-engine.ts #antiEntropy), outside
  // the injected clock: seed it for the run so the same seed replays the same history. (So two
  // runs must not overlap in one process: run seeds one after the other.)
  const realRandom = Math.random
  const seeded = prng(deriveSeed(options.seed, 'math-random'))
  Math.random = () => seeded.next()
  try {
    return await run(options)
  } finally {
    Math.random = realRandom
  }
}

function scaleLoss(f: LinkFaults, factor: number): LinkFaults {
  return f.drop === undefined ? f : { ...f, drop: f.drop * factor }
}

async function run(options: SwarmScenarioOptions): Promise<SwarmScenarioResult> {
  const duration = options.duration ?? 4000
  const maxQuiet = options.maxQuiet ?? 30_000
  const minQuiet = Math.min(maxQuiet, options.minQuiet ?? 10_000)
  const every = options.every ?? 25
  const factor = (options.maxLoss ?? 0.1) / 0.3
  const raw = planFaults(options.seed, options.nodes ?? 4, duration, options.without)
  const plan: FaultPlan = {
    ...raw,
    defaultFaults: scaleLoss(raw.defaultFaults, factor),
    actions: raw.actions.map((a) => (a.do === 'link-faults' ? { ...a, faults: scaleLoss(a.faults, factor) } : a)),
  }
  const agentIds = Array.from({ length: options.agents ?? 20 }, (_, i) => `ag${i}`)
  const net = createMemoryNetwork({ seed: options.seed, traceLimit: 0 })
  options.onNetwork?.(net)
  const rec = new Recorder()
  const lives = new Map<string, Life>()
  const livesOf = new Map<string, number>()
  const sent = new Map<string, string>()
  const handled = new Set<string>()
  const stats = { sent: 0, refused: 0, delivered: 0, deadLetters: 0, crashes: 0, partitions: 0, restarts: 0, leaves: 0, formMs: 0, convergeMs: -1, drainMs: -1, quietMs: 0, malformed: 0, parked: 0, conflicts: 0, unhostedAtEnd: 0, unconnectedPairs: 0, duplicatesDropped: 0, retransmitted: 0 }
  const now = (): number => net.clock.now()
  let faultsOn = false

  /** Runs virtual time in slices until `done()` or `max` ms passed; returns the ms it took. */
  const runUntil = async (done: () => boolean, max: number, slice = 100): Promise<number> => {
    const from = now()
    while (!done() && now() - from < max) await net.runFor(slice)
    return now() - from
  }

  const start = (name: string): Life => {
    const n = (livesOf.get(name) ?? 0) + 1
    livesOf.set(name, n)
    const life: Life = { name, inc: `${name}@${n}`, clock: net.clockFor(name), rng: prng(deriveSeed(options.seed, `${name}@${n}`)), node: undefined, alive: true, crashed: false, working: false, joined: false, seq: 0 }
    lives.set(name, life)
    // Each life has its own class, so a handling names the node that handled it.
    class SimTally extends TallyAgent {
      override add(p: Payload<typeof Tally, 'add'>) {
        super.add(p)
        if (!life.alive) return
        stats.delivered++
        const id = `${p.stream}#${p.seq}`
        handled.add(id)
        rec.push({ t: 'deliver', at: now(), id, node: life.inc, from: p.stream.slice(0, p.stream.indexOf('>')), kind: 'reliable-fifo', key: this.id, seq: p.seq })
      }
    }
    const transport = createMemoryTransport(net, {
      nodeId: name,
      cluster: 'sim',
      secret: SECRET,
      channels: { default: { parallelism: 2 } },
      heartbeatInterval: 500,
      handshakeTimeout: 1000,
      reconnect: { initialDelay: 20, maxDelay: 500, giveUpAfter: 2500 },
    })
    const seeds = plan.all.filter((x) => x !== name)
    Swarm.start({ nodeId: name, port: 0, secret: SECRET, seeds, agents: [SimTally], transport, clock: life.clock }).then(
      (node) => {
        life.node = node
        if (!life.alive) return void node.system.stop({ drainTimeout: 0 }).catch(() => {})
        node.on('dead-letter', ({ envelope, reason }) => {
          if (!life.alive) return
          stats.deadLetters++
          const p = envelope.payload as { stream?: string; seq?: number } | undefined
          rec.push({ t: 'fault', at: now(), what: `${life.inc}: dead letter ${p?.stream}#${p?.seq} (${reason})` })
        })
        // Membership and agent moves, for traces.
        for (const event of ['member-down', 'member-up', 'member-left'] as const) {
          node.on(event, (m) => {
            if (!life.alive) return
            rec.push({ t: 'fault', at: now(), what: `${life.inc}: ${event} ${m.id}` })
            // What the checker reads to tell a split brain (each side holding the other down).
            if (event !== 'member-left') rec.push({ t: 'view', at: now(), node: life.inc, peer: m.id, alive: event === 'member-up' })
          })
        }
        node.on('agent-activated', ({ address, reason }) => {
          if (!life.alive) return
          rec.push({ t: 'fault', at: now(), what: `${life.inc}: activated ${address.id} (${reason})` })
          rec.push({ t: 'activated', at: now(), node: life.inc, id: address.id, reason })
        })
        node.on('agent-moved', ({ address, to }) => {
          if (!life.alive) return
          rec.push({ t: 'fault', at: now(), what: `${life.inc}: moved ${address.id} to ${to}` })
          rec.push({ t: 'moved', at: now(), node: life.inc, id: address.id, to })
        })
        rec.push({ t: 'up', at: now(), node: life.inc })
        if (faultsOn) work(life)
      },
      (error: unknown) => rec.push({ t: 'fault', at: now(), what: `${life.inc} failed to start: ${String(error)}` }),
    )
    return life
  }

  /**
   * A node tells once it has joined: its directory knows every agent. Before that a tell to an
   * agent it has not heard of is dead-lettered at once (`no agent with this id`), which is the
   * documented answer for an agent that exists nowhere, not a lost message.
   */
  const work = (life: Life): void => {
    life.working = true
    const tick = (): void => {
      if (!life.alive || !life.working || !faultsOn || life.node === undefined) return
      if (!life.joined) {
        life.joined = life.node.agents({ type: 'tally' }).length >= agentIds.length
        if (!life.joined) return void life.clock.setTimeout(tick, 50)
        rec.push({ t: 'fault', at: now(), what: `${life.inc} joined: its directory knows every agent` })
      }
      const agent = agentIds[life.rng.int(agentIds.length)] as string
      const stream = `${life.inc}>${agent}`
      const seq = ++life.seq
      try {
        life.node.ref(Tally, agent).tell('add', { stream, seq })
        stats.sent++
        const id = `${stream}#${seq}`
        sent.set(id, life.inc)
        rec.push({ t: 'send', at: now(), id, from: life.inc, to: `agent:${agent}`, kind: 'reliable-fifo', key: agent, seq })
      } catch {
        // refused at the sender (no route, overloaded): not accepted, not recorded
        stats.refused++
      }
      life.clock.setTimeout(tick, 1 + life.rng.int(2 * every))
    }
    tick()
  }

  const end = (name: string, how: 'crash' | 'leave'): void => {
    const life = lives.get(name)
    if (!life?.alive) return
    life.working = false
    rec.push({ t: 'down', at: now(), node: life.inc, how })
    if (how === 'crash') {
      life.alive = false
      life.crashed = true
      net.crash(name)
      void life.node?.system.stop({ drainTimeout: 0 }).catch(() => {})
    } else {
      // A graceful leave hands its agents off: what it handles until it stopped still counts.
      const stopped = life.node?.stop() ?? Promise.resolve()
      stopped.then(
        () => {
          life.alive = false
        },
        () => {
          life.alive = false
        },
      )
    }
  }

  const restart = (name: string): void => {
    if (lives.get(name)?.alive) return
    net.restart(name)
    stats.restarts++
    rec.push({ t: 'fault', at: now(), what: `restart ${name}` })
    start(name)
  }

  const act = (a: FaultAction): void => {
    if (!faultsOn) return
    switch (a.do) {
      case 'join':
        rec.push({ t: 'fault', at: now(), what: `join ${a.node}` })
        start(a.node)
        break
      case 'leave':
        if (!lives.get(a.node)?.alive) break
        stats.leaves++
        rec.push({ t: 'fault', at: now(), what: `leave ${a.node}` })
        end(a.node, 'leave')
        break
      case 'crash':
        if (!lives.get(a.node)?.alive) break
        stats.crashes++
        rec.push({ t: 'fault', at: now(), what: `crash ${a.node}, restart at +${a.restartAt - a.at}` })
        end(a.node, 'crash')
        net.clock.setTimeout(() => faultsOn && restart(a.node), a.restartAt - a.at)
        break
      case 'partition':
        stats.partitions++
        rec.push({ t: 'fault', at: now(), what: `partition ${a.sides[0].join(',')} | ${a.sides[1].join(',')} (${a.mode}) for ${a.until - a.at}` })
        net.partition(a.sides[0], a.sides[1], { mode: a.mode })
        net.clock.setTimeout(() => {
          net.heal()
          rec.push({ t: 'fault', at: now(), what: 'heal' })
        }, a.until - a.at)
        break
      case 'link-faults':
        rec.push({ t: 'fault', at: now(), what: `faults ${a.a}-${a.b} ${JSON.stringify(a.faults)}` })
        net.setLinkFaults(a.a, a.b, a.faults)
        break
    }
  }

  const live = (): Life[] => [...lives.values()].filter((l) => l.alive && l.node !== undefined)
  const aliveMembers = (node: Swarm): string =>
    node
      .members()
      .filter((m) => m.status === 'alive')
      .map((m) => m.id)
      .sort()
      .join(',')
  const directoryOf = (node: Swarm): string =>
    JSON.stringify(
      node
        .agents({ type: 'tally' })
        .map((a) => `${a.id}=${a.node}`)
        .sort(),
    )
  const formed = (): boolean => {
    const ls = live()
    const want = ls.map((l) => l.name).sort().join(',')
    const starting = [...lives.values()].some((l) => l.alive && l.node === undefined)
    return !starting && ls.every((l) => aliveMembers(l.node as Swarm) === want)
  }
  /**
   * Membership, directories and placement agree: one directory, no agent hosted twice. (An agent
   * hosted nowhere is not waited for: swarm restarts a lost agent when a message reaches it; the
   * count is reported as `unhostedAtEnd`.)
   */
  const converged = (): boolean => {
    if (!formed()) return false
    const ls = live()
    const dirs = new Set(ls.map((l) => directoryOf(l.node as Swarm)))
    if (dirs.size !== 1) return false
    const hosted = ls.flatMap((l) => agentIds.filter((id) => (l.node as Swarm).system.hosts({ type: 'tally', id })))
    return new Set(hosted).size === hosted.length
  }
  /** Every tell accepted from a sender still alive was handled somewhere. */
  const drained = (): boolean => {
    const liveIncs = new Set(live().map((l) => l.inc))
    for (const [id, from] of sent) if (liveIncs.has(from) && !handled.has(id)) return false
    return true
  }

  try {
    rec.push({ t: 'fault', at: 0, what: `default faults ${JSON.stringify(plan.defaultFaults)}` })
    for (const name of plan.initial) start(name)
    stats.formMs = await runUntil(formed, 20_000)
    rec.push({ t: 'fault', at: now(), what: `cluster formed (${stats.formMs} ms)` })
    const spawner = lives.get(plan.initial[0] as string) as Life
    let spawned = false
    void (async () => {
      for (const id of agentIds) await spawner.node?.spawn(TallyAgent, { id }).catch(() => {})
      spawned = true
    })()
    await runUntil(() => spawned, 20_000)
    // Faults and workload, from here on the plan's clock.
    net.setDefaultFaults(plan.defaultFaults)
    faultsOn = true
    const t0 = now()
    for (const l of live()) work(l)
    for (const a of plan.actions) net.clock.setTimeout(() => act(a), a.at)
    await net.runFor(duration)
    faultsOn = false
    net.heal()
    net.setDefaultFaults(undefined)
    for (const a of plan.actions) if (a.do === 'link-faults') net.setLinkFaults(a.a, a.b, undefined)
    rec.push({ t: 'fault', at: now(), what: `end of faults (${now() - t0} ms): heal all, faults off, restart the crashed` })
    for (const l of [...lives.values()]) if (l.crashed) restart(l.name)
    // The quiet period: at least `minQuiet` (parked messages, fifo gaps and duplicate activations
    // have their timeouts), then until membership and directories agree and the backlog drained,
    // at most `maxQuiet`. `convergeMs`/`drainMs`: since when each held without a break (-1: not at
    // the end).
    const quietFrom = now()
    let convergedSince: number | undefined
    let drainedSince: number | undefined
    const quiet = await runUntil(
      () => {
        const at = now() - quietFrom
        convergedSince = converged() ? (convergedSince ?? at) : undefined
        drainedSince = drained() ? (drainedSince ?? at) : undefined
        return at >= minQuiet && convergedSince !== undefined && drainedSince !== undefined
      },
      maxQuiet,
      250,
    )
    stats.convergeMs = convergedSince ?? -1
    stats.drainMs = drainedSince ?? -1
    stats.quietMs = quiet
    rec.push({ t: 'healed', at: now() })
    const hostedAtEnd = new Set<string>()
    for (const l of live()) {
      const node = l.node as Swarm
      rec.push({ t: 'final', at: now(), node: l.inc, hosting: agentIds.filter((id) => node.system.hosts({ type: 'tally', id })).map((id) => `tally/${id}`), directory: directoryOf(node) })
      const m = node.transport.metrics()
      stats.duplicatesDropped += m.duplicatesDropped ?? 0
      stats.retransmitted += m.retransmitted ?? 0
      for (const id of agentIds) if (node.system.hosts({ type: 'tally', id })) hostedAtEnd.add(id)
      const sm = node.metrics()
      stats.malformed += sm.malformed ?? 0
      stats.parked += sm.parked ?? 0
      stats.conflicts += sm.conflicts ?? 0
    }
    stats.unhostedAtEnd = agentIds.length - hostedAtEnd.size
    // Live members that hold each other alive yet have no session: traffic between them parks.
    for (const l of live()) {
      const node = l.node as Swarm
      const peers = new Set(node.transport.peers().map((p) => p.nodeId))
      for (const m of node.members()) if (m.id > l.name && m.status === 'alive' && !peers.has(m.id)) stats.unconnectedPairs++
    }
    options.inspect?.(new Map(live().map((l) => [l.name, l.node as Swarm])), net)
  } finally {
    // What the shutdown does is not part of the run: recording stops here, and the nodes die.
    rec.close()
    for (const l of lives.values()) {
      l.alive = false
      net.crash(l.name)
      void l.node?.system.stop({ drainTimeout: 0 }).catch(() => {})
    }
    await net.runFor(100).catch(() => 0)
    net.stop()
  }
  return { events: rec.events, plan, stats }
}
