import {
  createMembership,
  step,
  type MembershipState,
  type MembershipEffect,
  type MembershipInput,
  type MembershipConfig,
  type MembershipEvent,
} from '../../src/membership.js'

interface InFlight {
  at: number
  from: string
  to: string
  effect: Extract<MembershipEffect, { kind: 'send' }>
}

/** Drives pure membership states over a virtual network: latency, crashes, slow nodes. */
export class MembershipSim {
  now = 0
  nodes = new Map<string, MembershipState>()
  crashed = new Set<string>()
  /** Links that drop everything both ways (`a|b`, either order): one cut link, the rest working. */
  cut = new Set<string>()
  /** Extra delay on everything a node sends (a busy event loop). */
  slow = new Map<string, number>()
  queue: InFlight[] = []
  events: { at: number; node: string; event: MembershipEvent; member: string }[] = []
  sent = 0

  constructor(readonly config: Partial<MembershipConfig> = {}, readonly latency = 1) {}

  add(id: string, seedId?: string, incarnation = 1): void {
    this.nodes.set(
      id,
      createMembership({ self: id, address: id, incarnation, meta: { capabilities: [], load: 0 }, now: this.now, seed: this.nodes.size + 7, config: this.config }),
    )
    if (seedId !== undefined) this.input(id, { kind: 'seed-connected', now: this.now, nodeId: seedId })
  }

  input(id: string, input: MembershipInput): void {
    if (this.crashed.has(id)) return
    const s = this.nodes.get(id)
    if (!s) return
    const { state, effects } = step(s, input)
    this.nodes.set(id, state)
    for (const e of effects) {
      if (e.kind === 'send') {
        this.sent++
        this.queue.push({ at: this.now + this.latency + (this.slow.get(id) ?? 0), from: id, to: e.to, effect: e })
      } else if (e.kind === 'event') {
        this.events.push({ at: this.now, node: id, event: e.event, member: e.member.id })
      }
    }
  }

  crash(id: string): void {
    this.crashed.add(id)
    // Every connected peer sees its connection drop (what a kill -9 does to TCP).
    for (const other of this.nodes.keys()) {
      if (other !== id) this.input(other, { kind: 'connection-lost', now: this.now, nodeId: id })
    }
  }

  /** Advance virtual time by `ms`, ticking every node every `tick` ms. */
  run(ms: number, tick = 50): void {
    const end = this.now + ms
    while (this.now < end) {
      const next = Math.min(end, this.now + tick)
      for (;;) {
        this.queue.sort((a, b) => a.at - b.at)
        const m = this.queue[0]
        if (!m || m.at > next) break
        this.queue.shift()
        this.now = Math.max(this.now, m.at)
        if (this.crashed.has(m.to) || this.crashed.has(m.from)) continue
        if (this.cut.has(`${m.from}|${m.to}`) || this.cut.has(`${m.to}|${m.from}`)) continue
        this.input(m.to, { kind: 'message', now: this.now, from: m.from, message: m.effect.message })
      }
      this.now = next
      for (const id of this.nodes.keys()) this.input(id, { kind: 'tick', now: this.now })
    }
  }

  view(id: string): Record<string, string> {
    const out: Record<string, string> = {}
    for (const [k, m] of this.nodes.get(id)!.members) out[k] = m.status
    return out
  }
}
