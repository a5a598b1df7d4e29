import t from 'tap'
import type { Link } from '../src/connector.js'
import { AddressInUse, NotStarted, PeerUnreachable } from '../src/errors.js'
import { createMemoryNetwork, type MemoryNetwork, type MemoryNetworkInit } from '../src/memory-network.js'
import { frameNumber, pattern, recorder, type Recorder } from './compliance/connector.js'

interface Wired {
  net: MemoryNetwork
  ab: Link
  ba: Link
  /** What `a` received. */
  a: Recorder
  /** What `b` received. */
  b: Recorder
}

/** `a` dials `b`, stepping the network by hand. */
async function wire(net: MemoryNetwork, a = 'a', b = 'b'): Promise<Wired> {
  const rb = recorder()
  let ba: Link | undefined
  await net.connector(b)({ clock: net.clockFor(b) }).listen({ host: '127.0.0.1', port: 0 }, (link) => {
    ba = link
    return rb
  })
  const ra = recorder()
  const dialling = net.connector(a)({ clock: net.clockFor(a) }).dial(b, ra)
  await net.runUntilIdle()
  const ab = await dialling
  if (ba === undefined) throw new Error('not accepted')
  return { net, ab, ba, a: ra, b: rb }
}

async function network(init: MemoryNetworkInit): Promise<Wired> {
  return wire(createMemoryNetwork(init))
}

/** Settles a promise into its value or error now, so a rejection during stepping is not unhandled. */
function outcome<T>(promise: Promise<T>): Promise<T | unknown> {
  return promise.then(
    (value) => value,
    (error: unknown) => error,
  )
}

function count(net: MemoryNetwork, kind: string, reason?: string): number {
  return net.trace.filter((e) => e.kind === kind && (reason === undefined || e.reason === reason)).length
}

t.test('drop: the rate asked, within a tolerance; the trace accounts for every frame', async (t) => {
  const w = await network({ seed: 7, faults: { drop: 0.2 } })
  const n = 5000
  for (let i = 0; i < n; i++) w.ab.send(pattern(i, 8))
  await w.net.runUntilIdle()
  const lost = n - w.b.frames.length
  t.ok(lost > n * 0.17 && lost < n * 0.23, `lost ${lost} of ${n}`)
  t.equal(count(w.net, 'dropped', 'fault'), lost, 'every loss is traced')
  const numbers = w.b.frames.map(frameNumber)
  t.ok(
    numbers.every((x, i) => i === 0 || x > (numbers[i - 1] as number)),
    'survivors keep their order',
  )
})

t.test('duplicate: some frames arrive twice, none three times', async (t) => {
  const w = await network({ seed: 8, faults: { duplicate: 0.1 } })
  const n = 5000
  for (let i = 0; i < n; i++) w.ab.send(pattern(i, 8))
  await w.net.runUntilIdle()
  const seen = new Map<number, number>()
  for (const f of w.b.frames) seen.set(frameNumber(f), (seen.get(frameNumber(f)) ?? 0) + 1)
  const twice = [...seen.values()].filter((c) => c === 2).length
  t.equal(seen.size, n, 'every frame arrives')
  t.ok([...seen.values()].every((c) => c <= 2))
  t.ok(twice > n * 0.07 && twice < n * 0.13, `${twice} duplicated`)
  t.equal(count(w.net, 'duplicated'), twice)
  const copies = w.b.frames.filter((f) => frameNumber(f) === [...seen].find(([, c]) => c === 2)?.[0])
  copies[0]?.fill(0)
  t.not(frameNumber(copies[1] as Uint8Array), 0, 'each copy is its own buffer')
})

t.test('reorder: frames overtake each other; without it, delay keeps FIFO', async (t) => {
  const reordered = await network({ seed: 9, faults: { reorder: 0.2, delay: [0, 3] } })
  const delayed = await network({ seed: 9, faults: { delay: [0, 20] } })
  for (const w of [reordered, delayed]) {
    for (let i = 0; i < 1000; i++) {
      w.ab.send(pattern(i, 8))
      await w.net.runFor(0.5)
    }
    await w.net.runUntilIdle()
  }
  const inversions = (r: Recorder): number => r.frames.map(frameNumber).filter((x, i, all) => i > 0 && x < (all[i - 1] as number)).length
  t.equal(reordered.b.frames.length, 1000, 'nothing lost')
  t.ok(inversions(reordered.b) > 20, `${inversions(reordered.b)} frames arrived after a later one`)
  t.equal(delayed.b.frames.length, 1000)
  t.equal(inversions(delayed.b), 0, 'a delayed pipe stays in order')
})

