import t from 'tap'
import { run, GROUPS, PROPOSAL } from '../src/examples/vote.js'

t.test('a swarm vote: each coordinator tallies every vote and every voter hears the same result once', async (t) => {
  const o = await run(() => {})
  t.ok(Object.keys(o.spread).length >= 2, 'voters live on several nodes')
  for (const g of GROUPS) {
    const yes = g.voters.filter((v) => PROPOSAL.cost <= v.budget).length
    const r = o.results[g.name]!
    t.equal(r.yes, yes, `${g.name}: every yes counted`)
    t.equal(r.no, g.voters.length - yes, `${g.name}: every no counted`)
    t.equal(r.accepted, yes * 2 > g.voters.length, `${g.name}: majority rule`)
    for (const v of g.voters) t.same(o.heard[g.name]![v.id], [r], `${v.id} heard the result exactly once`)
  }
  t.not(o.results.north!.accepted, o.results.south!.accepted, 'the two groups decided independently')
  const orders = Object.values(o.decided)
  t.equal(orders.length, 3, 'three nodes delivered decisions')
  for (const d of orders) t.same(d, orders[0], 'every node delivered the same decisions in the same order (atomic broadcast)')
  t.same([...orders[0]!].sort(), ['north:accepted', 'south:rejected'])
  for (const g of GROUPS) t.match(o.coordinators[g.name], /^node-/, `${g.name} was announced by its coordinator node`)
})
