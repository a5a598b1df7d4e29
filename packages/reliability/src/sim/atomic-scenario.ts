import { atomicLog, deriveSeed, memberId, prng, Runner, Simulator, type AtomicLogEvent, type AtomicLogMsg } from '@murmur/swarm'
import { Recorder, type HistoryEvent } from './history.js'

export interface AtomicScenarioOptions {
  readonly seed: number
  readonly members?: number
  /** Virtual ms of faults and proposals. Default 4000. */
  readonly duration?: number
  /** Virtual ms after the heal for the log to catch every member up. Default 5000. */
  readonly quiet?: number
  /**
   * Break the mechanism on purpose: `skip-delivery` drops one member's delivery of every 7th log
   * entry; `swap-order` has one member deliver two entries in swapped order; `restart-same-id`
   * restarts a crashed member with an empty log under its old id (its votes and acknowledgements
   * from before the crash still count).
   */
  readonly breakMechanism?: 'skip-delivery' | 'swap-order' | 'restart-same-id'
}

/**
 * One seed of atomic broadcast: the swarm's atomic log (leader-sequenced, majority-acknowledged)
 * on the swarm's protocol simulator, with loss up to 30%, partitions and heals, crashes of a
 * minority, restarts of crashed members with empty logs (under a new id, `a2#1`, as the swarm
 * gives them) and nodes that join later, while every member proposes. Records each delivery with
 * its log position.
 */
export function runAtomicScenario(options: AtomicScenarioOptions): { events: HistoryEvent[]; delivered: number } {
  const rng = prng(deriveSeed(options.seed, 'atomic'))
  const duration = options.duration ?? 4000
  const members = Array.from({ length: options.members ?? 5 }, (_, i) => `a${i}`)
  const sim = new Simulator<AtomicLogMsg, AtomicLogEvent>({ seed: options.seed, loss: rng.next() * 0.3, latency: { min: 1, max: 5 + rng.int(20) } })
  const rec = new Recorder()
  let delivered = 0
  const swapped = new Map<string, { index: number; id: string }>()
  sim.onEmit = (node, ev) => {
    if (ev.type !== 'deliver') return
    delivered++
    if (options.breakMechanism === 'skip-delivery' && node === members[0] && ev.index % 7 === 0) return
    if (options.breakMechanism === 'swap-order' && node === members[0] && ev.index === 3) {
      swapped.set(node, { index: 3, id: ev.id })
      return
    }
    if (options.breakMechanism === 'swap-order' && node === members[0] && ev.index === 4) {
      const held = swapped.get(node)
      rec.push({ t: 'adeliver', at: sim.now, node, index: 3, id: ev.id })
      if (held) rec.push({ t: 'adeliver', at: sim.now, node, index: 4, id: held.id })
      return
    }
    rec.push({ t: 'adeliver', at: sim.now, node, index: ev.index, id: ev.id })
  }
  // A node opens the log with the live nodes as its bootstrap list: the first ones agree on it,
  // a later one is added by the leader.
  const start = (m: string, bootstrap: readonly string[]): void => {
    sim.add(m, (ctx) => {
      const runner = new Runner(atomicLog(), ctx, { members: bootstrap })
      return { proc: { input: (input) => runner.input(input as Parameters<typeof runner.input>[0]), links: () => sim.aliveIds().filter((x) => x !== m) }, effects: runner.initialEffects }
    })
    rec.push({ t: 'up', at: sim.now, node: m })
  }
  for (const m of members) start(m, members)
  const healAll = (): void => {
    sim.heal()
    const live = sim.aliveIds()
    for (const a of live) for (const b of live) if (a !== b) sim.input(a, { type: 'peer-up', peer: b })
  }
  // A minority crashes (some come back empty under a new id, some for good), up to two nodes
  // join; partitions come and go. A crash of a restarted or joined node would count against
  // the same minority: they are left alone, so a majority of any config stays alive.
  const minority = Math.floor((members.length - 1) / 2)
  const crashed = new Set<string>()
  let joined = 0
  for (let at = 200 + rng.int(300); at < duration; at += 200 + rng.int(600)) {
    const r = rng.next()
    if (r < 0.25 && crashed.size < minority) {
      // members[0] never crashes: the broken-runner modes act on it, and must stay visible.
      const victim = rng.pick(members.slice(1).filter((m) => !crashed.has(m))) as string
      crashed.add(victim)
      const restart = rng.next() < 0.6 ? at + 100 + rng.int(1500) : undefined
      sim.at(at, () => {
        sim.crash(victim)
        rec.push({ t: 'down', at: sim.now, node: victim })
        rec.push({ t: 'fault', at: sim.now, what: `crash ${victim}` })
      })
      if (restart !== undefined) {
        sim.at(restart, () => {
          const id = options.breakMechanism === 'restart-same-id' ? victim : memberId(victim, 1)
          start(id, sim.aliveIds())
          rec.push({ t: 'fault', at: sim.now, what: `restart ${victim} empty as ${id}` })
        })
      }
    } else if (r < 0.35 && joined < 2) {
      const id = `a${members.length + joined++}`
      sim.at(at, () => {
        start(id, sim.aliveIds())
        rec.push({ t: 'fault', at: sim.now, what: `join ${id}` })
      })
    } else if (r < 0.6) {
      const fraction = rng.next()
      const heal = at + 100 + rng.int(1000)
      sim.at(at, () => {
        const shuffled = rng.shuffle(sim.aliveIds())
        const cut = 1 + Math.floor(fraction * (shuffled.length - 1))
        sim.partition([shuffled.slice(0, cut), shuffled.slice(cut)])
        rec.push({ t: 'fault', at: sim.now, what: `partition ${shuffled.slice(0, cut).join(',')} | ${shuffled.slice(cut).join(',')}` })
      })
      sim.at(Math.min(heal, duration), () => {
        healAll()
        rec.push({ t: 'fault', at: sim.now, what: 'heal' })
      })
    }
  }
  let n = 0
  for (let at = 50; at < duration; at += 5 + rng.int(40)) {
    const ref = `p${n++}`
    sim.at(at, () => sim.input(rng.pick(sim.aliveIds()) as string, { type: 'app', req: { type: 'propose', ref, payload: ref } }))
  }
  sim.at(duration, () => {
    healAll()
    rec.push({ t: 'fault', at: sim.now, what: 'end of faults: heal' })
  })
  sim.runUntil(duration)
  // Loss stays (it is the network), but a healed majority catches every member up.
  sim.runFor(options.quiet ?? 5000)
  rec.push({ t: 'healed', at: sim.now })
  return { events: rec.events, delivered }
}
