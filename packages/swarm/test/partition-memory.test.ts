import t from 'tap'
import { MemoryCluster } from './helpers/cluster.js'
import { TallyAgent, PlainAgent, LockAgent, MemberAgent } from './helpers/partition-agents.js'
import { NoQuorum, hasQuorum, partitionView, partitionChange, coordinatorOf, type PartitionView } from '../src/index.js'

const AGENTS = [TallyAgent, PlainAgent, LockAgent, MemberAgent]
const sorted = (x: readonly string[]) => [...x].sort()

async function cluster(seed: number, ids: string[]): Promise<MemoryCluster> {
  const c = new MemoryCluster(seed)
  for (const [i, id] of ids.entries()) await c.add(id, i === 0 ? [] : [ids[0]!], { agents: AGENTS, serviceTimings: { reconnect: 500 } })
  await c.until(() => c.converged(), 'membership')
  return c
}

const sideConverged = (c: MemoryCluster, side: string[]) => side.every((id) => sorted(c.view(id)).join() === sorted(side).join())

t.test('pure: sides, changes, quorum, coordinator', async (t) => {
  const v = partitionView([
    { id: 'a', status: 'alive' },
    { id: 'b', status: 'suspect' },
    { id: 'c', status: 'dead' },
    { id: 'd', status: 'left' },
  ])
  t.same(v, { reachable: ['a', 'b'], unreachable: ['c'] })
  t.same(partitionView([{ id: 'a', status: 'alive' }], new Set(['z'])).unreachable, ['z'], 'remembered members stay unreachable after membership forgets them')
  const whole: PartitionView = { reachable: ['a', 'b', 'c'], unreachable: [] }
  t.same(partitionChange(whole, v), { rejoined: [], lost: ['c'], view: v }, 'a partition')
  t.same(partitionChange(v, whole), { rejoined: ['c'], lost: [], view: whole }, 'a heal')
  t.same(partitionChange(v, v), { rejoined: [], lost: [], view: v }, 'nothing')
  const crashedForGood: PartitionView = { reachable: ['a', 'b', 'c'], unreachable: ['z'] }
  t.same(partitionChange({ reachable: ['a', 'b'], unreachable: ['c', 'z'] }, crashedForGood).rejoined, ['c'], 'a heal while a crashed node stays away')
  t.ok(hasQuorum({ reachable: ['a', 'b', 'c'], unreachable: ['d', 'e'] }), 'majority')
  t.notOk(hasQuorum({ reachable: ['d', 'e'], unreachable: ['a', 'b', 'c'] }), 'minority')
  t.ok(hasQuorum({ reachable: ['a', 'b'], unreachable: ['c', 'd'] }), 'a tie goes to the side with the lowest id')
  t.notOk(hasQuorum({ reachable: ['c', 'd'], unreachable: ['a', 'b'] }), '… and only to it')
  t.equal(coordinatorOf({ reachable: ['a', 'b', 'c'], unreachable: [] }, ['c', 'b', 'x']), 'b')
  t.equal(coordinatorOf({ reachable: ['c', 'd'], unreachable: ['a'] }, ['a']), 'c', 'no candidate on this side: lowest reachable')
})

t.test('partition: same side never declares itself dead; events; heal re-merges membership (regression)', async (t) => {
  const ids = ['a', 'b', 'c', 'd']
  const c = await cluster(5, ids)
  t.teardown(() => c.close())
  const downs: string[] = []
  const partitions = new Map<string, PartitionView>()
  const heals = new Map<string, readonly string[]>()
  for (const id of ids) {
    const n = c.nodes.get(id)!
    n.on('member-down', (m) => downs.push(`${id}->${m.id}`))
    n.on('partition', (v) => partitions.set(id, v))
    n.on('heal', (h) => heals.set(id, [...(heals.get(id) ?? []), ...h.rejoined]))
  }
  c.net.partition(['a', 'b'], ['c', 'd'])
  await c.until(() => sideConverged(c, ['a', 'b']) && sideConverged(c, ['c', 'd']), 'each side to see only itself')
  await c.until(() => partitions.size === 4, 'partition events')
  t.same(partitions.get('a'), { reachable: ['a', 'b'], unreachable: ['c', 'd'] }, 'a sees both sides')
  t.same(partitions.get('d'), { reachable: ['c', 'd'], unreachable: ['a', 'b'] }, 'd sees both sides')
  t.same(c.nodes.get('b')!.partition(), { reachable: ['a', 'b'], unreachable: ['c', 'd'] })
  c.net.heal()
  await c.until(() => c.converged(), 'one membership after the heal', 30_000)
  await c.until(() => heals.size === 4 && [...heals.values()].every((r) => r.length === 2), 'heal events')
  t.same(sorted(heals.get('a')!), ['c', 'd'])
  t.same(c.nodes.get('c')!.partition(), { reachable: ids, unreachable: [] })
  const sameSide = downs.filter((d) => { const [x, y] = d.split('->'); return ['a', 'b'].includes(x!) === ['a', 'b'].includes(y!) })
  t.same(sameSide, [], 'no node ever declared a node of its own side dead (before: a node rejoining through the other side got its obituaries)')
})

