import type { Ctx, Effect } from '../src/internal/sim/machine.js'
import { prng } from '../src/internal/sim/prng.js'

/** A context for stepping a machine by hand. */
export const ctxOf = (self: string, now = 0, seed = 1): Ctx => ({ self, now, rng: prng(seed) })

export const sends = <M, O>(effects: readonly Effect<M, O>[]): { to: string; msg: M }[] =>
  effects.flatMap((e) => (e.type === 'send' ? [{ to: e.to, msg: e.msg }] : []))

export const emits = <M, O>(effects: readonly Effect<M, O>[]): O[] => effects.flatMap((e) => (e.type === 'emit' ? [e.event] : []))

export const timers = <M, O>(effects: readonly Effect<M, O>[]): string[] => effects.flatMap((e) => (e.type === 'set-timer' ? [e.name] : []))
