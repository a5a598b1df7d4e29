import t from 'tap'
import { check, runAtomicScenario, runTransportScenario, TOLERATED, type HistoryEvent, type Kind } from '../src/index.js'

/**
 * Each checker rule is shown to fire. Where the mechanism can be broken from outside it is
 * (retransmission off in the transport; deliveries skipped or swapped in the atomic log's runner);
 * where the transport has no switch (de-duplication, fifo and causal hold-back), real clean
 * histories are doctored into the history the broken mechanism would have produced.
 */
const NO_CAUSAL: Kind[] = ['reliable-fifo', 'monotonic', 'best-effort']
const rules = (events: readonly HistoryEvent[]) => [...new Set(check(events).map((v) => v.rule))].sort()

t.test('a real run without causal traffic is clean, and doctoring it trips each message rule', async (t) => {
  const { events } = await runTransportScenario({ seed: 9, kinds: NO_CAUSAL })
  t.same(check(events), [], 'the undoctored history passes')
  const delivers = events.filter((e): e is Extract<HistoryEvent, { t: 'deliver' }> => e.t === 'deliver')
  const alive = new Set<string>()
  for (const e of events) if (e.t === 'up') alive.add(e.node)
  else if (e.t === 'down') alive.delete(e.node)
  const reliable = delivers.find((d) => d.kind === 'reliable-fifo' && alive.has(d.node) && alive.has(d.from)) as Extract<HistoryEvent, { t: 'deliver' }>
  t.ok(reliable, 'the run delivered reliable messages')

  // De-duplication off: a reliable message handled twice.
  const duplicated = rules([...events.slice(0, -1), { ...reliable, at: reliable.at + 1 }, events.at(-1) as HistoryEvent])
  t.ok(duplicated.includes('reliable-duplicate'), `a duplicate delivery: reliable-duplicate (${duplicated})`)

  // Retransmission off (doctored): a delivery that never happened.
  t.same(rules(events.filter((e) => e !== reliable)), ['reliable-lost'], 'a missing delivery: reliable-lost')

  // fifo hold-back off: two deliveries of one stream swapped.
  const stream = (d: (typeof delivers)[number]) => `${d.node}|${d.from}|${d.key}|${d.kind}`
  const pair = (kind: Kind) => {
    for (let i = 0; i < delivers.length; i++) {
      const a = delivers[i] as (typeof delivers)[number]
      if (a.kind !== kind) continue
      const b = delivers.slice(i + 1).find((d) => stream(d) === stream(a))
      if (b) return [a, b] as const
    }
    throw new Error(`no two ${kind} deliveries of one stream`)
  }
  const swap = (a: HistoryEvent, b: HistoryEvent) => events.map((e) => (e === a ? b : e === b ? a : e))
  const [f1, f2] = pair('reliable-fifo')
  t.same(rules(swap(f1, f2)), ['fifo-order'], 'swapped fifo deliveries: fifo-order')
  const [m1, m2] = pair('monotonic')
  t.same(rules(swap(m1, m2)), ['monotonic-regress'], 'an older monotonic value after a newer one: monotonic-regress')
})

t.test('retransmission turned off in the transport: the checker reports lost reliable messages', async (t) => {
  let caught = 0
  for (const seed of [1, 2, 3]) {
    const { events } = await runTransportScenario({ seed, kinds: NO_CAUSAL, breakMechanism: 'retransmission', without: ['crash', 'leave', 'partition'] })
    if (check(events).some((v) => v.rule === 'reliable-lost')) caught++
  }
  t.ok(caught >= 2, `reliable-lost caught in ${caught} of 3 seeds`)
  const { events } = await runTransportScenario({ seed: 1, kinds: NO_CAUSAL, without: ['crash', 'leave', 'partition'] })
  t.same(check(events), [], 'the same seed with retransmission on is clean')
})

