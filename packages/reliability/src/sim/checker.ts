import { isReliable, type HistoryEvent, type Kind } from './history.js'

/** The checker's rules; each violation names one. */
export const RULES = ['reliable-lost', 'reliable-duplicate', 'split-brain-duplicate', 'fifo-order', 'causal-order', 'monotonic-regress', 'atomic-order', 'atomic-partial', 'duplicate-activation', 'directory-divergence'] as const
export type Rule = (typeof RULES)[number]

/**
 * Rules the documented guarantees allow: counted and reported, not failed (unless a run asks to
 * be strict). `split-brain-duplicate`: a reliable tell handled again across a partition: by a copy
 * of its agent that the other side started, or after the cut kept the first handler's release from
 * its sender (docs/guarantees.md: at-least-once across a partition; both sides keep working by
 * design).
 */
export const TOLERATED: ReadonlySet<Rule> = new Set<Rule>(['split-brain-duplicate'])

export interface Violation {
  readonly rule: Rule
  readonly message: string
  /** Message ids (or node names) involved: the trace shows their events. */
  readonly ids: readonly string[]
  /** The guarantee of the messages involved, where the rule is about messages. */
  readonly kind?: Kind
}

type Send = Extract<HistoryEvent, { t: 'send' }>
type Deliver = Extract<HistoryEvent, { t: 'deliver' }>

/**
 * Reads a history and returns every violation of the guarantees (empty: the run is clean). Pure:
 * tests feed it doctored histories to show each rule fires. Liveness rules (lost messages, atomic
 * deliveries missing somewhere, duplicate activations, diverging directories) apply only when the
 * history says the cluster healed (`healed`) and only to nodes alive at the end.
 *
 * @example
 * const violations = check(recorder.events)
 * if (violations.length > 0) console.log(violations[0].rule, violations[0].message)
 */
export function check(events: readonly HistoryEvent[]): Violation[] {
  const out: Violation[] = []
  const alive = new Set<string>()
  const sends = new Map<string, Send>()
  const deliveries = new Map<string, Deliver[]>()
  const returned = new Set<string>()
  const crashed = new Set<string>()
  const splits = new SplitBrains()
  const states = new AgentStates()
  let healed = false
  for (const e of events) {
    splits.observe(e)
    states.observe(e)
    if (e.t === 'up') alive.add(e.node)
    else if (e.t === 'down') {
      alive.delete(e.node)
      if (e.how === 'crash') crashed.add(e.node)
    }
    else if (e.t === 'send') sends.set(e.id, e)
    else if (e.t === 'deliver') append(deliveries, e.id, e)
    else if (e.t === 'returned') returned.add(e.id)
    else if (e.t === 'healed') healed = true
  }
  checkReliable(out, sends, deliveries, returned, { alive, crashed, splits, states }, healed)
  checkOrder(out, events, new Set(out.filter((v) => v.rule === 'reliable-duplicate' || v.rule === 'split-brain-duplicate').flatMap((v) => v.ids)))
  checkCausal(out, events)
  checkAtomic(out, events, alive, healed)
  if (healed) checkFinal(out, events, alive)
  return out
}

/**
 * Exactly once, except across a crash: a node that handled a message and crashed before its
 * acknowledgement went out cannot tell the sender, so the message is handled again where the
 * agent lives next. A repeat is a violation unless every earlier handling is `excused` for it
 * (a node life that crashed, `down` with `how: 'crash'`; or, for the tolerated rule, a split).
 */
function isDuplicate(list: readonly Deliver[], excused: (earlier: Deliver, repeat: Deliver) => boolean): boolean {
  return list.slice(1).some((repeat, j) => !list.slice(0, j + 1).every((d) => excused(d, repeat)))
}

/**
 * Who held whom down, and when: from `view` events. Two lives are split between two instants when
 * at some point in between one held the other's node down (a partition, or a false suspicion
 * under loss: both make each side restart the other side's agents), or had not learned of it yet
 * although it was up first: a node cut off while another joined does not count it as a member
 * either (sim --swarm seed 1490: the sender, isolated, never heard of the node its agent had moved
 * to, and restarted the agent itself). A node that came up after the other must learn of it from
 * the cluster it joins: its not knowing excuses nothing.
 */
interface Holding {
  readonly life: string
  readonly since: number
  readonly crash?: number
}

/**
 * Where each agent's state went after a handling: from `moved` events (the old home's life, the
 * new home's name) and the lives of each node (`up`, `down`).
 */
