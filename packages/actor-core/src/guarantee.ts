/**
 * The delivery properties a message type may declare. They combine: `['reliable', 'fifo']`.
 * The same union is declared in `@murmur/transport` (which knows nothing of actors); both must
 * stay identical, since the guarantee travels with each envelope on the wire.
 */
export type Guarantee =
  | 'best-effort'
  | 'reliable'
  | 'fifo'
  | 'causal'
  | 'monotonic'
  | 'broadcast'
  | 'atomic'
  | 'gossip'

export const GUARANTEES: readonly Guarantee[] = [
  'best-effort',
  'reliable',
  'fifo',
  'causal',
  'monotonic',
  'broadcast',
  'atomic',
  'gossip',
]

/** What a message type gets when it declares nothing. */
export const DEFAULT_GUARANTEE: readonly Guarantee[] = ['reliable', 'fifo']
