import t from 'tap'
import { runSwarmSeed, RULES, TOLERATED, type Rule } from '../src/index.js'
import { addResult, emptySummary } from '../src/sim/summary.js'

/**
 * The CI share of the whole-cluster simulation: Swarm nodes (4, plus one that joins) with 20
 * TallyAgents on one seeded memory network, every node telling `add` (reliable, fifo) to random
 * agents while the seed's faults run (loss up to 10%, duplication, reordering, delays, partitions
 * and heals, crashes and restarts, a join, sometimes a graceful leave); then heal, restart, quiet,
 * and the checker. `pnpm sim --swarm --seeds N` is the long run.
 *
 * Every rule is asserted on these seeds. A duplicate across a split brain is at-least-once by
 * design (docs/guarantees.md) and counted apart (`split-brain-duplicate`, tolerated): the test
 * shows the plans make split brains, and that every repeat handling is one of those.
 * `pnpm sim --swarm --seeds 1000` still finds a few seeds failing (docs/reliability.md).
 */
const SEEDS = Number(process.env.SIM_SWARM_SEEDS ?? 300)

t.test(`${SEEDS} whole-cluster seeds: the checker's rules`, async (t) => {
  const sum = emptySummary()
  const seedsOf = new Map<Rule, number[]>()
  let crashes = 0
  let partitions = 0
  let handled = 0
  const started = Date.now()
  for (let seed = 1; seed <= SEEDS; seed++) {
    const r = await runSwarmSeed(seed)
    addResult(sum, r, [])
    crashes += r.stats.crashes ?? 0
    partitions += r.stats.partitions ?? 0
    handled += r.stats.delivered ?? 0
    for (const rule of new Set(r.violations.map((v) => v.rule))) seedsOf.set(rule, [...(seedsOf.get(rule) ?? []), seed])
  }
  t.comment(`${SEEDS} seeds in ${Date.now() - started} ms: ${sum.messages} tells, ${handled} handled, ${crashes} crashes, ${partitions} partitions; seeds failing, by rule: ${JSON.stringify(sum.byRule)}`)
  t.ok(sum.messages > SEEDS * 300 && crashes > SEEDS && partitions > SEEDS, 'the workload ran and the plans injected crashes and partitions')
  for (const rule of RULES.filter((r) => !TOLERATED.has(r))) t.same(seedsOf.get(rule) ?? [], [], `${rule}: no seed`)
  t.ok((seedsOf.get('split-brain-duplicate')?.length ?? 0) > 0, `split brains happened and were told apart (${seedsOf.get('split-brain-duplicate')?.length ?? 0} seeds)`)
  t.equal(sum.failed, 0, 'no seed failed')
})

/**
 * Seeds beyond the CI share whose failure a fix in the code names (each in a comment at the fix).
 * Each replays the same history while the code it runs through stays the same, so a seed here is a
 * regression test only as long as the histories do not shift; the mechanism has its own test too
 * where one could be built.
 */
const FIXED_SEEDS: readonly { seed: number; what: string }[] = [
  { seed: 1326, what: "a lane both ends lost in a simultaneous-dial resolution is dialled again (n2's tells to n0 waited for ever)" },
  { seed: 1615, what: 'a move that failed and brought the agent back routes local tells through the numbering again' },
  { seed: 325, what: "a stream waiting for tells held here goes back to the sender's lower low" },
  { seed: 3383, what: 'a node whose actor system stopped does not restart an agent in a loop (the run hung)' },
  { seed: 2083, what: 'a forwarded tell whose forwarder crashed before passing the release back is not sent again by its sender (end-to-end release)' },
  { seed: 216, what: "a tell its sender let go as handled keeps its fifo number out a gap timeout, so a cut-off forwarder's copy still comes in order" },
  { seed: 2284, what: 'a held fifo copy the stream has passed is not delivered at the gap expiry' },
  { seed: 1482, what: 'a gap the sender keeps reporting out waits past the gap timeout' },
  { seed: 730, what: "a failed move routes the agent's mailbox, taken back from custody, ahead of what it buffered meanwhile" },
  { seed: 8594, what: "an agent whose only newer entries died with their nodes is restarted, not lost (a node unknown for 5 s counts as gone)" },
  { seed: 164, what: "a tell that came back to a node marks that node's own copy handled, so a crash of the node it was passed to does not send it again" },
  { seed: 7623, what: 'an activation on a node that came back under a new incarnation fails at once, so a leave does not hang 30 s while placement still picks the leaver' },
  { seed: 3174, what: 'an acceptor does not make a second session under a provisional epoch a session already spent (the peer resumed, and a lane never drained)' },
  { seed: 4239, what: 'an acceptor that resets a session refuses the link rather than reuse its epoch (a lane never drained)' },
  { seed: 6598, what: "a dialer with no session takes the peer's claim on its provisional epoch for the session starting, not a stale one" },
  { seed: 3484, what: "tells a leaving node handed to an heir keep their sender's fifo number out a gap timeout, so the late copy is not dropped" },
  { seed: 4511, what: 'a leaving node hands parked tells to a member when their home comes back, rather than dead-letter them' },
  { seed: 6072, what: 'a handled tell marks every copy the node still holds handled, whatever way each came' },
  { seed: 9497, what: 'a move that failed while another copy won does not bring the agent back: its state and mail go to the winner' },
  { seed: 5521, what: "a leaving node hands its parked tells on with their stream's low" },
  { seed: 2284, what: 'an entry newer than a pending activation answers it (a tell buffered for the move waited 30 s)' },
  { seed: 4368, what: "a node passing on another sender's tell while it holds an older one of the same stream makes the agent's home wait for it" },
  { seed: 2137, what: "a losing copy's mail goes to the winner numbered, not counted delivered, and its own numbers out again" },
  { seed: 1949, what: 'a fresh home drops a stray copy below its start when the first tell on that route said nothing older was out' },
  { seed: 4945, what: 'a hint left from an older route does not stand in for a new route change' },
]

t.test('seeds the long runs found, fixed', async (t) => {
  for (const { seed, what } of FIXED_SEEDS) {
    const r = await runSwarmSeed(seed)
    t.same(
      r.violations.filter((v) => !TOLERATED.has(v.rule)).map((v) => `${v.rule}: ${v.message}`),
      [],
      `seed ${seed}: ${what}`,
    )
  }
})

t.test('without crashes, partitions and leaves (link faults and a join only)', async (t) => {
  const failed: number[] = []
  for (let seed = 1; seed <= 10; seed++) {
    const r = await runSwarmSeed(seed, { without: ['crash', 'partition', 'leave'] })
    if (r.violations.length > 0) failed.push(seed)
    t.same(
      r.violations.filter((v) => v.rule !== 'reliable-lost').map((v) => v.message),
      [],
      `seed ${seed}: nothing handled twice or out of order, one activation per agent, one directory`,
    )
  }
  t.same(failed, [], 'no seed lost a tell')
})

t.test('a seed replays exactly: the same history, twice', async (t) => {
  const a = await runSwarmSeed(5)
  const b = await runSwarmSeed(5)
  t.equal(a.digest, b.digest, `seed 5 digest ${a.digest} both times`)
  t.same(a.stats, b.stats)
  const c = await runSwarmSeed(6)
  t.not(c.digest, a.digest, 'another seed, another history')
})