t.test('heal: one activation per agent, onConflict merges, no reliable message accepted on either side is lost', async (t) => {
  const ids = ['a', 'b', 'c', 'd']
  const c = await cluster(11, ids)
  t.teardown(() => c.close())
  const a = c.nodes.get('a')!
  const names = Array.from({ length: 8 }, (_, i) => `t-${i}`)
  for (const n of names) {
    await a.spawn(TallyAgent, { id: n })
    await a.spawn(PlainAgent, { id: n })
  }
  await c.until(() => ids.every((id) => names.every((n) => c.nodes.get(id)!.find(n, 'tally') && c.nodes.get(id)!.find(n, 'plain'))), 'directories')
  const before = new Map(names.map((n) => [n, c.hosts(n, 'tally')[0]!]))
  t.ok(new Set(before.values()).size >= 3, 'agents spread over the nodes')
  // a tag each side sent before the cut, reaching whichever copy
  for (const n of names) a.ref(TallyAgent, n).tell('add', { tag: 'before' })
  await c.until(() => true, 'noop')
  for (const n of names) t.same((await a.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })).tags, ['before'])

  const left = ['a', 'b']
  const right = ['c', 'd']
  c.net.partition(left, right)
  await c.until(() => sideConverged(c, left) && sideConverged(c, right), 'each side to see only itself')
  // Each side tells every agent (its own copy or the one it restarts), 3 tags per agent per side.
  for (const [side, from] of [['L', 'a'], ['R', 'c']] as const) {
    const node = c.nodes.get(from)!
    for (const n of names) for (let k = 0; k < 3; k++) {
      node.ref(TallyAgent, n).tell('add', { tag: `${side}${k}` })
      node.ref(PlainAgent, n).tell('add', { tag: `${side}${k}` })
    }
  }
  for (const [side, from] of [['L', 'a'], ['R', 'c']] as const) {
    const node = c.nodes.get(from)!
    await c.until(() => names.every((n) => (c.hosts(n, 'tally').some((h) => (side === 'L' ? left : right).includes(h)))), `${side} side hosts every agent`)
    for (const n of names) {
      const got = await node.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })
      for (let k = 0; k < 3; k++) t.ok(got.tags.includes(`${side}${k}`), `${n}: ${side}${k} handled on its side during the partition`)
    }
  }
  t.ok(names.some((n) => c.hosts(n, 'tally').length === 2), 'some agents run on both sides during the partition')

  c.net.heal()
  await c.until(() => c.converged(), 'membership after heal', 30_000)
  await c.until(() => names.every((n) => c.hosts(n, 'tally').length === 1 && c.hosts(n, 'plain').length === 1), 'one activation per agent', 30_000)
  await c.until(
    () => names.every((n) => ids.every((id) => c.nodes.get(id)!.find(n, 'tally')?.node === c.hosts(n, 'tally')[0])),
    'every directory names the surviving copy',
    30_000,
  )
  const sum = (k: string) => ids.reduce((n, id) => n + (c.nodes.get(id)!.metrics()[k] ?? 0), 0)
  t.comment(`conflicts ${sum('conflicts')}, merged ${sum('conflictsMerged')}, lost ${sum('conflictsLost')}, duplicates stopped ${sum('duplicatesStopped')}, restarts ${sum('restarts')}`)
  const want = ['L0', 'L1', 'L2', 'R0', 'R1', 'R2', 'before']
  // The loser's snapshot reaches the winner's onConflict asynchronously, after the directories agree.
  const allTags = async () => (await Promise.all(names.map((n) => a.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })))).every((r) => r.tags.length === want.length)
  for (let end = Date.now() + 15_000; !(await allTags()) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20))
  t.comment(`after: conflicts ${sum('conflicts')}, merged ${sum('conflictsMerged')}, lost ${sum('conflictsLost')}`)
  for (const n of names) {
    const answers = await Promise.all(ids.map((id) => c.nodes.get(id)!.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })))
    for (const r of answers) t.same(r.tags, want, `${n}: the survivor holds every tag from both sides (onConflict merged the loser's state)`)
  }
  // Without onConflict the loser's state is gone, but the survivor is still exactly one.
  const lost = await Promise.all(names.map((n) => a.ref(PlainAgent, n).ask('get', {}, { timeout: 5000 })))
  t.ok(lost.some((r) => r.tags.length < 7), 'without onConflict some state of the losing copies is not carried over (the hook is what keeps it)')
  t.ok(a.metrics()['conflictsMerged']! + c.nodes.get('c')!.metrics()['conflictsMerged']! + c.nodes.get('b')!.metrics()['conflictsMerged']! + c.nodes.get('d')!.metrics()['conflictsMerged']! > 0, 'conflicts were merged')
})