t.test('delay: frames arrive after latency plus the delay, in virtual time', async (t) => {
  const net = createMemoryNetwork({ seed: 1, latency: 2, faults: { delay: [5, 10] } })
  const w = await wire(net)
  const arrivals: number[] = []
  w.b.frame = () => arrivals.push(net.clock.now())
  const sentAt = net.clock.now()
  for (let i = 0; i < 50; i++) w.ab.send(pattern(i, 8))
  await net.runUntilIdle()
  t.equal(arrivals.length, 50)
  t.ok(arrivals.every((at) => at >= sentAt + 7 && at <= sentAt + 12), `arrivals in [${Math.min(...arrivals) - sentAt}, ${Math.max(...arrivals) - sentAt}] ms`)
})

t.test('partition (drop): both directions are cut, links stay up, heal restores', async (t) => {
  const w = await network({ seed: 2 })
  w.net.partition(['a'], ['b'])
  w.ab.send(pattern(1, 8))
  w.ba.send(pattern(2, 8))
  await w.net.runUntilIdle()
  t.equal(w.a.frames.length + w.b.frames.length, 0, 'nothing crosses')
  t.equal(count(w.net, 'dropped', 'partition'), 2, 'both traced')
  t.equal(w.a.closes.length + w.b.closes.length, 0, 'links stay open')
  const dial = net3(w.net)
  w.net.heal()
  w.ab.send(pattern(3, 8))
  w.ba.send(pattern(4, 8))
  await w.net.runUntilIdle()
  t.same(w.b.frames.map(frameNumber), [3])
  t.same(w.a.frames.map(frameNumber), [4])
  t.ok(await dial, 'a dial from the other side of a healed cut succeeds')
})

/** A third node dials `b` after the cut is healed. */
async function net3(net: MemoryNetwork): Promise<boolean> {
  await Promise.resolve()
  const link = net.connector('c')({ clock: net.clockFor('c') }).dial('b', recorder())
  await net.runUntilIdle()
  return (await link) !== undefined
}

t.test('partition (disconnect): links across break with 1006; dials fail until heal', async (t) => {
  const w = await network({ seed: 3 })
  w.net.partition(['a'], ['b'], { mode: 'disconnect' })
  await w.net.runUntilIdle()
  t.same(w.a.closes, [{ code: 1006, reason: 'partitioned' }])
  t.same(w.b.closes, [{ code: 1006, reason: 'partitioned' }])
  const a = w.net.connector('a')({ clock: w.net.clockFor('a') })
  const failed = outcome(a.dial('b', recorder()))
  await w.net.runUntilIdle()
  t.ok((await failed) instanceof PeerUnreachable)
  w.net.heal()
  const ok = a.dial('b', recorder())
  await w.net.runUntilIdle()
  t.ok(await ok)
})

t.test('a dial across a drop partition fails after the connect timeout', async (t) => {
  const net = createMemoryNetwork({ seed: 4, connectTimeout: 500 })
  await net.connector('b')({ clock: net.clock }).listen({ host: '', port: 0 }, () => recorder())
  net.partition(['a'], ['b'])
  const start = net.clock.now()
  const dial = outcome(net.connector('a')({ clock: net.clock }).dial('b', recorder()))
  await net.runUntilIdle()
  t.ok((await dial) instanceof PeerUnreachable)
  t.equal(net.clock.now() - start, 500, 'failed at the connect timeout, in virtual time')
})

t.test('crash: peers see 1006, nothing the node queued arrives, its timers stop; restart listens again', async (t) => {
  const w = await network({ seed: 5, latency: 3 })
  const { net } = w
  let timerFired = false
  net.clockFor('b').setTimeout(() => (timerFired = true), 10)
  w.ba.send(pattern(1, 8))
  await net.runFor(1)
  w.ba.send(pattern(2, 8))
  net.crash('b')
  await net.runUntilIdle()
  t.equal(w.a.frames.length, 0, 'frames on the wire and queued are lost')
  t.same(w.a.closes, [{ code: 1006, reason: 'peer crashed' }])
  t.same(w.b.closes, [], 'the crashed node is told nothing')
  t.equal(timerFired, false, 'its timers are cancelled')
  t.equal(w.ab.send(pattern(3, 8)), true, 'sending on the broken link is harmless')
  const a = net.connector('a')({ clock: net.clock })
  const refused = outcome(a.dial('b', recorder()))
  await net.runUntilIdle()
  t.ok((await refused) instanceof PeerUnreachable, 'nothing listens at a crashed node')

  const oldB = net.connector('b')
  net.restart('b')
  const got = recorder()
  await oldB({ clock: net.clockFor('b') }).listen({ host: '', port: 0 }, () => got)
  const ok = a.dial('b', recorder())
  await net.runUntilIdle()
  ;(await ok).send(pattern(4, 8))
  await net.runUntilIdle()
  t.same(got.frames.map(frameNumber), [4], 'the restarted node serves again')
})

