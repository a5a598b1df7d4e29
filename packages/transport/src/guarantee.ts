import { Flag } from './frame.js'
import type { Guarantee } from './transport.js'

const bits: Record<Guarantee, number> = {
  'best-effort': Flag.bestEffort,
  reliable: Flag.reliable,
  fifo: Flag.fifo,
  causal: Flag.causal,
  monotonic: Flag.monotonic,
  broadcast: Flag.broadcast,
  atomic: Flag.atomic,
  gossip: Flag.gossip,
}
const order = Object.keys(bits) as Guarantee[]

/**
 * A message's guarantees as the bits that travel with it. A message is reliable unless it says
 * `best-effort` (so `['fifo']` alone is reliable fifo), and `causal` is always reliable: a hold-back
 * queue waiting for a lost message would wait for ever.
 */
export function flagsOf(guarantee: readonly Guarantee[], monotonicChannel: boolean): number {
  let flags = monotonicChannel ? Flag.monotonic : 0
  for (let i = 0; i < guarantee.length; i++) flags |= bits[guarantee[i] as Guarantee] ?? 0
  if (flags & Flag.causal || !(flags & Flag.bestEffort)) flags = (flags | Flag.reliable) & ~Flag.bestEffort
  return flags
}

const cache = new Map<number, readonly Guarantee[]>()

/** The guarantee list for received flags; one frozen array per distinct value, so receiving allocates none. */
export function guaranteeOf(flags: number): readonly Guarantee[] {
  let g = cache.get(flags)
  if (!g) {
    g = Object.freeze(order.filter((name) => flags & bits[name]))
    cache.set(flags, g)
  }
  return g
}