t.test('causal-order fires on a history where the hold-back queue did not hold back', async (t) => {
  const base = { at: 0, kind: 'reliable-causal' as const, key: 'k', seq: 1 }
  const events: HistoryEvent[] = [
    { t: 'up', at: 0, node: 'a@1' },
    { t: 'up', at: 0, node: 'b@1' },
    { t: 'up', at: 0, node: 'c@1' },
    { t: 'send', ...base, id: 'm1', from: 'a@1', to: 'c@1', vc: { 'a@1': 1 } },
    { t: 'send', ...base, id: 'mx', from: 'a@1', to: 'b@1', vc: { 'a@1': 2 } },
    { t: 'deliver', ...base, id: 'mx', node: 'b@1', from: 'a@1', vc: { 'a@1': 2 } },
    { t: 'send', ...base, id: 'm2', from: 'b@1', to: 'c@1', vc: { 'a@1': 2, 'b@1': 1 } },
    { t: 'deliver', ...base, id: 'm2', node: 'c@1', from: 'b@1', vc: { 'a@1': 2, 'b@1': 1 } },
    { t: 'deliver', ...base, id: 'm1', node: 'c@1', from: 'a@1', vc: { 'a@1': 1 } },
    { t: 'healed', at: 1 },
  ]
  t.same(rules(events), ['causal-order'], 'm1 → mx → m2, and c handled m2 before m1')
  const fixed = [...events.slice(0, 7), events[8] as HistoryEvent, events[7] as HistoryEvent, events[9] as HistoryEvent]
  t.same(check(fixed), [], 'the causal order passes')
})

t.test('atomic broadcast: clean as it is; broken runners are caught', async (t) => {
  const clean = runAtomicScenario({ seed: 4 })
  t.ok(clean.delivered > 100, `the log delivered (${clean.delivered})`)
  t.same(check(clean.events), [], 'the real atomic log passes')
  t.same(rules(runAtomicScenario({ seed: 4, breakMechanism: 'skip-delivery' }).events), ['atomic-partial'], 'a member that misses entries: atomic-partial')
  t.ok(rules(runAtomicScenario({ seed: 4, breakMechanism: 'swap-order' }).events).includes('atomic-order'), 'a member that delivers two entries in swapped order: atomic-order')
  // Seed 335 restarts a member that had acknowledged entries; under its old id (an empty log that
  // still counts as the member that stored them) a stale candidate wins and overwrites one.
  const restarted = runAtomicScenario({ seed: 335 })
  t.ok(restarted.events.some((e) => e.t === 'fault' && e.what.startsWith('restart')), 'seed 335 restarts a member')
  t.same(check(restarted.events), [], 'restarted under a new id: clean')
  t.ok(rules(runAtomicScenario({ seed: 335, breakMechanism: 'restart-same-id' }).events).includes('atomic-order'), 'restarted under its old id: atomic-order')
})

t.test('final-state rules: two live activations, diverging directories; nodes that died do not count', async (t) => {
  const up = (node: string): HistoryEvent => ({ t: 'up', at: 0, node })
  const final = (node: string, hosting: string[], directory: string): HistoryEvent => ({ t: 'final', at: 9, node, hosting, directory })
  const healthy = [up('a'), up('b'), final('a', ['x'], 'D'), final('b', ['y'], 'D'), { t: 'healed', at: 10 } as HistoryEvent]
  t.same(check(healthy), [])
  t.same(rules([up('a'), up('b'), final('a', ['x'], 'D'), final('b', ['x'], 'D'), { t: 'healed', at: 10 }]), ['duplicate-activation'])
  t.same(rules([up('a'), up('b'), final('a', ['x'], 'D1'), final('b', ['y'], 'D2'), { t: 'healed', at: 10 }]), ['directory-divergence'])
  t.same(check([up('a'), up('b'), final('a', ['x'], 'D'), final('b', ['x'], 'E'), { t: 'down', at: 9, node: 'b' }, { t: 'healed', at: 10 }]), [], 'a dead node is not counted')
  t.same(check([up('a'), up('b'), final('a', ['x'], 'D'), final('b', ['x'], 'E')]), [], 'no liveness verdict before the heal')
})

