/**
 * Swarm decision: two groups of voters spread over three nodes. Per group, a tally agent sends the
 * ballot to every voter (reliable: exactly once each) and counts the votes. The decision is then
 * published on an atomic broadcast channel (`node.atomic`): every node delivers the decisions of
 * both groups in one total order. The group's coordinator node (`node.coordinator(group)`: the
 * same node on every member of one side) announces each decision to the group's voters
 * (`node.group(name).broadcast`). Voters vote yes when the proposal's cost is within their
 * budget, so the expected outcome can be computed and checked.
 *
 * Run: pnpm --filter @murmur/examples run example:vote
 */
import { z } from 'zod'
import { Agent, message, protocol, type Handlers, type Payload } from '@murmur/actor-core'
import { startLocalCluster } from '../internal/local-cluster.js'
import { runIfMain, spawnKnown, waitUntil } from '../internal/main.js'

const result = z.object({ proposal: z.string(), yes: z.number(), no: z.number(), accepted: z.boolean(), voters: z.number() })
type Result = z.infer<typeof result>

export const Voter = protocol('voter', {
  ballot: message(z.object({ proposal: z.string(), cost: z.number(), coordinator: z.string() }), { guarantee: ['reliable'] }),
  announce: message(result, { guarantee: ['reliable'] }),
  heard: message(z.object({}), { reply: z.array(result) }),
})

export const Coordinator = protocol('vote-coordinator', {
  propose: message(z.object({ proposal: z.string(), cost: z.number() })),
  vote: message(z.object({ proposal: z.string(), voter: z.string(), yes: z.boolean() }), { guarantee: ['reliable'] }),
  outcome: message(z.object({ proposal: z.string() }), { reply: result.nullable() }),
})

export class VoterAgent extends Agent<typeof Voter, { budget: number }> implements Handlers<typeof Voter> {
  static protocol = Voter
  announcements: Result[] = []
  ballot({ proposal, cost, coordinator }: Payload<typeof Voter, 'ballot'>) {
    this.ref(Coordinator, coordinator).tell('vote', { proposal, voter: this.id, yes: cost <= this.input.budget })
  }
  announce(r: Payload<typeof Voter, 'announce'>) {
    this.announcements.push(r)
  }
  heard() {
    return this.announcements
  }
}

/** Input: the ids of the group's voters. */
export class CoordinatorAgent extends Agent<typeof Coordinator, { voters: string[] }> implements Handlers<typeof Coordinator> {
  static protocol = Coordinator
  open = new Map<string, { yes: number; no: number; seen: string[] }>()
  results: Result[] = []

  propose({ proposal, cost }: Payload<typeof Coordinator, 'propose'>) {
    this.open.set(proposal, { yes: 0, no: 0, seen: [] })
    for (const v of this.input.voters) this.ref(Voter, v).tell('ballot', { proposal, cost, coordinator: this.id })
  }

  vote({ proposal, voter, yes }: Payload<typeof Coordinator, 'vote'>) {
    const tally = this.open.get(proposal)
    if (!tally || tally.seen.includes(voter) || !this.input.voters.includes(voter)) return
    tally.seen.push(voter)
    if (yes) tally.yes++
    else tally.no++
    if (tally.seen.length < this.input.voters.length) return
    this.open.delete(proposal)
    const r = { proposal, yes: tally.yes, no: tally.no, accepted: tally.yes * 2 > this.input.voters.length, voters: this.input.voters.length }
    this.results.push(r)
  }

  outcome({ proposal }: Payload<typeof Coordinator, 'outcome'>) {
    return this.results.find((r) => r.proposal === proposal) ?? null
  }
}

export interface Group {
  readonly name: string
  readonly voters: ReadonlyArray<{ id: string; budget: number }>
}

/** Two groups of six; budgets differ so the two groups decide differently. */
export const GROUPS: readonly Group[] = [
  { name: 'north', voters: [40, 55, 70, 90, 120, 150].map((budget, i) => ({ id: `north-${i + 1}`, budget })) },
  { name: 'south', voters: [20, 35, 50, 60, 80, 200].map((budget, i) => ({ id: `south-${i + 1}`, budget })) },
]
export const PROPOSAL = { proposal: 'build a bigger nest', cost: 65 }

export interface VoteOutcome {
  readonly results: Record<string, Result>
  /** Per node: the decisions in the order its atomic channel delivered them. */
  readonly decided: Record<string, string[]>
  /** Per group: the node that announced it. */
  readonly coordinators: Record<string, string>
  /** Per group, per voter: the announcements it received. */
  readonly heard: Record<string, Record<string, Result[]>>
  /** Per node: how many voters it hosts. */
  readonly spread: Record<string, number>
}

