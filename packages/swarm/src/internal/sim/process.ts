import type { Ctx, Effect, Machine, NodeId } from './machine.js'
import { Runner } from './machine.js'
import type { SimProcess } from './simulator.js'

/**
 * Wraps one machine as a simulated node. `links` reads the peers it holds connections to from its
 * state (none by default: a crash is then learned only by failed sends).
 */
export function machineProcess<S, M, A, O, I>(
  machine: Machine<S, M, A, O, I>,
  ctx: () => Ctx,
  init: I,
  links: (state: S) => Iterable<NodeId> = () => [],
): { proc: SimProcess<M, O> & { runner: Runner<S, M, A, O, I> }; effects: readonly Effect<M, O>[] } {
  const runner = new Runner(machine, ctx, init)
  return {
    proc: {
      runner,
      input: (input) => runner.input(input as Parameters<typeof runner.input>[0]),
      links: () => links(runner.state),
    },
    effects: runner.initialEffects,
  }
}
