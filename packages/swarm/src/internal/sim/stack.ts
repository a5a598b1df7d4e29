import { hyParView, type HyParViewEvent, type HyParViewInit, type HyParViewMsg, type HyParViewOptions, type HyParViewRequest, type HyParViewState } from '../../hyparview.js'
import { plumtree, type PlumtreeEvent, type PlumtreeMsg, type PlumtreeOptions, type PlumtreeRequest, type PlumtreeState } from '../../plumtree.js'
import type { Ctx, Effect, Input } from './machine.js'
import { Runner } from './machine.js'
import type { SimProcess } from './simulator.js'

/** Wire messages of the overlay stack, tagged by layer. */
export type StackMsg = { readonly l: 'hv'; readonly m: HyParViewMsg } | { readonly l: 'pt'; readonly m: PlumtreeMsg }
export type StackEvent = HyParViewEvent | PlumtreeEvent
export type StackRequest = { readonly layer: 'hv'; readonly req: HyParViewRequest } | { readonly layer: 'pt'; readonly req: PlumtreeRequest }

export interface StackOptions {
  readonly hyparview?: HyParViewOptions
  readonly plumtree?: PlumtreeOptions
}

const tagEffects = <M, O>(l: 'hv' | 'pt', effects: readonly Effect<M, O>[], wrap: (m: M) => StackMsg): Effect<StackMsg, O>[] =>
  effects.map((e) => (e.type === 'send' ? { type: 'send', to: e.to, msg: wrap(e.msg) } : e))

/**
 * HyParView with Plumtree on top, as one node: HyParView's neighbour events become Plumtree's
 * peer-up / peer-down, timers are routed by their `hv:` / `pt:` prefix. The swarm's transport runner
 * composes the two the same way.
 */
export class OverlayStack implements SimProcess<StackMsg, StackEvent> {
  readonly hv: Runner<HyParViewState, HyParViewMsg, HyParViewRequest, HyParViewEvent, HyParViewInit>
  readonly pt: Runner<PlumtreeState, PlumtreeMsg, PlumtreeRequest, PlumtreeEvent>
  readonly initialEffects: readonly Effect<StackMsg, StackEvent>[]

  constructor(ctx: () => Ctx, init: HyParViewInit, options: StackOptions = {}) {
    this.hv = new Runner(hyParView(options.hyparview), ctx, init)
    this.pt = new Runner(plumtree(options.plumtree), ctx, undefined)
    this.initialEffects = [...this.fromHv(this.hv.initialEffects), ...tagEffects('pt', this.pt.initialEffects, (m) => ({ l: 'pt', m }))]
  }

  links(): Iterable<string> {
    return this.hv.state.active
  }

  input(input: Input<StackMsg, unknown>): readonly Effect<StackMsg, StackEvent>[] {
    switch (input.type) {
      case 'recv':
        return input.msg.l === 'hv' ? this.toHv({ type: 'recv', from: input.from, msg: input.msg.m }) : this.toPt({ type: 'recv', from: input.from, msg: input.msg.m })
      case 'timer':
        return input.name.startsWith('hv:') ? this.toHv(input) : this.toPt(input)
      case 'peer-up':
      case 'peer-down':
        return this.toHv(input)
      case 'app': {
        const r = input.req as StackRequest
        return r.layer === 'hv' ? this.toHv({ type: 'app', req: r.req }) : this.toPt({ type: 'app', req: r.req })
      }
    }
  }

  private toHv(input: Input<HyParViewMsg, HyParViewRequest>): Effect<StackMsg, StackEvent>[] {
    return this.fromHv(this.hv.input(input))
  }

  private toPt(input: Input<PlumtreeMsg, PlumtreeRequest>): Effect<StackMsg, StackEvent>[] {
    return tagEffects('pt', this.pt.input(input), (m) => ({ l: 'pt', m }))
  }

  /** HyParView's effects, with each neighbour change also fed to Plumtree. */
  private fromHv(effects: readonly Effect<HyParViewMsg, HyParViewEvent>[]): Effect<StackMsg, StackEvent>[] {
    const out: Effect<StackMsg, StackEvent>[] = []
    for (const e of tagEffects('hv', effects, (m) => ({ l: 'hv', m }))) {
      out.push(e)
      if (e.type === 'emit') out.push(...this.toPt({ type: e.event.type === 'neighbor-up' ? 'peer-up' : 'peer-down', peer: e.event.peer }))
    }
    return out
  }
}
