import t from 'tap'
import { chooseTopology, clientServer, fullMesh, hyparview, hyparviewSizes, neighborsOf, TOPOLOGY_THRESHOLDS, type TopologyFactory } from '../src/topology.js'
import { activeViews, broadcastOnce, coldStart, knownStart, roundsToConverge } from '../src/internal/sim/overlay.js'
import { ctxOf, emits } from './protocols-helpers.js'

t.test('full mesh: every member is a neighbour; a member going down is dropped', async (t) => {
  const { machine } = fullMesh()({ self: 'a' })
  const ctx = ctxOf('a')
  let s = machine.init(ctx, {}).state
  const up = machine.step(s, { type: 'peer-up', peer: 'b' }, ctx)
  t.same(emits(up.effects), [{ type: 'neighbor-up', peer: 'b' }])
  s = machine.step(up.state, { type: 'peer-up', peer: 'c' }, ctx).state
  t.same(neighborsOf(s), ['b', 'c'])
  const down = machine.step(s, { type: 'peer-down', peer: 'b' }, ctx)
  t.same(emits(down.effects), [{ type: 'neighbor-down', peer: 'b' }])
  t.same(neighborsOf(down.state), ['c'])
})

t.test('client-server: clients link to servers only, servers to everyone', async (t) => {
  const make = (self: string) => clientServer({ servers: ['s1', 's2'] })({ self }).machine
  const feed = (self: string) => {
    const m = make(self)
    const ctx = ctxOf(self)
    let s = m.init(ctx, {}).state
    for (const p of ['s1', 's2', 'c1', 'c2', 'c3']) s = m.step(s, { type: 'peer-up', peer: p }, ctx).state
    return [...neighborsOf(s)].sort()
  }
  t.same(feed('c1'), ['s1', 's2'])
  t.same(feed('s1'), ['c1', 'c2', 'c3', 's2'])
  const byCount = clientServer({ servers: { count: 2 } })({ self: 'n5' }).machine
  const ctx = ctxOf('n5')
  let s = byCount.init(ctx, {}).state
  for (const p of ['n1', 'n2', 'n3']) s = byCount.step(s, { type: 'peer-up', peer: p }, ctx).state
  t.same(neighborsOf(s), ['n1', 'n2'], 'the two lowest ids serve')
})

t.test('auto: by size, at the documented thresholds', async (t) => {
  const kind = (n: number): string => chooseTopology(n)({ self: 'x' }).kind
  t.equal(kind(1), 'full-mesh')
  t.equal(kind(TOPOLOGY_THRESHOLDS.fullMesh), 'full-mesh')
  t.equal(kind(TOPOLOGY_THRESHOLDS.fullMesh + 1), 'client-server')
  t.equal(kind(TOPOLOGY_THRESHOLDS.clientServer), 'client-server')
  t.equal(kind(TOPOLOGY_THRESHOLDS.clientServer + 1), 'hyparview')
  t.same(hyparviewSizes(1000), { activeSize: 5, passiveSize: 30 })
  t.same(hyparviewSizes(1_000_000), { activeSize: 7, passiveSize: 42 })
})

t.test('the same broadcast code reaches everyone on all three topologies', async (t) => {
  const cases: [string, TopologyFactory, number][] = [
    ['full-mesh', fullMesh(), 39],
    ['client-server', clientServer({ servers: ['n0', 'n1', 'n2'] }), 3],
    ['hyparview', hyparview(), 5],
  ]
  for (const [name, topology, maxLinks] of cases) {
    const o = name === 'hyparview' ? coldStart({ nodes: 40, seed: 1, topology }) : knownStart({ nodes: 40, seed: 1, topology })
    if (name === 'hyparview') roundsToConverge(o)
    o.sim.runFor(1000)
    const r = broadcastOnce(o, 'n7')
    t.equal(r.reach, 1, `${name}: every node delivered`)
    t.equal(r.duplicates, 0)
    const clientLinks = Math.max(...[...activeViews(o)].filter(([id]) => !['n0', 'n1', 'n2'].includes(id)).map(([, v]) => v.length))
    t.equal(clientLinks <= maxLinks, true, `${name}: at most ${maxLinks} links per (client) node, saw ${clientLinks}`)
  }
})

// ---- the driver that runs a machine outside the simulator ----

import { Driver } from '../src/internal/sim/driver.js'
import { plumtree, type PlumtreeEvent, type PlumtreeMsg } from '../src/plumtree.js'
import { hyParView } from '../src/hyparview.js'
import { prng } from '../src/internal/sim/prng.js'
import type { Clock, TimerHandle } from '@murmur/transport'

/** A hand-cranked clock. */
function manualClock(): Clock & { advance(ms: number): void; pending(): number } {
  let now = 0
  let timers: { at: number; fn: () => void; h: TimerHandle }[] = []
  return {
    now: () => now,
    setTimeout: (fn, ms) => {
      const h = { __timer: Symbol('t') }
      timers.push({ at: now + ms, fn, h })
      return h
    },
    clearTimeout: (h) => {
      timers = timers.filter((x) => x.h !== h)
    },
    defer: (fn) => fn(),
    advance(ms) {
      const end = now + ms
      for (;;) {
        const due = timers.filter((x) => x.at <= end).sort((a, b) => a.at - b.at)[0]
        if (due === undefined) break
        timers = timers.filter((x) => x !== due)
        now = due.at
        due.fn()
      }
      now = end
    },
    pending: () => timers.length,
  }
}

t.test('Driver: two Plumtree machines over a clock and a direct link', async (t) => {
  const clock = manualClock()
  const got: PlumtreeEvent[] = []
  const drivers = new Map<string, Driver<unknown, PlumtreeMsg, never, PlumtreeEvent>>()
  for (const self of ['a', 'b']) {
    const d = new Driver(plumtree(), { self, rng: prng(1) }, undefined, {
      clock,
      send: (to, msg) => drivers.get(to)?.input({ type: 'recv', from: self, msg }),
      emit: (ev) => (self === 'b' ? got.push(ev) : undefined),
    })
    drivers.set(self, d as never)
  }
  drivers.get('a')?.input({ type: 'peer-up', peer: 'b' })
  drivers.get('b')?.input({ type: 'peer-up', peer: 'a' })
  ;(drivers.get('a') as unknown as Driver<unknown, PlumtreeMsg, { type: 'broadcast'; payload: unknown }, PlumtreeEvent>).input({ type: 'app', req: { type: 'broadcast', payload: 'hi' } })
  t.same(got.map((e) => e.payload), ['hi'])
  t.ok(clock.pending() > 0, 'GC timers armed on the clock')
  for (const d of drivers.values()) d.stop()
  t.equal(clock.pending(), 0, 'stop clears every timer')
})

t.test('Driver: a set-timer of the same name replaces the earlier one', async (t) => {
  const clock = manualClock()
  const sent: string[] = []
  const d = new Driver(hyParView({ interval: 100, rejoinInterval: 0 }), { self: 'x', rng: prng(2) }, {}, { clock, send: (to) => sent.push(to), emit: () => {} })
  d.input({ type: 'recv', from: 'a', msg: { t: 'connect' } })
  clock.advance(1000)
  t.equal(clock.pending(), 1, 'one tick timer, re-armed each period, never piling up')
  t.ok(sent.filter((to) => to === 'a').length >= 9, 'the tick ran about every 100 ms (a shuffle to the only neighbour each time)')
  d.stop()
})