export async function run(log: (line: string) => void = console.log): Promise<VoteOutcome> {
  const cluster = await startLocalCluster(['node-a', 'node-b', 'node-c'], [VoterAgent, CoordinatorAgent])
  try {
    const [a] = cluster.nodes
    for (const g of GROUPS) {
      for (const v of g.voters) await spawnKnown(a!, Voter.name, v.id, () => a!.spawn(VoterAgent, { id: v.id, input: { budget: v.budget } }))
      await spawnKnown(a!, Coordinator.name, `coordinator-${g.name}`, () => a!.spawn(CoordinatorAgent, { id: `coordinator-${g.name}`, input: { voters: g.voters.map((v) => v.id) } }))
    }
    // Groups are replicated state: every node learns the members, then any node can reach them.
    for (const g of GROUPS) for (const v of g.voters) a!.group(g.name).join(a!.ref(VoterAgent, v.id))
    await waitUntil(() => cluster.nodes.every((n) => GROUPS.every((g) => n.group(g.name).members().length === g.voters.length)), 'every node to know both groups')
    // One atomic channel for decisions, opened on every node once the cluster has formed.
    const decided: Record<string, string[]> = {}
    const coordinators: Record<string, string> = {}
    for (const n of cluster.nodes) {
      decided[n.nodeId] = []
      n.atomic('decisions').on('deliver', ({ payload }) => {
        const r = payload as Result & { group: string }
        decided[n.nodeId]!.push(`${r.group}:${r.accepted ? 'accepted' : 'rejected'}`)
        // the group's coordinator announces: one node per side, the same on every node
        if (n.coordinator(r.group) === n.nodeId) {
          coordinators[r.group] = n.nodeId
          const { group: _, ...result } = r
          n.group(r.group).broadcast('announce', result)
        }
      })
    }
    const spread: Record<string, number> = {}
    for (const l of a!.agents({ type: Voter.name })) spread[l.node] = (spread[l.node] ?? 0) + 1
    log(`12 voters in 2 groups over 3 nodes (${Object.entries(spread).map(([n, c]) => `${n}: ${c}`).join(', ')}); proposal "${PROPOSAL.proposal}", cost ${PROPOSAL.cost}`)

    // each group's coordinator is asked from a different node: location transparency
    GROUPS.forEach((g, i) => cluster.nodes[i + 1]!.ref(CoordinatorAgent, `coordinator-${g.name}`).tell('propose', PROPOSAL))
    const results: Record<string, Result> = {}
    const heard: VoteOutcome['heard'] = {}
    for (const g of GROUPS) {
      const c = a!.ref(CoordinatorAgent, `coordinator-${g.name}`)
      await waitUntil(async () => (await c.ask('outcome', { proposal: PROPOSAL.proposal }, { timeout: 5000 })) !== null, `${g.name} to decide`, 20_000, 50)
      results[g.name] = (await c.ask('outcome', { proposal: PROPOSAL.proposal }, { timeout: 5000 }))!
      // the group's coordinator node publishes the decision on the atomic channel
      const publisher = cluster.nodes.find((n) => n.nodeId === a!.coordinator(g.name)) ?? a!
      await publisher.atomic('decisions').publish({ group: g.name, ...results[g.name]! })
      heard[g.name] = {}
      await waitUntil(
        async () => (await Promise.all(g.voters.map((v) => a!.ref(VoterAgent, v.id).ask('heard', {}, { timeout: 5000 })))).every((h) => h.length > 0),
        `every ${g.name} voter to hear the result`,
        20_000,
        50,
      )
      for (const v of g.voters) heard[g.name]![v.id] = await a!.ref(VoterAgent, v.id).ask('heard', {}, { timeout: 5000 })
      const r = results[g.name]!
      log(`  ${g.name}: ${r.yes} yes, ${r.no} no → ${r.accepted ? 'accepted' : 'rejected'}; decided by atomic broadcast, announced by ${coordinators[g.name]} to all ${g.voters.length} voters`)
    }
    await waitUntil(() => cluster.nodes.every((n) => decided[n.nodeId]!.length === GROUPS.length), 'every node to deliver both decisions')
    log(`  every node delivered the decisions in the same order: ${decided[a!.nodeId]!.join(', ')}`)
    return { results, decided, coordinators, heard, spread }
  } finally {
    await cluster.stop()
  }
}

runIfMain(import.meta.url, async () => {
  console.log('A swarm votes: ballots by reliable messages, decisions by atomic broadcast, one coordinator per group\n')
  const o = await run()
  const order = JSON.stringify(Object.values(o.decided)[0])
  const ok = Object.values(o.decided).every((d) => JSON.stringify(d) === order) && GROUPS.every((g) => Object.values(o.heard[g.name]!).every((h) => h.length === 1 && JSON.stringify(h[0]) === JSON.stringify(o.results[g.name])))
  console.log(ok ? '\n✓ every voter heard its coordinator announce the same result, once' : '\n✗ announcements differ')
  return ok ? 0 : 1
})