t.test('a connector made before a crash stays dead after restart', async (t) => {
  const net = createMemoryNetwork({ seed: 6 })
  const before = net.connector('b')({ clock: net.clock })
  net.crash('b')
  net.restart('b')
  await t.rejects(before.listen({ host: '', port: 0 }, () => recorder()), NotStarted)
  await t.rejects(before.dial('a', recorder()), NotStarted)
})

t.test('a crashed node runs nothing: clocks and connectors from before or during the crash stay dead', async (t) => {
  const net = createMemoryNetwork({ seed: 6 })
  const fired: string[] = []
  const before = net.clockFor('b')
  net.crash('b')
  const during = net.clockFor('b')
  before.setTimeout(() => fired.push('before'), 1)
  during.setTimeout(() => fired.push('during'), 1)
  during.defer(() => fired.push('during-defer'))
  await t.rejects(net.connector('b')({ clock: during }).listen({ host: '', port: 0 }, () => recorder()), NotStarted)
  net.restart('b')
  const after = net.clockFor('b')
  after.setTimeout(() => fired.push('after'), 1)
  during.setTimeout(() => fired.push('during-late'), 1)
  await net.runUntilIdle()
  t.same(fired, ['after'])
})

t.test('listening twice on one node is AddressInUse', async (t) => {
  const net = createMemoryNetwork({ seed: 1 })
  await net.connector('b')({ clock: net.clock }).listen({ host: '', port: 0 }, () => recorder())
  await t.rejects(net.connector('b')({ clock: net.clock }).listen({ host: '', port: 0 }, () => recorder()), AddressInUse)
})

t.test('fault precedence: link, then node, then default', async (t) => {
  const net = createMemoryNetwork({ seed: 12, faults: { drop: 1 } })
  const ab = await wire(net, 'a', 'b')
  const cd = await wire(net, 'c', 'd')
  const ef = await wire(net, 'e', 'f')
  net.setNodeFaults('c', {})
  net.setLinkFaults('a', 'b', {})
  for (const w of [ab, cd, ef]) {
    w.ab.send(pattern(1, 8))
    w.ba.send(pattern(2, 8))
  }
  await net.runUntilIdle()
  t.equal(ab.a.frames.length + ab.b.frames.length, 2, 'the link setting wins over the default')
  t.equal(cd.a.frames.length + cd.b.frames.length, 2, 'a node setting covers both directions of its links')
  t.equal(ef.a.frames.length + ef.b.frames.length, 0, 'the default drops everything else')
  net.setLinkFaults('a', 'b', undefined)
  ab.ab.send(pattern(3, 8))
  await net.runUntilIdle()
  t.equal(ab.b.frames.length, 1, 'cleared: back to the default')
})

t.test('bad fault settings are refused', async (t) => {
  const net = createMemoryNetwork({ seed: 1 })
  t.throws(() => net.setLinkFaults('a', 'b', { drop: 1.5 }), RangeError)
  t.throws(() => net.setDefaultFaults({ delay: [5, 1] }), RangeError)
  t.throws(() => createMemoryNetwork({ seed: 1, faults: { duplicate: -1 } }), RangeError)
})

t.test('bandwidth: the buffer empties at the rate asked, then drain fires', async (t) => {
  const net = createMemoryNetwork({ seed: 1, bandwidth: 100 })
  const w = await wire(net)
  const lw = net.connector('x', { highWaterMark: 2000, lowWaterMark: 1000 })
  t.ok(lw, 'limits are per connector')
  let drainedAt = -1
  w.a.drain = () => (drainedAt = net.clock.now())
  const start = net.clock.now()
  let ok = true
  for (let i = 0; i < 20; i++) ok = w.ab.send(pattern(i, 1000))
  t.equal(ok, true, 'the default high-water mark (1 MiB) is far away')
  t.equal(w.ab.bufferedAmount(), 20_000)
  await net.runFor(50)
  t.equal(w.ab.bufferedAmount(), 15_000, '5 frames of 1000 bytes left in 50 ms at 100 bytes/ms')
  await net.runUntilIdle()
  t.equal(w.b.frames.length, 20)
  t.equal(drainedAt, -1, 'no drain without a false first')
  t.ok(net.clock.now() - start >= 200)
})

