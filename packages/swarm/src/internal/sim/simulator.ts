import { Heap } from './heap.js'
import type { Ctx, Effect, Input, NodeId } from './machine.js'
import { deriveSeed, prng, type Prng } from './prng.js'

/**
 * A node as the simulator sees it: something that takes an input and returns effects, and that
 * tells which peers hold a link (a connection) to it, so they notice its crash.
 */
export interface SimProcess<M, O> {
  input(input: Input<M, unknown>): readonly Effect<M, O>[]
  links(): Iterable<NodeId>
}

export interface SimOptions {
  readonly seed: number
  /** One-way delay of a message, uniform in [min, max] ms. Default 5..15. */
  readonly latency?: { readonly min: number; readonly max: number }
  /** Probability that a message is silently lost. Default 0. */
  readonly loss?: number
  /** Delay before a linked peer learns of a crash or of a link cut by a partition. Default 50 ms. */
  readonly detectDelay?: number
  /** Keep per-link FIFO order, as TCP does. Default true; off lets messages overtake each other. */
  readonly fifo?: boolean
}

export interface SimStats {
  sent: number
  delivered: number
  lost: number
}

interface Event {
  readonly at: number
  readonly seq: number
  readonly run: () => void
}

interface Slot<M, O> {
  proc: SimProcess<M, O>
  alive: boolean
  readonly rng: Prng
  readonly timers: Map<string, number>
}

/**
 * A tiny deterministic discrete-event simulator for protocol machines: virtual time, a seeded
 * network (latency, loss, per-link order), crashes and partitions. One process, no real timers,
 * so a run with the same seed yields the same history.
 *
 * @example
 * const sim = new Simulator<Msg, Ev>({ seed: 1 })
 * sim.add('a', (ctx) => machineProcess(machine, ctx, init))
 * sim.runFor(1_000)
 */
export class Simulator<M, O> {
  now = 0
  readonly stats: SimStats = { sent: 0, delivered: 0, lost: 0 }
  /** Called for every event a node emits. */
  onEmit: (node: NodeId, event: O) => void = () => {}
  /** Called for every message handed to the network (before loss). */
  onSend: (from: NodeId, to: NodeId, msg: M) => void = () => {}

  private readonly net: Prng
  private readonly queue = new Heap<Event>()
  private readonly slots = new Map<NodeId, Slot<M, O>>()
  private readonly lastArrival = new Map<string, number>()
  private group = new Map<NodeId, number>()
  private seq = 0
  private readonly latency: { readonly min: number; readonly max: number }
  private readonly loss: number
  private readonly detectDelay: number
  private readonly fifo: boolean

  constructor(readonly options: SimOptions) {
    this.net = prng(deriveSeed(options.seed, 'network'))
    this.latency = options.latency ?? { min: 5, max: 15 }
    this.loss = options.loss ?? 0
    this.detectDelay = options.detectDelay ?? 50
    this.fifo = options.fifo ?? true
  }

  /** Adds a node. `make` receives the node's context source and returns its process and first effects. */
  add(id: NodeId, make: (ctx: () => Ctx) => { proc: SimProcess<M, O>; effects: readonly Effect<M, O>[] }): void {
    const rng = prng(deriveSeed(this.options.seed, id))
    const ctx = (): Ctx => ({ self: id, now: this.now, rng })
    const made = make(ctx)
    const slot: Slot<M, O> = { proc: made.proc, alive: true, rng, timers: new Map() }
    this.slots.set(id, slot)
    this.apply(id, made.effects)
  }

  ids(): NodeId[] {
    return [...this.slots.keys()]
  }

  alive(id: NodeId): boolean {
    return this.slots.get(id)?.alive === true
  }

  aliveIds(): NodeId[] {
    return this.ids().filter((id) => this.alive(id))
  }

  process(id: NodeId): SimProcess<M, O> {
    const slot = this.slots.get(id)
    if (slot === undefined) throw new Error(`no node ${id}`)
    return slot.proc
  }

  /** Feeds an input to a live node now and carries out its effects. */
  input(id: NodeId, input: Input<M, unknown>): void {
    const slot = this.slots.get(id)
    if (slot === undefined || !slot.alive) return
    this.apply(id, slot.proc.input(input))
  }