t.test('whole-cluster semantics: at-least-once across a crash, exactly-once between live nodes, messages to agents', async (t) => {
  const send = (id: string, from: string, at = 1) => ({ t: 'send' as const, at, id, from, to: 'agent:a1', kind: 'reliable-fifo' as const, key: 'a1', seq: Number(id.split('#')[1]) })
  const deliver = (id: string, node: string, at: number) => ({ t: 'deliver' as const, at, id, node, from: id.split('>')[0] as string, kind: 'reliable-fifo' as const, key: 'a1', seq: Number(id.split('#')[1]) })
  const up = (node: string) => ({ t: 'up' as const, at: 0, node })
  const healed = { t: 'healed' as const, at: 100 }
  const m = 's@1>a1#1'

  // Handled on n1@1, which crashed before its acknowledgement went out; handled again on n2@1.
  const acrossCrash: HistoryEvent[] = [up('s@1'), up('n1@1'), up('n2@1'), send(m, 's@1'), deliver(m, 'n1@1', 2), { t: 'down', at: 3, node: 'n1@1', how: 'crash' }, deliver(m, 'n2@1', 4), healed]
  t.same(rules(acrossCrash), [], 'a repeat after the first handler crashed is not a duplicate')
  // The same, but n1@1 left gracefully: its handoff must not repeat what it handled.
  t.same(rules(acrossCrash.map((e) => (e.t === 'down' ? { ...e, how: 'leave' as const } : e))), ['reliable-duplicate'], 'a repeat after a graceful leave is a duplicate')
  // Both handlers alive (a partition, say): a duplicate.
  t.same(rules(acrossCrash.filter((e) => e.t !== 'down')), ['reliable-duplicate'], 'a repeat while both handlers live is a duplicate')
  // Handled on a live node first, then on one that crashed later: still a duplicate.
  t.same(rules([up('s@1'), up('n1@1'), up('n2@1'), send(m, 's@1'), deliver(m, 'n2@1', 2), deliver(m, 'n1@1', 3), { t: 'down', at: 4, node: 'n1@1', how: 'crash' }, healed]), ['reliable-duplicate'], 'a repeat of a handling on a node that lived on is a duplicate')
  // The handler lived on, but moved the agent to a node that crashed with it: the state that knew
  // is gone, and the agent restarted fresh handles the tell again (sim --swarm seed 9836).
  const moved = (node: string, to: string, at: number) => ({ t: 'moved' as const, at, node, id: 'a1', to })
  const restarted = { t: 'activated' as const, at: 3.8, node: 'n3@1', id: 'a1', reason: 'restart' as const }
  const movedAway: HistoryEvent[] = [up('s@1'), up('n1@1'), up('n2@1'), up('n3@1'), send(m, 's@1'), deliver(m, 'n1@1', 2), moved('n1@1', 'n2', 3), { t: 'down', at: 3.5, node: 'n2@1', how: 'crash' }, restarted, deliver(m, 'n3@1', 4), healed]
  t.same(rules(movedAway), [], 'a repeat after the agent state that knew died in a crash where it had moved: not a duplicate')
  t.same(rules(movedAway.filter((e) => e.t !== 'activated')), ['reliable-duplicate'], 'no fresh restart after the crash (the state went on, say merged into another copy): a duplicate')
  // A handler that crashed only after the repeat excuses nothing (the state knew at the repeat).
  t.same(rules([up('s@1'), up('n1@1'), up('n2@1'), send(m, 's@1'), deliver(m, 'n1@1', 2), deliver(m, 'n2@1', 3), { t: 'down', at: 4, node: 'n1@1', how: 'crash' }, healed]), ['reliable-duplicate'], 'the first handler crashed after the repeat: a duplicate')
  t.same(rules(movedAway.filter((e) => e.t !== 'down')), ['reliable-duplicate'], 'moved, but nothing crashed: a duplicate')
  t.same(rules(movedAway.map((e) => (e.t === 'down' ? { ...e, at: 5 } : e))), ['reliable-duplicate'], 'the crash came after the repeat: a duplicate')
  t.same(rules(movedAway.map((e) => (e.t === 'moved' ? { ...e, to: 'n3' } : e))), ['reliable-duplicate'], 'moved to a node that did not crash: a duplicate')
  // The state that knew moved to n2, which the second handler then held down: each ran a copy of
  // the agent (sim --swarm seed 7324): a split-brain duplicate.
  const down = (node: string, peer: string, at: number) => ({ t: 'view' as const, at, node, peer, alive: false })
  const movedSplit: HistoryEvent[] = [up('s@1'), up('n1@1'), up('n2@1'), up('n3@1'), send(m, 's@1'), deliver(m, 'n1@1', 2), moved('n1@1', 'n2', 3), down('n3@1', 'n2', 3.5), deliver(m, 'n3@1', 4), healed]
  t.same(rules(movedSplit), ['split-brain-duplicate'], 'the second handler held down the node the knowing state had moved to: split-brain-duplicate')
  t.same(rules(movedSplit.map((e) => (e.t === 'view' ? { ...e, peer: 'n1' } : e)).filter((e) => e.t !== 'moved')), ['split-brain-duplicate'], 'without the move, holding the first handler down: the same')
  t.same(rules(movedSplit.map((e) => (e.t === 'view' ? { ...e, peer: 's' } : e))), ['reliable-duplicate'], 'held down a node that never had the state (the sender, after the first handling): a duplicate')
  // Three handlings: the first on a crashed node, the other two live: a duplicate.
  t.same(rules([...acrossCrash.slice(0, -1), deliver(m, 'n3@1', 5), healed]), ['reliable-duplicate'], 'two live handlings after a crashed one: a duplicate')

  // A split brain: n2@1 held n1 down (a partition) between the two handlings, so each side ran a
  // copy of the agent. At-least-once there, as documented: tolerated, under its own rule.
  const view = (node: string, peer: string, alive: boolean, at: number) => ({ t: 'view' as const, at, node, peer, alive })
  const bothLive: HistoryEvent[] = [up('s@1'), up('n1@1'), up('n2@1'), send(m, 's@1'), deliver(m, 'n1@1', 2), deliver(m, 'n2@1', 4), healed]
  const split = (...views: HistoryEvent[]) => rules([...bothLive.slice(0, 4), ...views, ...bothLive.slice(4)].sort((a, b) => a.at - b.at))
  t.same(split(view('n2@1', 'n1', false, 3)), ['split-brain-duplicate'], 'the second handler declared the first down in between: split-brain-duplicate')
  t.same(split(view('n1@1', 'n2', false, 3)), ['split-brain-duplicate'], 'or the first declared the second down')
  t.same(split(view('n2@1', 'n1', false, 1.5), view('n2@1', 'n1', true, 3.5)), ['split-brain-duplicate'], 'already split at the first handling, healed before the second')
  t.same(split(view('n2@1', 'n1', false, 0.5), view('n2@1', 'n1', true, 1)), ['reliable-duplicate'], 'a split that healed before the first handling excuses nothing')
  t.same(split(view('n2@1', 'n3', false, 3)), ['reliable-duplicate'], 'another node held down: a duplicate')
  t.same(split(view('n2@1', 'n1', false, 5)), ['reliable-duplicate'], 'held down only after the second handling: a duplicate')
  t.same(rules([up('s@1'), up('n1@1'), send(m, 's@1'), deliver(m, 'n1@1', 2), view('n1@1', 'n1', false, 3), deliver(m, 'n1@1', 4), healed]), ['reliable-duplicate'], 'twice on one life is never a split brain')
  // A repeat is judged by the duplicate rules only, not as a fifo break too (sim --swarm seed 7269).
  const m2 = 's@1>a1#2'
  t.same(rules([up('s@1'), up('n1@1'), up('n2@1'), send(m, 's@1'), send(m2, 's@1', 1.2), deliver(m, 'n1@1', 2), view('n2@1', 'n1', false, 2.5), deliver(m2, 'n2@1', 3), deliver(m, 'n2@1', 4), healed]), ['split-brain-duplicate'], 'a split-brain repeat after a newer one: a split-brain duplicate, not a fifo break')
  t.same(rules([up('s@1'), up('n1@1'), send(m, 's@1'), send(m2, 's@1', 1.2), deliver(m2, 'n1@1', 2), deliver(m, 'n1@1', 3), healed]), ['fifo-order'], 'a first handling after a newer one is a fifo break')
  // The sender and the first handler held each other down in between: the release could not get
  // through, so the sender sent the tell again (here to n2@1): at-least-once across the cut.
  t.same(split(view('s@1', 'n1', false, 3)), ['split-brain-duplicate'], 'the sender held the first handler down in between: split-brain-duplicate')
  t.same(split(view('n1@1', 's', false, 3)), ['split-brain-duplicate'], 'or the first handler held the sender down')
  t.same(split(view('s@1', 'n2', false, 3)), ['reliable-duplicate'], 'the sender held only the second handler down, after the first handling: a duplicate')
  // Before the first handling: the sender sent it again (here to n1@1) while n2@1 still had the
  // first copy, which it handled later (sim --swarm seed 2653).
  t.same(split(view('s@1', 'n2', false, 1.5)), ['split-brain-duplicate'], 'the sender held the second handler down before the first handling: split-brain-duplicate')
  t.same(split(view('n2@1', 's', false, 1.5)), ['reliable-duplicate'], 'the second handler held the sender down then: a duplicate (only the sender declaring it down sends the tell again)')
  // The sender held down the second handler's node before that life started: a crash and restart, not a cut.
  const reborn: HistoryEvent[] = [up('s@1'), up('n1@1'), { t: 'up', at: 0, node: 'n2@1' }, send(m, 's@1'), view('s@1', 'n2', false, 1.2), view('s@1', 'n2', true, 1.6), { t: 'up', at: 1.65, node: 'n2@2' }, view('n1@1', 'n2', true, 1.7), deliver(m, 'n1@1', 2), deliver(m, 'n2@2', 4), healed]
  t.same(rules(reborn), ['reliable-duplicate'], "the sender's down came before the second handler's life began: a duplicate")
  t.same(split(view('s@1', 'n2', false, 0.5), view('s@1', 'n2', true, 0.8)), ['reliable-duplicate'], 'a cut between sender and second handler healed before the send: a duplicate')
  t.same(split(view('s@1', 'n1', false, 0.5), view('s@1', 'n1', true, 1)), ['reliable-duplicate'], 'a cut between sender and handler healed before the handling: a duplicate')
  // A node that joined while the sender was cut off: the sender, up first, never learned of it,
  // so it did not count it as a member (sim --swarm seed 1490). One that came up after the first
  // handler must learn of it from the cluster: not knowing it excuses nothing.
  const joined: HistoryEvent[] = [up('s@1'), up('n2@1'), view('s@1', 'n2', true, 0.2), { t: 'up', at: 0.5, node: 'n1@1' }, view('n2@1', 'n1', true, 0.6), send(m, 's@1'), deliver(m, 'n1@1', 2), deliver(m, 'n2@1', 4), healed]
  t.same(rules(joined), ['split-brain-duplicate'], 'the sender never learned of the first handler, which joined after it: split-brain-duplicate')
  t.same(rules([...joined.slice(0, 5), view('s@1', 'n1', true, 1), ...joined.slice(5)]), ['reliable-duplicate'], 'the sender knew the first handler throughout: a duplicate')
  const young: HistoryEvent[] = [up('s@1'), up('n1@1'), view('s@1', 'n1', true, 0.2), { t: 'up', at: 1, node: 'n2@1' }, view('n2@1', 's', true, 1.1), view('n1@1', 'n2', true, 1.2), send(m, 's@1', 1.5), deliver(m, 'n1@1', 2), deliver(m, 'n2@1', 4), healed]
  t.same(rules(young), ['reliable-duplicate'], 'a node that came up after the first handler and had not learned of it: a duplicate')
  t.ok(TOLERATED.has('split-brain-duplicate') && !TOLERATED.has('reliable-duplicate'), 'only the split-brain rule is tolerated')

  // To an agent: lost unless its sender crashed; the agent's node does not matter.
  const unhandled: HistoryEvent[] = [up('s@1'), up('n1@1'), send(m, 's@1'), healed]
  t.same(rules(unhandled), ['reliable-lost'], 'a tell to an agent never handled, its sender alive: reliable-lost')
  t.same(rules([up('s@1'), up('n1@1'), send(m, 's@1'), { t: 'down', at: 2, node: 's@1', how: 'crash' }, healed]), [], 'never handled, but its sender crashed: not lost')
  t.same(rules([up('s@1'), up('n1@1'), send(m, 's@1'), { t: 'down', at: 2, node: 's@1', how: 'leave' }, healed]), ['reliable-lost'], 'never handled, its sender left gracefully: lost')
  t.same(rules(unhandled.slice(0, -1)), [], 'before the heal, nothing counts as lost')
})