t.test('bandwidth and watermarks: false above the high mark, drain at the low mark', async (t) => {
  const net = createMemoryNetwork({ seed: 1, bandwidth: 100 })
  const rb = recorder()
  await net.connector('b')({ clock: net.clock }).listen({ host: '', port: 0 }, () => rb)
  const ra = recorder()
  const dialling = net.connector('a', { highWaterMark: 2500, lowWaterMark: 1000 })({ clock: net.clock }).dial('b', ra)
  await net.runUntilIdle()
  const link = await dialling
  let drainedAt = -1
  ra.drain = () => (drainedAt = net.clock.now())
  const results = [0, 1, 2].map((i) => link.send(pattern(i, 1000)))
  t.same(results, [true, true, false])
  const start = net.clock.now()
  await net.runUntilIdle()
  t.equal(drainedAt - start, 20, 'drained when two frames had left (2000 bytes at 100 bytes/ms)')
})

t.test('virtual clock: timers in time order, defer after the current step, seeded random', async (t) => {
  const net = createMemoryNetwork({ seed: 11 })
  const seen: string[] = []
  net.clock.setTimeout(() => seen.push('t20'), 20)
  const cancelled = net.clock.setTimeout(() => seen.push('never'), 5)
  net.clock.setTimeout(() => {
    seen.push('t10')
    net.clock.defer(() => seen.push(`defer@${net.clock.now()}`))
    seen.push('t10-end')
  }, 10)
  net.clock.clearTimeout(cancelled)
  t.equal(await net.runFor(15), 2, 'two steps in the first 15 ms')
  t.equal(net.clock.now(), 15)
  await net.runUntilIdle()
  t.same(seen, ['t10', 't10-end', 'defer@10', 't20'])
  const r1 = createMemoryNetwork({ seed: 5 }).clock.random
  const r2 = createMemoryNetwork({ seed: 5 }).clock.random
  const r3 = createMemoryNetwork({ seed: 6 }).clock.random
  const draw = (r: (() => number) | undefined): number[] => Array.from({ length: 5 }, () => (r ? r() : -1))
  const d1 = draw(r1)
  t.same(d1, draw(r2), 'same seed, same numbers')
  t.not(JSON.stringify(d1), JSON.stringify(draw(r3)), 'another seed, other numbers')
  t.ok(d1.every((x) => x >= 0 && x < 1))
})

t.test('promise continuations settle between steps', async (t) => {
  const net = createMemoryNetwork({ seed: 1 })
  const order: string[] = []
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => net.clock.setTimeout(resolve, ms))
  const task = async (name: string, ms: number): Promise<void> => {
    for (let i = 0; i < 3; i++) {
      await sleep(ms)
      await Promise.resolve()
      order.push(`${name}${i}@${net.clock.now()}`)
    }
  }
  void task('x', 3)
  void task('y', 5)
  await net.runUntilIdle()
  t.same(order, ['x0@3', 'y0@5', 'x1@6', 'x2@9', 'y1@10', 'y2@15'])
})

t.test('autoRun drives timers without stepping; stop parks it', async (t) => {
  const net = createMemoryNetwork({ seed: 1 })
  net.autoRun()
  t.teardown(() => net.stop())
  await new Promise<void>((resolve) => net.clock.setTimeout(resolve, 60_000))
  t.equal(net.clock.now(), 60_000, 'a virtual minute passed at once')
  await t.rejects(net.step(), /autoRun/, 'manual stepping is refused while auto-running')
  net.stop()
  let fired = false
  net.clock.setTimeout(() => (fired = true), 1)
  await new Promise((resolve) => setTimeout(resolve, 20))
  t.equal(fired, false, 'stopped: nothing runs')
  t.equal(await net.step(), true)
  t.equal(fired, true)
})