  /** Runs `fn` at virtual time `at` (not before now). */
  at(at: number, fn: () => void): void {
    this.queue.push({ at: Math.max(at, this.now), seq: this.seq++, run: fn })
  }

  /** Stops a node for good: its timers and the messages to it vanish; its linked peers learn of it. */
  crash(id: NodeId): void {
    const slot = this.slots.get(id)
    if (slot === undefined || !slot.alive) return
    const linked = new Set(slot.proc.links())
    slot.alive = false
    for (const [other, s] of this.slots) {
      if (!s.alive) continue
      if (linked.has(other) || [...s.proc.links()].includes(id)) this.notifyDown(other, id)
    }
  }

  /**
   * Splits the network: nodes in different groups cannot reach each other (nodes not named form
   * one more group). Links that cross the cut are reported down at both ends.
   */
  partition(groups: readonly (readonly NodeId[])[]): void {
    this.group = new Map()
    groups.forEach((g, i) => g.forEach((id) => this.group.set(id, i + 1)))
    for (const [id, s] of this.slots) {
      if (!s.alive) continue
      for (const peer of s.proc.links()) if (!this.reachable(id, peer)) this.notifyDown(id, peer)
    }
  }

  heal(): void {
    this.group = new Map()
  }

  reachable(a: NodeId, b: NodeId): boolean {
    return (this.group.get(a) ?? 0) === (this.group.get(b) ?? 0)
  }

  /** Processes events up to and including virtual time `until`. */
  runUntil(until: number): void {
    for (;;) {
      const next = this.queue.peek()
      if (next === undefined || next.at > until) break
      this.queue.pop()
      this.now = next.at
      next.run()
    }
    this.now = Math.max(this.now, until)
  }

  runFor(ms: number): void {
    this.runUntil(this.now + ms)
  }

  /** Runs in steps of `step` ms until `done()` holds or `deadline` ms have passed; returns whether it held. */
  runWhile(done: () => boolean, deadline: number, step = 10): boolean {
    const end = this.now + deadline
    while (!done()) {
      if (this.now >= end) return false
      this.runUntil(Math.min(end, this.now + step))
    }
    return true
  }

  private notifyDown(node: NodeId, peer: NodeId): void {
    this.at(this.now + this.detectDelay, () => this.input(node, { type: 'peer-down', peer }))
  }

  private apply(id: NodeId, effects: readonly Effect<M, O>[]): void {
    const slot = this.slots.get(id)
    if (slot === undefined) return
    for (const e of effects) {
      if (!slot.alive) return
      switch (e.type) {
        case 'send':
          this.transmit(id, e.to, e.msg)
          break
        case 'set-timer': {
          const gen = (slot.timers.get(e.name) ?? 0) + 1
          slot.timers.set(e.name, gen)
          this.at(this.now + e.after, () => {
            if (slot.timers.get(e.name) !== gen) return
            slot.timers.delete(e.name)
            this.input(id, { type: 'timer', name: e.name })
          })
          break
        }
        case 'cancel-timer':
          if (slot.timers.has(e.name)) slot.timers.set(e.name, (slot.timers.get(e.name) ?? 0) + 1)
          break
        case 'emit':
          this.onEmit(id, e.event)
          break
      }
    }
  }

  private transmit(from: NodeId, to: NodeId, msg: M): void {
    this.stats.sent++
    this.onSend(from, to, msg)
    if (this.loss > 0 && this.net.next() < this.loss) {
      this.stats.lost++
      return
    }
    const { min, max } = this.latency
    let arrival = this.now + min + this.net.next() * (max - min)
    if (this.fifo) {
      const key = `${from}\u0000${to}`
      arrival = Math.max(arrival, this.lastArrival.get(key) ?? 0)
      this.lastArrival.set(key, arrival)
    }
    this.at(arrival, () => {
      if (!this.alive(to) || !this.reachable(from, to)) {
        // The sender's connection attempt fails, as a TCP connect or write would.
        this.stats.lost++
        if (this.alive(from)) this.notifyDown(from, to)
        return
      }
      this.stats.delivered++
      this.input(to, { type: 'recv', from, msg })
    })
  }
}