t.test('quorum mode: the minority stops single agents and refuses with NoQuorum; the majority restarts them', async (t) => {
  const ids = ['a', 'b', 'c', 'd', 'e']
  const c = await cluster(21, ids)
  t.teardown(() => c.close())
  const a = c.nodes.get('a')!
  const locks = Array.from({ length: 10 }, (_, i) => `lock-${i}`)
  for (const l of locks) await a.spawn(LockAgent, { id: l })
  await c.until(() => ids.every((id) => locks.every((l) => c.nodes.get(id)!.find(l, 'lock'))), 'directories')
  const minority = ['d', 'e']
  const majority = ['a', 'b', 'c']
  const onMinority = locks.filter((l) => minority.includes(c.hosts(l, 'lock')[0]!))
  t.ok(onMinority.length > 0, `some locks live on the minority (${onMinority.join(', ')})`)
  const quorumEvents: boolean[] = []
  c.nodes.get('d')!.on('quorum', (q) => quorumEvents.push(q.quorum))
  c.net.partition(majority, minority)
  await c.until(() => sideConverged(c, majority) && sideConverged(c, minority), 'sides')
  await c.until(() => locks.every((l) => c.hosts(l, 'lock').every((h) => majority.includes(h))), 'no lock runs on the minority')
  await c.until(() => locks.every((l) => c.hosts(l, 'lock').length === 1), 'the majority restarted the minority\'s locks')
  const d = c.nodes.get('d')!
  for (const l of locks) {
    await t.rejects(d.ref(LockAgent, l).ask('hold', {}, { timeout: 5000 }), NoQuorum, `${l}: refused on the minority`)
    t.equal(await a.ref(LockAgent, l).ask('hold', {}, { timeout: 5000 }), l, `${l}: served on the majority`)
  }
  await t.rejects(d.spawn(LockAgent, { id: 'lock-new' }), NoQuorum, 'no spawn of a quorum agent on the minority')
  t.same(quorumEvents, [false], 'd lost the quorum')
  c.net.heal()
  await c.until(() => c.converged(), 'membership after heal', 30_000)
  await c.until(() => locks.every((l) => c.hosts(l, 'lock').length === 1), 'one lock each after the heal', 30_000)
  for (const l of locks) t.equal(await d.ref(LockAgent, l).ask('hold', {}, { timeout: 5000 }), l, `${l}: served from the former minority after the heal`)
  t.same(quorumEvents, [false, true], 'd regained the quorum')
})

