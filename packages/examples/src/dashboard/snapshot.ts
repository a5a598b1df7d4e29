import type { AnyProtocol, InspectionEvent } from '@murmur/actor-core'
import type { Swarm } from '@murmur/swarm'
import { Admin } from '../cli/admin.js'

/** What the page shows; sent as JSON over the WebSocket. Never carries the secret. */
export interface DashboardState {
  readonly node: string
  readonly at: number
  readonly members: ReadonlyArray<{ id: string; address: string; status: string; load: number }>
  /** Undirected links between members, as each live member reports its sessions. */
  readonly edges: ReadonlyArray<readonly [string, string]>
  readonly agents: Readonly<Record<string, number>>
  /** Messages received by agents of this node per second (over the last 10 s), per channel and guarantee. */
  readonly rates: ReadonlyArray<{ channel: string; guarantee: string; perSecond: number }>
  readonly transport: { readonly delivered: number; readonly sent: number }
  readonly deadLetters: ReadonlyArray<{ at: number; to: string; type: string; reason: string }>
  /** Membership changes as they happen: joins, suspicions, losses (one side of a partition), heals. */
  readonly events: ReadonlyArray<{ at: number; kind: string; member: string }>
  /** This node's side of a partition (`unreachable` empty when there is none). */
  readonly partition: { readonly reachable: readonly string[]; readonly unreachable: readonly string[] }
}

const KEEP = 20
/** Seconds of history behind each message rate (so bursts stay readable). */
const WINDOW = 10

/**
 * Collects what the dashboard shows from one node: its own view plus, for the overlay, each live
 * member's sessions (asked from that member's admin agent, short timeout).
 */
export class Collector {
  readonly #node: Swarm
  readonly #guarantees = new Map<string, string>()
  #counts = new Map<string, number>()
  /** The last WINDOW one-second buckets of counts, newest first: rates are averaged over them. */
  readonly #window: Array<{ ms: number; counts: Map<string, number> }> = []
  #rates: DashboardState['rates'] = []
  #last = { at: Date.now(), delivered: 0, sent: 0 }
  #transport = { delivered: 0, sent: 0 }
  readonly #deadLetters: Array<DashboardState['deadLetters'][number]> = []
  readonly #events: Array<DashboardState['events'][number]> = []
  readonly #peersOf = new Map<string, string[]>()
  readonly #off: Array<() => void> = []

  constructor(node: Swarm, protocols: readonly AnyProtocol[], onChange: () => void) {
    this.#node = node
    for (const p of protocols) for (const t of p.types) this.#guarantees.set(`${p.name}\u0000${t}`, p.messages[t]!.guarantee.join('+'))
    this.#off.push(node.system.inspect((e: InspectionEvent) => {
      if (e.type !== 'received') return
      const g = this.#guarantees.get(`${e.agent.type}\u0000${e.messageType}`) ?? 'unknown'
      this.#counts.set(g, (this.#counts.get(g) ?? 0) + 1)
    }))
    this.#off.push(node.system.deadLetters.on((d) => this.#deadLetter(d.envelope.to.type + '/' + d.envelope.to.id, d.envelope.type, d.reason)))
    this.#off.push(node.on('dead-letter', (d) => this.#deadLetter(`${d.envelope.to.type}/${d.envelope.to.id}`, d.envelope.type, d.reason)))
    for (const kind of ['member-up', 'member-suspect', 'member-down', 'member-left', 'partition', 'heal'] as const) {
      this.#off.push(
        node.on(kind as 'member-up', (m: { id?: string; unreachable?: readonly string[]; rejoined?: readonly string[] }) => {
          const member = m?.id ?? (m?.unreachable ?? m?.rejoined ?? []).join(', ')
          this.#push(this.#events, { at: Date.now(), kind, member })
          onChange()
        }),
      )
    }
  }

  #deadLetter(to: string, type: string, reason: string): void {
    this.#push(this.#deadLetters, { at: Date.now(), to, type, reason })
  }

  #push<T>(list: T[], item: T): void {
    list.unshift(item)
    if (list.length > KEEP) list.length = KEEP
  }

  /** Turns counters into rates; call about once a second. */
  tick(): void {
    const now = Date.now()
    const dt = Math.max(1, now - this.#last.at) / 1000
    this.#window.unshift({ ms: now - this.#last.at, counts: this.#counts })
    if (this.#window.length > WINDOW) this.#window.length = WINDOW
    this.#counts = new Map()
    const span = this.#window.reduce((a, b) => a + b.ms, 0) / 1000
    const sums = new Map<string, number>()
    for (const b of this.#window) for (const [g, n] of b.counts) sums.set(g, (sums.get(g) ?? 0) + n)
    this.#rates = [...sums].map(([guarantee, n]) => ({ channel: 'default', guarantee, perSecond: Math.round((10 * n) / Math.max(span, 1)) / 10 }))
    const m = this.#node.transport.metrics()
    const delivered = m.messagesDelivered ?? 0
    const sent = m.messagesSent ?? 0
    this.#transport = { delivered: Math.round((delivered - this.#last.delivered) / dt), sent: Math.round((sent - this.#last.sent) / dt) }
    this.#last = { at: now, delivered, sent }
  }

  /** Refreshes the overlay: asks each live member for its sessions (unanswered ones keep their last view). */
  async refreshOverlay(): Promise<void> {
    const me = this.#node.nodeId
    this.#peersOf.set(me, this.#node.transport.peers().map((p) => p.nodeId))
    const live = this.#node
      .members()
      .filter((m) => m.id !== me && (m.status === 'alive' || m.status === 'suspect') && this.#node.find(m.id, Admin.name) !== undefined)
    await Promise.all(
      live.map(async (m) => {
        try {
          const s = (await this.#node.ref(Admin, m.id).ask('status', {}, { timeout: 800 })) as { peers: string[] }
          this.#peersOf.set(m.id, s.peers)
        } catch {
          // a member that does not answer keeps its last known links until it is gone
        }
      }),
    )
  }

  state(): DashboardState {
    const members = this.#node.members().map((m) => ({ id: m.id, address: m.address, status: m.status, load: m.load }))
    const live = new Set(members.filter((m) => m.status === 'alive' || m.status === 'suspect').map((m) => m.id))
    const seen = new Set<string>()
    const edges: Array<[string, string]> = []
    for (const [a, peers] of this.#peersOf) {
      if (!live.has(a)) continue
      for (const b of peers) {
        if (!live.has(b)) continue
        const key = a < b ? `${a} ${b}` : `${b} ${a}`
        if (seen.has(key)) continue
        seen.add(key)
        edges.push(a < b ? [a, b] : [b, a])
      }
    }
    const agents: Record<string, number> = {}
    for (const m of members) if (live.has(m.id)) agents[m.id] = 0
    for (const a of this.#node.agents()) if (a.type !== Admin.name) agents[a.node] = (agents[a.node] ?? 0) + 1
    return {
      node: this.#node.nodeId,
      at: Date.now(),
      members,
      edges,
      agents,
      rates: this.#rates,
      transport: this.#transport,
      deadLetters: [...this.#deadLetters],
      events: [...this.#events],
      partition: this.#node.partition(),
    }
  }

  close(): void {
    for (const off of this.#off) off()
  }
}