class AgentStates {
  /** Per life and agent: [at, to] in order. */
  readonly #moves = new Map<string, Array<readonly [number, string]>>()
  /** Per node name: [at, life] of its starts, in order. */
  readonly #lives = new Map<string, Array<readonly [number, string]>>()
  /** Per life: when it crashed. */
  readonly #crashedAt = new Map<string, number>()
  /** Per agent: when it was restarted fresh (anywhere). */
  readonly #restarts = new Map<string, number[]>()

  observe(e: HistoryEvent): void {
    if (e.t === 'moved') append(this.#moves, `${e.node}\u0000${e.id}`, [e.at, e.to] as const)
    else if (e.t === 'up') append(this.#lives, nameOf(e.node), [e.at, e.node] as const)
    else if (e.t === 'down' && e.how === 'crash') this.#crashedAt.set(e.node, e.at)
    else if (e.t === 'activated' && e.reason === 'restart') append(this.#restarts, e.id, e.at)
  }

  /**
   * Did the state of the agent that handled `d` (on `d.node`, at `d.at`) die in a crash before
   * `until`: the handler crashed in between, or, following the agent's moves, a life it moved to
   * crashed while it held the state and the agent was then restarted fresh. (A copy that lost to
   * another hands its state on without a move: the restart is the evidence that nothing did.)
   */
  diedWith(d: Deliver, until: number): boolean {
    const path = this.path(d, until)
    const last = path[path.length - 1] as Holding
    if (last.crash === undefined) return false
    const crash = last.crash
    return path.length === 1 || (this.#restarts.get(d.key)?.some((at) => at >= crash && at <= until) ?? false)
  }

  /**
   * The lives that held the state of the agent that handled `d`, from `d.at` to `until`, following
   * its moves: each with when it got it, and when it crashed with it (the last one only).
   */
  path(d: Deliver, until: number): Holding[] {
    const out: Holding[] = []
    let life = d.node
    let since = d.at
    for (let hops = 0; hops < 64; hops++) {
      const move = this.#moves.get(`${life}\u0000${d.key}`)?.find(([at]) => at >= since && at <= until)
      const crash = this.#crashedAt.get(life)
      if (crash !== undefined && crash >= since && crash <= until && (move === undefined || crash < move[0])) {
        out.push({ life, since, crash })
        break
      }
      out.push({ life, since })
      if (move === undefined) break
      const next = this.#lives.get(move[1])?.filter(([at]) => at <= move[0]).at(-1)?.[1]
      if (next === undefined) break
      life = next
      since = move[0]
    }
    return out
  }
}

class SplitBrains {
  /** Per life: [at, peer, alive] in order. */
  readonly #log = new Map<string, Array<readonly [number, string, boolean]>>()
  readonly #upAt = new Map<string, number>()

  observe(e: HistoryEvent): void {
    if (e.t === 'up' && !this.#upAt.has(e.node)) this.#upAt.set(e.node, e.at)
    if (e.t !== 'view') return
    let log = this.#log.get(e.node)
    if (!log) this.#log.set(e.node, (log = []))
    log.push([e.at, e.peer, e.alive])
  }

  /** Did `a` hold `b`'s node down (or `b` hold `a`'s) at some instant in [from, to]? */
  split(a: string, b: string, from: number, to: number): boolean {
    return this.#heldDown(a, b, from, to, false) || this.#heldDown(b, a, from, to, false)
  }

  /** Did life `a` declare `b`'s node down at some instant in [from, to] (one way; not "never learned of")? */
  declaredDown(a: string, b: string, from: number, to: number): boolean {
    return this.#heldDown(a, b, from, to, true)
  }

  /** When life `life` came up (0 if unknown). */
  upAt(life: string): number {
    return this.#upAt.get(life) ?? 0
  }

  #heldDown(life: string, other: string, from: number, to: number, declared: boolean): boolean {
    const peer = nameOf(other)
    // Not knowing `other` counts only for a life up before it (it missed the join); another life
    // of the same node is not a peer it learns of.
    let live = declared || nameOf(life) === peer || (this.#upAt.get(life) ?? 0) >= (this.#upAt.get(other) ?? 0)
    for (const [at, p, alive] of this.#log.get(life) ?? []) {
      if (at > to) break
      if (p !== peer) continue
      if (at < from) live = alive
      else if (!live || !alive) return true
    }
    return !live
  }
}

const nameOf = (life: string): string => life.slice(0, life.lastIndexOf('@'))

function append<K, V>(index: Map<K, V[]>, key: K, value: V): void {
  const list = index.get(key)
  if (list) list.push(value)
  else index.set(key, [value])
}

/**
 * Lost: a reliable message never handled nor handed back. To a node: counted when both ends are
 * alive at the end. To an agent (`agent:<id>`): the cluster must get it to the agent wherever it
 * lives, so it counts unless its sender crashed.
 */
function checkReliable(out: Violation[], sends: Map<string, Send>, deliveries: Map<string, Deliver[]>, returned: Set<string>, nodes: { alive: Set<string>; crashed: Set<string>; splits: SplitBrains; states: AgentStates }, healed: boolean): void {
  // The handler crashed between the two handlings, or the agent's state that knew died in a crash
  // where it moved since (sim --swarm seed 9836: n0 handled a tell and moved the agent to n4, which
  // crashed; the sender's copy, sent again when an earlier holder crashed, reached the agent
  // restarted fresh).
  const crashed = (d: Deliver, repeat: Deliver): boolean => nodes.states.diedWith(d, repeat.at)
  // Across a partition a tell is at-least-once (docs/guarantees.md): between the two handlings
  // either the two handlers held each other down (each side ran a copy of the agent), or the first
  // handler and the sender did (the cut swallowed the release, so the sender sent it again, to
  // wherever the agent lives next; sim --swarm seed 799: that was a node which then restarted the
  // agent fresh after the copy that knew crashed).
  // Or, between the send (or the second handler's start, if later) and the first handling, the
  // sender declared the second handler down: it sent the tell again, to its side's copy of the
  // agent, while the far side still had the first copy and handled it later with a copy of the
  // agent it started (sim --swarm seed 2653: n1 held n3's tell parked through a partition, n3 sent
  // it again to n0's copy, and n1 restarted the agent after the heal, before the directory told it
  // of n0's).
  // The first handler stands for the lives its state moved to since: a node holding the agent's
  // state that knew and the second handler held each other down (sim --swarm seed 7324: n0 handled
  // a tell and moved the agent to n4; n0 crashed, and its next life, cut off from n4, restarted the
  // agent from its own stale entry and handled the sender's copy again).
  const split = (d: Deliver, repeat: Deliver, sentAt: number): boolean =>
    d.node !== repeat.node &&
    (nodes.states.path(d, repeat.at).some((h) => h.life !== repeat.node && nodes.splits.split(h.life, repeat.node, Math.max(d.at, h.since), repeat.at)) ||
      (d.from !== d.node && nodes.splits.split(d.node, d.from, d.at, repeat.at)) ||
      (repeat.from !== repeat.node && nodes.splits.declaredDown(repeat.from, repeat.node, Math.max(sentAt, nodes.splits.upAt(repeat.node)), d.at)))
  for (const [id, list] of deliveries) {
    if (list.length < 2 || !isReliable((list[0] as Deliver).kind) || !isDuplicate(list, crashed)) continue
    const sentAt = sends.get(id)?.at ?? (list[0] as Deliver).at
    const rule = isDuplicate(list, (d, repeat) => crashed(d, repeat) || split(d, repeat, sentAt)) ? 'reliable-duplicate' : 'split-brain-duplicate'
    out.push({ rule, message: `${id} handled ${list.length} times (${list.map((d) => d.node).join(', ')})`, ids: [id], kind: (list[0] as Deliver).kind })
  }
  if (!healed) return
  for (const [id, s] of sends) {
    if (!isReliable(s.kind) || deliveries.has(id) || returned.has(id)) continue
    const toAgent = s.to.startsWith('agent:')
    if (toAgent ? !nodes.crashed.has(s.from) : nodes.alive.has(s.from) && nodes.alive.has(s.to)) {
      const ends = toAgent ? `its sender ${nodes.alive.has(s.from) ? 'alive' : 'left, did not crash'}` : 'both ends alive'
      out.push({ rule: 'reliable-lost', message: `${id} (${s.kind}) from ${s.from} to ${s.to}, accepted at ${Math.round(s.at)}: never handled, never handed back, ${ends}`, ids: [id], kind: s.kind })
    }
  }
}

/**
 * fifo: per receiver, sender and key, reliable-fifo seqs only go up; monotonic: the same for
 * monotonic values. A reliable-fifo repeat reported as a duplicate (`duplicates`: split-brain or
 * not) is judged by that rule only, not here too: a repeat comes after newer ones by nature (sim
 * --swarm seed 7269: a tell n3 handled behind a cut was sent again to n2's copy of the agent, after
 * n2's newer ones). A repeat excused by a crash is the surviving handling: its order still counts.
 */
function checkOrder(out: Violation[], events: readonly HistoryEvent[], duplicates: ReadonlySet<string>): void {
  const last = new Map<string, { seq: number; id: string }>()
  const handled = new Set<string>()
  for (const e of events) {
    if (e.t !== 'deliver' || (e.kind !== 'reliable-fifo' && e.kind !== 'monotonic')) continue
    if (e.kind === 'reliable-fifo') {
      if (handled.has(e.id) && duplicates.has(e.id)) continue
      handled.add(e.id)
    }
    const k = `${e.kind}\u0000${e.node}\u0000${e.from}\u0000${e.key}`
    const prev = last.get(k)
    if (prev !== undefined && e.seq <= prev.seq) {
      const rule = e.kind === 'monotonic' ? 'monotonic-regress' : 'fifo-order'
      out.push({ rule, message: `${e.node} handled ${e.from}'s ${e.key} #${e.seq} after #${prev.seq}`, ids: [prev.id, e.id], kind: e.kind })
    }
    if (prev === undefined || e.seq > prev.seq) last.set(k, { seq: e.seq, id: e.id })
  }
}

/**
 * causal: a message m1 that happened before m2 (m1's sender count for its sender ≤ m2's vector
 * entry) and that reaches m2's receiver must be handled there before m2.
 */
function checkCausal(out: Violation[], events: readonly HistoryEvent[]): void {
  const causal = events.filter((e): e is Deliver => e.t === 'deliver' && e.kind === 'reliable-causal' && e.vc !== undefined)
  const byReceiver = new Map<string, Deliver[]>()
  for (const d of causal) {
    const list = byReceiver.get(d.node)
    if (list) list.push(d)
    else byReceiver.set(d.node, [d])
  }
  for (const [node, list] of byReceiver) {
    for (let j = 0; j < list.length; j++) {
      const m2 = list[j] as Deliver
      for (let i = j + 1; i < list.length; i++) {
        const m1 = list[i] as Deliver
        const own = m1.vc?.[m1.from] ?? 0
        if (m1.id !== m2.id && own > 0 && own <= (m2.vc?.[m1.from] ?? 0)) {
          out.push({ rule: 'causal-order', message: `${node} handled ${m2.id} before ${m1.id}, which happened before it`, ids: [m1.id, m2.id], kind: 'reliable-causal' })
          return
        }
      }
    }
  }
}

function checkAtomic(out: Violation[], events: readonly HistoryEvent[], alive: Set<string>, healed: boolean): void {
  const logs = new Map<string, string[]>()
  const atIndex = new Map<number, { id: string; node: string }>()
  for (const e of events) {
    if (e.t !== 'adeliver') continue
    const log = logs.get(e.node) ?? []
    logs.set(e.node, log)
    log[e.index - 1] = e.id
    const seen = atIndex.get(e.index)
    if (seen === undefined) atIndex.set(e.index, { id: e.id, node: e.node })
    else if (seen.id !== e.id) {
      out.push({ rule: 'atomic-order', message: `position ${e.index}: ${seen.node} delivered ${seen.id}, ${e.node} delivered ${e.id}`, ids: [seen.id, e.id] })
      return
    }
  }
  if (!healed || logs.size === 0) return
  const members = [...alive]
  const lengths = members.map((m) => (logs.get(m) ?? []).filter((id) => id !== undefined).length)
  const most = Math.max(...lengths)
  members.forEach((m, i) => {
    if ((lengths[i] as number) < most) {
      const log = logs.get(m) ?? []
      const missing = [...atIndex.entries()].filter(([idx]) => log[idx - 1] === undefined).map(([, v]) => v.id)
      out.push({ rule: 'atomic-partial', message: `${m} delivered ${lengths[i]} atomic messages, others ${most}`, ids: missing.slice(0, 5) })
    }
  })
}

function checkFinal(out: Violation[], events: readonly HistoryEvent[], alive: Set<string>): void {
  const finals = events.filter((e): e is Extract<HistoryEvent, { t: 'final' }> => e.t === 'final' && alive.has(e.node))
  const hosts = new Map<string, string[]>()
  for (const f of finals) for (const agent of f.hosting ?? []) hosts.set(agent, [...(hosts.get(agent) ?? []), f.node])
  for (const [agent, nodes] of hosts) {
    if (nodes.length > 1) out.push({ rule: 'duplicate-activation', message: `${agent} active on ${nodes.join(' and ')} after convergence`, ids: nodes })
  }
  const dirs = finals.filter((f) => f.directory !== undefined)
  const first = dirs[0]
  for (const f of dirs.slice(1)) {
    if (f.directory !== first?.directory) {
      out.push({ rule: 'directory-divergence', message: `directories of ${first?.node} and ${f.node} differ after the last heal`, ids: [first?.node ?? '', f.node] })
      break
    }
  }
}
