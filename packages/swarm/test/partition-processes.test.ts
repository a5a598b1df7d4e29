import t from 'tap'
import { ProcessCluster } from './helpers/processes.js'
import { startPartitionNode, cutSides, healAll } from './helpers/partition-processes.js'

// Five node processes on 127.0.0.1; links between the sides are cut by each process's cuttable
// transport (see src/cut-transport.ts), since the uws transport has no interposition hook.
t.test('5 processes: partition 3 | 2, each side keeps working, heal rules hold', async (t) => {
  const pc = new ProcessCluster()
  t.teardown(() => pc.closeAll())
  const ids = ['p0', 'p1', 'p2', 'p3', 'p4']
  const first = await startPartitionNode(pc, 'p0', [])
  for (const id of ids.slice(1)) await startPartitionNode(pc, id, [first.address])
  await pc.until(() => pc.converged(ids), 'membership of 5')
  const node = (id: string) => pc.nodes.get(id)!
  const tallies = Array.from({ length: 12 }, (_, i) => `t-${i}`)
  const locks = Array.from({ length: 8 }, (_, i) => `l-${i}`)
  await node('p0').call('spawn', { type: 'tally', ids: tallies })
  await node('p0').call('spawn', { type: 'lock', ids: locks })
  const everywhereKnown = async () => (await Promise.all(ids.map((id) => node(id).call<(string | null)[]>('find', { type: 'tally', ids: tallies })))).every((v) => v.every((n) => n !== null))
  await pc.until(everywhereKnown, 'directories')
  const hostsOf = async (type: string) => {
    const per = await Promise.all(ids.map(async (id) => [id, await node(id).call<string[]>('hosted', { type })] as const))
    const out = new Map<string, string[]>()
    for (const [id, list] of per) for (const a of list) out.set(a, [...(out.get(a) ?? []), id])
    return out
  }
  const left = ['p0', 'p1', 'p2']
  const right = ['p3', 'p4']
  const lockHostsBefore = await hostsOf('lock')
  t.ok([...lockHostsBefore.values()].some((h) => right.includes(h[0]!)), 'some locks live on the future minority')

  await cutSides(pc, left, right)
  const sideOk = async (side: string[]) => (await Promise.all(side.map((id) => node(id).call<string[]>('members')))).every((v) => v.join() === [...side].sort().join())
  await pc.until(async () => (await sideOk(left)) && (await sideOk(right)), 'each side to see only itself')
  const view = await node('p3').call('partition')
  t.same(view, { reachable: right, unreachable: left }, 'p3 reports both sides')

  // Each side keeps working: tags from both sides reach every tally (restarted where it was lost).
  for (const [tag, from, side] of [['L', 'p0', left], ['R', 'p3', right]] as const) {
    await node(from).call('tell', { ids: tallies, tag })
    await pc.until(async () => {
      const got = await node(from).call<(string[] | string)[]>('get', { ids: tallies })
      const missing = got.map((g, i) => (Array.isArray(g) && g.includes(tag) ? null : tallies[i]!)).filter((x): x is string => x !== null)
      if (missing.length > 0) await node(from).call('tell', { ids: missing, tag })
      return missing.length === 0
    }, `side ${tag} to update every tally`)
    void side
  }
  // Quorum mode: the minority refuses, the majority serves every lock.
  const minorityHold = await node('p4').call<string[]>('hold', { ids: locks })
  t.ok(minorityHold.every((r) => r === '!NoQuorum'), `minority refuses every lock with NoQuorum (${minorityHold.join(' ')})`)
  await pc.until(async () => (await node('p1').call<string[]>('hold', { ids: locks })).every((r) => left.includes(r)), 'majority serves every lock')

  const healAt = Date.now()
  await healAll(pc)
  await pc.until(() => pc.converged(ids), 'one membership after the heal', 60_000)
  const single = async () => [...(await hostsOf('tally')).values(), ...(await hostsOf('lock')).values()].every((h) => h.length === 1)
  const agreed = async () => {
    const views = await Promise.all(ids.map((id) => node(id).call<(string | null)[]>('find', { type: 'tally', ids: tallies })))
    const hosts = await hostsOf('tally')
    return views.every((v) => v.every((n, i) => n === hosts.get(tallies[i]!)?.[0]))
  }
  await pc.until(async () => (await single()) && (await agreed()), 'one activation per agent and converged directories', 60_000)
  const healMs = Date.now() - healAt
  t.pass(`directories converged ${healMs} ms after the heal`)
  // The loser's snapshot reaches the winner's onConflict asynchronously, after the directories agree.
  await pc.until(async () => (await node('p0').call<(string[] | string)[]>('get', { ids: tallies })).every((g) => Array.isArray(g) && g.length === 2), 'merged tallies', 15_000).catch(() => {})
  for (const id of ids) {
    const got = await node(id).call<(string[] | string)[]>('get', { ids: tallies })
    t.same(got, tallies.map(() => ['L', 'R']), `${id}: every tally holds the tags of both sides (onConflict, nothing lost)`)
  }
  const metrics = await Promise.all(ids.map((id) => node(id).call<Record<string, number>>('metrics')))
  const sum = (k: string) => metrics.reduce((a, m) => a + (m[k] ?? 0), 0)
  t.comment(`conflicts ${sum('conflicts')}, merged ${sum('conflictsMerged')}, lost ${sum('conflictsLost')}, reconnects ${sum('reconnects')}`)
  const holds = await node('p4').call<string[]>('hold', { ids: locks })
  t.ok(holds.every((r) => !r.startsWith('!')), 'locks answer from the former minority after the heal')
  const events = await node('p0').call<{ event: string }[]>('events')
  t.ok(events.some((e) => e.event === 'partition') && events.some((e) => e.event === 'heal'), 'partition and heal events')
})
