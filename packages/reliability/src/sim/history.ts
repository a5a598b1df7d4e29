/**
 * What a simulated (or real) cluster run did, as a flat list of events: the checker's only input.
 * Nodes are named `name@incarnation`, so a restarted node is a new process to the checker.
 */
export type Kind = 'reliable-fifo' | 'reliable-causal' | 'monotonic' | 'best-effort'

export const isReliable = (k: Kind): boolean => k === 'reliable-fifo' || k === 'reliable-causal'

/** A vector clock over `name@incarnation`, for the causal rule. */
export type VClock = Readonly<Record<string, number>>

export type HistoryEvent =
  /** A node (incarnation) started or ended (crash, leave; `how` unset: either). */
  | { readonly t: 'up' | 'down'; readonly at: number; readonly node: string; readonly how?: 'crash' | 'leave' }
  /**
   * What a node life observes of another node (by name): declared down (`alive: false`) or up
   * again. A split brain is two lives that held each other down at some point (see the checker).
   */
  | { readonly t: 'view'; readonly at: number; readonly node: string; readonly peer: string; readonly alive: boolean }
  /** A fault the plan injected, for the trace. */
  | { readonly t: 'fault'; readonly at: number; readonly what: string }
  /** Node life `node` handed agent `id` (its state and mailbox) to node `to` (by name). */
  | { readonly t: 'moved'; readonly at: number; readonly node: string; readonly id: string; readonly to: string }
  /** Node life `node` activated agent `id`: spawned, handed over, or restarted fresh. */
  | { readonly t: 'activated'; readonly at: number; readonly node: string; readonly id: string; readonly reason: 'spawn' | 'handoff' | 'restart' }
  /**
   * A message the transport accepted (send did not throw). `seq` counts per (from, to, key). `to`
   * is a node, or `agent:<id>` for a message to an agent, which the cluster must route to wherever
   * the agent lives: it must be handled unless its sender died.
   */
  | { readonly t: 'send'; readonly at: number; readonly id: string; readonly from: string; readonly to: string; readonly kind: Kind; readonly key: string; readonly seq: number; readonly vc?: VClock }
  | { readonly t: 'deliver'; readonly at: number; readonly id: string; readonly node: string; readonly from: string; readonly kind: Kind; readonly key: string; readonly seq: number; readonly vc?: VClock }
  /** The sender's transport handed an unacknowledged message back (`peer-down`). */
  | { readonly t: 'returned'; readonly at: number; readonly id: string; readonly node: string }
  /** An atomic broadcast delivered at `node`, at log position `index`. */
  | { readonly t: 'adeliver'; readonly at: number; readonly node: string; readonly index: number; readonly id: string }
  /** The final state of a live node: the agents it hosts and its directory, canonically printed. */
  | { readonly t: 'final'; readonly at: number; readonly node: string; readonly hosting?: readonly string[]; readonly directory?: string }
  /** Faults over, cluster healed and quiet: from here on, liveness rules apply. */
  | { readonly t: 'healed'; readonly at: number }

/** Collects a run's history. */
export class Recorder {
  readonly events: HistoryEvent[] = []
  #closed = false
  push(e: HistoryEvent): void {
    if (!this.#closed) this.events.push(e)
  }
  /** Ignore everything from now on (the shutdown after a run). */
  close(): void {
    this.#closed = true
  }
}

/** A short, stable digest of a history: equal digests mean the same run. */
export function digest(events: readonly HistoryEvent[]): string {
  let h = 0x811c9dc5
  for (const e of events) {
    const s = JSON.stringify(e)
    for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193) >>> 0
  }
  return h.toString(16).padStart(8, '0')
}

/**
 * The events that mention any of `ids` (or a node of theirs), plus every fault (or those
 * `keepFault` keeps, where a run records many observations as faults): a short trace.
 */
export function traceOf(events: readonly HistoryEvent[], ids: readonly string[], limit = 40, keepFault: (what: string) => boolean = () => true): string[] {
  const wanted = new Set(ids)
  const lines: string[] = []
  for (const e of events) {
    const mentions = ('id' in e && wanted.has(e.id)) || (e.t === 'fault' && keepFault(e.what)) || e.t === 'up' || e.t === 'down' || e.t === 'healed'
    if (!mentions) continue
    const { t, at, ...rest } = e
    lines.push(`${String(Math.round(at)).padStart(7)} ${t.padEnd(8)} ${JSON.stringify(rest)}`)
  }
  return lines.length > limit ? [...lines.slice(0, limit / 2), `… ${lines.length - limit} more …`, ...lines.slice(-limit / 2)] : lines
}