t.test('the trace stays bounded', async (t) => {
  const w = await network({ seed: 1, traceLimit: 100 })
  for (let i = 0; i < 1000; i++) w.ab.send(pattern(i, 8))
  await w.net.runUntilIdle()
  t.ok(w.net.trace.length < 200, `${w.net.trace.length} events kept`)
  t.equal(w.net.trace.at(-1)?.kind, 'delivered', 'the newest are kept')
  const off = await network({ seed: 1, traceLimit: 0 })
  const streamed: string[] = []
  off.net.onTrace((e) => streamed.push(e.kind))
  off.ab.send(pattern(1, 8))
  await off.net.runUntilIdle()
  t.equal(off.net.trace.length, 0, 'recording off')
  t.same(streamed, ['sent', 'delivered'], 'listeners still hear every event')
})

/** A run under every fault at once: two nodes talk both ways, with timers in the mix. */
async function history(seed: number): Promise<string[]> {
  const w = await network({ seed, faults: { drop: 0.1, duplicate: 0.1, reorder: 0.1, delay: [0, 4] } })
  const log: string[] = []
  const tap = (who: string, r: Recorder): void => {
    r.frame = (f) => {
      log.push(`${who}:${frameNumber(f)}@${w.net.clock.now().toFixed(3)}`)
      // Answer some frames: the reply depends on what arrived and when.
      if (frameNumber(f) % 3 === 0) (who === 'b' ? w.ba : w.ab).send(pattern(frameNumber(f) + 100_000, 16))
    }
  }
  tap('a', w.a)
  tap('b', w.b)
  for (let i = 0; i < 300; i++) {
    w.ab.send(pattern(i, 16))
    if (i % 7 === 0) w.net.clock.setTimeout(() => w.ba.send(pattern(i + 50_000, 16)), w.net.clock.random?.() ?? 0)
    await w.net.runFor(1)
  }
  await w.net.runUntilIdle()
  return log.concat(w.net.trace.map((e) => JSON.stringify(e)))
}

t.test('determinism: same seed, same history; another seed, another history', async (t) => {
  const a1 = await history(101)
  const a2 = await history(101)
  const b1 = await history(202)
  const b2 = await history(202)
  t.ok(a1.length > 300)
  t.same(a2, a1, 'seed 101 twice')
  t.same(b2, b1, 'seed 202 twice')
  t.not(JSON.stringify(a1), JSON.stringify(b1), 'the seeds differ')
})

/**
 * The same kind of run driven by `autoRun`, written as plain async code: the test awaits only
 * promises the simulation settles, so the interleaving is still the seed's.
 */
async function autoHistory(seed: number): Promise<string[]> {
  const net = createMemoryNetwork({ seed, faults: { drop: 0.05, duplicate: 0.05, reorder: 0.1, delay: [0, 3] } })
  net.autoRun()
  try {
    const log: string[] = []
    const sleep = (ms: number): Promise<void> => new Promise((resolve) => net.clock.setTimeout(resolve, ms))
    const names = ['n0', 'n1', 'n2']
    for (const name of names) {
      await net.connector(name)({ clock: net.clockFor(name) }).listen({ host: '', port: 0 }, (link) => ({
        frame: (f) => {
          log.push(`${name}<${link.remoteAddress}:${frameNumber(f)}@${net.clock.now().toFixed(3)}`)
          if (frameNumber(f) % 2 === 0) link.send(pattern(frameNumber(f) + 1, 8))
        },
        drain: () => {},
        close: () => {},
      }))
    }
    const links = await Promise.all(
      names.map((name, i) =>
        net.connector(`${name}-out`)({ clock: net.clock }).dial(names[(i + 1) % names.length] as string, {
          frame: (f) => log.push(`${name}-out:${frameNumber(f)}@${net.clock.now().toFixed(3)}`),
          drain: () => {},
          close: () => {},
        }),
      ),
    )
    await Promise.all(
      links.map(async (link, i) => {
        for (let k = 0; k < 100; k++) {
          link.send(pattern(i * 1000 + k * 2, 8))
          await sleep(1 + Math.floor((net.clock.random?.() ?? 0) * 3))
        }
      }),
    )
    await sleep(100)
    return log
  } finally {
    net.stop()
  }
}

t.test('determinism under autoRun with plain async/await', async (t) => {
  const a1 = await autoHistory(303)
  const a2 = await autoHistory(303)
  const b1 = await autoHistory(404)
  t.ok(a1.length > 300, `${a1.length} deliveries`)
  t.same(a2, a1, 'same seed, same history')
  t.not(JSON.stringify(a1), JSON.stringify(b1), 'another seed, another history')
})
