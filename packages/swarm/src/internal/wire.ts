import type { Envelope, SerializedError } from '@murmur/actor-core'
import type { MembershipMessage } from '../membership.js'
import type { DirectoryEntry } from '../directory.js'

/** The control channel: membership, directory gossip, anti-entropy. */
export const CONTROL = 'control'

/** An agent's state on the move. */
export interface Moving {
  readonly type: string
  readonly id: string
  readonly version: number
  readonly placement: string
  readonly input: unknown
  /** `undefined` for a fresh activation (spawn), else what `snapshot()` returned. */
  readonly state: unknown
  readonly restored: boolean
  /** Messages that were in the agent's mailbox, not yet handled, in order. */
  readonly pending: readonly Envelope[]
}

/**
 * Everything swarm nodes say to each other. Short keys: these ride on every message.
 * - `m`: membership (SWIM), `d`: directory entries, `ae`/`aer`: anti-entropy digest and answer;
 * - `e`: an envelope (`o` the node that first sent it, `h` hops so far);
 * - `a`: activate an agent here (a remote spawn, or a handoff with its state), `aa` its answer.
 */
export type Wire =
  | { readonly k: 'm'; readonly m: MembershipMessage }
  | { readonly k: 'd'; readonly e: readonly DirectoryEntry[] }
  | { readonly k: 'ae'; readonly d: readonly number[] }
  | { readonly k: 'aer'; readonly e: readonly DirectoryEntry[]; readonly b: readonly number[] }
  | { readonly k: 'e'; readonly e: Envelope; readonly o: string; readonly h: number }
  | { readonly k: 'a'; readonly c: number; readonly a: Moving }
  | { readonly k: 'aa'; readonly c: number; readonly error?: SerializedError }

export function isWire(x: unknown): x is Wire {
  return typeof x === 'object' && x !== null && typeof (x as { k?: unknown }).k === 'string'
}