t.test('coordinator per side, with coordinator-changed events', async (t) => {
  const ids = ['a', 'b', 'c', 'd']
  const c = await cluster(31, ids)
  t.teardown(() => c.close())
  const changes: string[] = []
  for (const id of ids) {
    t.equal(c.nodes.get(id)!.coordinator('jobs'), 'a', `${id}: one coordinator for the whole cluster`)
    c.nodes.get(id)!.on('coordinator-changed', (e) => changes.push(`${id}:${e.previous}->${e.coordinator}`))
  }
  c.net.partition(['a', 'b'], ['c', 'd'])
  await c.until(() => sideConverged(c, ['a', 'b']) && sideConverged(c, ['c', 'd']), 'sides')
  t.same(ids.map((id) => c.nodes.get(id)!.coordinator('jobs')), ['a', 'a', 'c', 'c'], 'each side has its own coordinator')
  // Each node's events chain from what it had to what it has (a flap on the way is allowed while
  // the sides settle).
  for (const id of ids) {
    const mine = changes.filter((c) => c.startsWith(`${id}:`)).map((c) => c.slice(2).split('->'))
    let at = 'a'
    for (const [previous, next] of mine) {
      t.equal(previous, at, `${id}: coordinator-changed says what it was`)
      at = next as string
    }
    t.equal(at, id === 'c' || id === 'd' ? 'c' : 'a', `${id}: the events end at its side's coordinator (${changes.join(' ')})`)
  }
  c.net.heal()
  await c.until(() => c.converged(), 'membership after heal', 30_000)
  t.same(ids.map((id) => c.nodes.get(id)!.coordinator('jobs')), ['a', 'a', 'a', 'a'], 'one coordinator again')
  // Group members decide: the coordinator is the lowest node hosting a member.
  const b = c.nodes.get('b')!
  await b.spawn(MemberAgent, { id: 'm-1' })
  const host = c.hosts('m-1', 'member')[0]!
  b.group('jobs').join(b.ref(MemberAgent, 'm-1'))
  await c.until(() => ids.every((id) => c.nodes.get(id)!.coordinator('jobs') === host), 'the member\'s node coordinates', 20_000)
})

t.test('no reliable message is lost across the cut: a stream from both sides before, at and after the partition', async (t) => {
  const ids = ['a', 'b', 'c', 'd']
  const c = await cluster(41, ids)
  t.teardown(() => c.close())
  const a = c.nodes.get('a')!
  const names = Array.from({ length: 8 }, (_, i) => `s-${i}`)
  for (const n of names) await a.spawn(TallyAgent, { id: n })
  await c.until(() => ids.every((id) => names.every((n) => c.nodes.get(id)!.find(n, 'tally'))), 'directories')
  const send = (from: string, k: number) => {
    const node = c.nodes.get(from)!
    for (const n of names) node.ref(TallyAgent, n).tell('add', { tag: `${from}${k}` })
  }
  for (let k = 0; k < 20; k++) for (const from of ['a', 'c']) send(from, k)
  c.net.partition(['a', 'b'], ['c', 'd'])
  // Sent right at the cut: in flight, unacknowledged, handed back when the other side is declared down.
  for (let k = 20; k < 40; k++) for (const from of ['a', 'c']) send(from, k)
  await c.until(() => sideConverged(c, ['a', 'b']) && sideConverged(c, ['c', 'd']), 'sides')
  for (let k = 40; k < 60; k++) for (const from of ['a', 'c']) send(from, k)
  c.net.heal()
  await c.until(() => c.converged(), 'membership after heal', 30_000)
  await c.until(() => names.every((n) => c.hosts(n, 'tally').length === 1), 'one activation each', 30_000)
  const want = ['a', 'c'].flatMap((f) => Array.from({ length: 60 }, (_, k) => `${f}${k}`)).sort()
  const complete = async () => (await Promise.all(names.map((n) => a.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })))).every((r) => r.tags.length === want.length)
  for (let end = Date.now() + 15_000; !(await complete()) && Date.now() < end; ) await new Promise((r) => setTimeout(r, 20))
  for (const n of names) {
    const r = await c.nodes.get('d')!.ref(TallyAgent, n).ask('get', {}, { timeout: 5000 })
    const missing = want.filter((x) => !r.tags.includes(x))
    t.same(missing, [], `${n}: all 120 messages handled by one copy or the other and merged (missing: ${missing.slice(0, 6).join(' ')})`)
  }
  // Members declared down on each side went on packing envelopes with the string ids the other
  // side had confirmed: none of them may be unreadable after the heal.
  t.same(ids.map((id) => c.nodes.get(id)!.metrics().malformed), [0, 0, 0, 0], 'no envelope was unreadable (string dictionaries kept across member-down)')
})
