import { atomicLog, deriveSeed, prng, Runner, Simulator, type AtomicLogEvent, type AtomicLogMsg } from '@murmur/swarm'
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
   * entry; `swap-order` has one member deliver two entries in swapped order.
   */
  readonly breakMechanism?: 'skip-delivery' | 'swap-order'
}

/**
 * One seed of atomic broadcast: the swarm's atomic log (leader-sequenced, majority-acknowledged)
 * on the swarm's protocol simulator, with loss up to 30%, partitions and heals, and crashes of a
 * minority, while every member proposes. Records each delivery with its log position.
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
  for (const m of members) {
    sim.add(m, (ctx) => {
      const runner = new Runner(atomicLog(), ctx, { members })
      return { proc: { input: (input) => runner.input(input as Parameters<typeof runner.input>[0]), links: () => members.filter((x) => x !== m) }, effects: runner.initialEffects }
    })
    rec.push({ t: 'up', at: 0, node: m })
  }
  // A minority may crash for good; partitions come and go.
  const minority = Math.floor((members.length - 1) / 2)
  const crashed = new Set<string>()
  for (let at = 200 + rng.int(300); at < duration; at += 200 + rng.int(600)) {
    const r = rng.next()
    if (r < 0.25 && crashed.size < minority) {
      // members[0] never crashes: the broken-runner modes act on it, and must stay visible.
      const victim = rng.pick(members.slice(1).filter((m) => !crashed.has(m))) as string
      crashed.add(victim)
      sim.at(at, () => {
        sim.crash(victim)
        rec.push({ t: 'down', at: sim.now, node: victim })
        rec.push({ t: 'fault', at: sim.now, what: `crash ${victim}` })
      })
    } else if (r < 0.6) {
      const shuffled = rng.shuffle(members)
      const cut = 1 + rng.int(members.length - 1)
      const heal = at + 100 + rng.int(1000)
      sim.at(at, () => {
        sim.partition([shuffled.slice(0, cut), shuffled.slice(cut)])
        rec.push({ t: 'fault', at: sim.now, what: `partition ${shuffled.slice(0, cut).join(',')} | ${shuffled.slice(cut).join(',')}` })
      })
      sim.at(Math.min(heal, duration), () => {
        sim.heal()
        for (const a of members) for (const b of members) if (a !== b) sim.input(a, { type: 'peer-up', peer: b })
        rec.push({ t: 'fault', at: sim.now, what: 'heal' })
      })
    }
  }
  let n = 0
  for (let at = 50; at < duration; at += 5 + rng.int(40)) {
    const node = rng.pick(members) as string
    const ref = `p${n++}`
    sim.at(at, () => sim.input(node, { type: 'app', req: { type: 'propose', ref, payload: ref } }))
  }
  sim.at(duration, () => {
    sim.heal()
    for (const a of members) for (const b of members) if (a !== b) sim.input(a, { type: 'peer-up', peer: b })
    rec.push({ t: 'fault', at: sim.now, what: 'end of faults: heal' })
  })
  sim.runUntil(duration)
  // Loss stays (it is the network), but a healed majority catches every member up.
  sim.runFor(options.quiet ?? 5000)
  rec.push({ t: 'healed', at: sim.now })
  return { events: rec.events, delivered }
}
