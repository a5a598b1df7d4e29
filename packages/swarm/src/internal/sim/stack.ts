import type { HyParViewOptions } from '../../hyparview.js'
import { plumtree, type PlumtreeEvent, type PlumtreeMsg, type PlumtreeOptions, type PlumtreeRequest, type PlumtreeState } from '../../plumtree.js'
import { hyparview, neighborsOf, type NeighborEvent, type OverlayInit, type OverlayMsg, type OverlayRequest, type OverlayState, type TopologyFactory } from '../../topology.js'
import type { Ctx, Effect, Input } from './machine.js'
import { Runner } from './machine.js'
import type { SimProcess } from './simulator.js'

/** Wire messages of the overlay stack, tagged by layer. */
export type StackMsg = { readonly l: 'ov'; readonly m: OverlayMsg } | { readonly l: 'pt'; readonly m: PlumtreeMsg }
export type StackEvent = NeighborEvent | PlumtreeEvent
export type StackRequest = { readonly layer: 'ov'; readonly req: OverlayRequest } | { readonly layer: 'pt'; readonly req: PlumtreeRequest }

export interface StackOptions {
  /** The topology; HyParView with `hyparview` options by default. */
  readonly topology?: TopologyFactory
  readonly hyparview?: HyParViewOptions
  readonly plumtree?: PlumtreeOptions
}

const tagEffects = <M, O>(effects: readonly Effect<M, O>[], wrap: (m: M) => StackMsg): Effect<StackMsg, O>[] =>
  effects.map((e) => (e.type === 'send' ? { type: 'send', to: e.to, msg: wrap(e.msg) } : e))

/**
 * A topology's overlay machine with Plumtree on top, as one node: the overlay's neighbour events
 * become Plumtree's peer-up / peer-down, timers are routed by their `pt:` prefix. The swarm's
 * transport runner composes the two the same way.
 */
export class OverlayStack implements SimProcess<StackMsg, StackEvent> {
  readonly ov: Runner<OverlayState, OverlayMsg, OverlayRequest, NeighborEvent, OverlayInit>
  readonly pt: Runner<PlumtreeState, PlumtreeMsg, PlumtreeRequest, PlumtreeEvent>
  readonly initialEffects: readonly Effect<StackMsg, StackEvent>[]

  constructor(ctx: () => Ctx, init: OverlayInit, options: StackOptions = {}) {
    const topology = (options.topology ?? hyparview(options.hyparview))({ self: ctx().self })
    this.ov = new Runner(topology.machine, ctx, init)
    this.pt = new Runner(plumtree(options.plumtree), ctx, undefined)
    this.initialEffects = [...this.fromOv(this.ov.initialEffects), ...tagEffects(this.pt.initialEffects, (m) => ({ l: 'pt', m }))]
  }

  neighbors(): readonly string[] {
    return neighborsOf(this.ov.state)
  }

  links(): Iterable<string> {
    return this.neighbors()
  }

  input(input: Input<StackMsg, unknown>): readonly Effect<StackMsg, StackEvent>[] {
    switch (input.type) {
      case 'recv':
        return input.msg.l === 'ov' ? this.toOv({ type: 'recv', from: input.from, msg: input.msg.m }) : this.toPt({ type: 'recv', from: input.from, msg: input.msg.m })
      case 'timer':
        return input.name.startsWith('pt:') ? this.toPt(input) : this.toOv(input)
      case 'peer-up':
      case 'peer-down':
        return this.toOv(input)
      case 'app': {
        const r = input.req as StackRequest
        return r.layer === 'ov' ? this.toOv({ type: 'app', req: r.req }) : this.toPt({ type: 'app', req: r.req })
      }
    }
  }

  private toOv(input: Input<OverlayMsg, OverlayRequest>): Effect<StackMsg, StackEvent>[] {
    return this.fromOv(this.ov.input(input))
  }

  private toPt(input: Input<PlumtreeMsg, PlumtreeRequest>): Effect<StackMsg, StackEvent>[] {
    return tagEffects(this.pt.input(input), (m) => ({ l: 'pt', m }))
  }

  /** The overlay's effects, with each neighbour change also fed to Plumtree. */
  private fromOv(effects: readonly Effect<OverlayMsg, NeighborEvent>[]): Effect<StackMsg, StackEvent>[] {
    const out: Effect<StackMsg, StackEvent>[] = []
    for (const e of tagEffects(effects, (m) => ({ l: 'ov', m }))) {
      out.push(e)
      if (e.type === 'emit') out.push(...this.toPt({ type: e.event.type === 'neighbor-up' ? 'peer-up' : 'peer-down', peer: e.event.peer }))
    }
    return out
  }
}
