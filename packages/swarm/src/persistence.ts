import type { AgentAddress } from '@murmur/actor-core'

/**
 * The persistence hook an agent class may declare (`static persistence`): when the node hosting
 * one of its agents crashes and the agent is restarted elsewhere (its restart policy allows it),
 * the new home calls `load` and, when it returns a state, restores the agent from it (`restore()`)
 * instead of starting it fresh. Saving is the agent's business, where it wants (a database, a file,
 * the cluster's gossip state): the swarm only asks on recovery. Moves on join and leave do not
 * call it: they carry the live state with them.
 *
 * @example
 * class AccountAgent extends Agent<typeof Account> implements Handlers<typeof Account> {
 *   static protocol = Account
 *   static persistence: Persistence = { load: ({ id }) => db.get(`account/${id}`) }
 *   balance = 0
 *   async deposit({ n }: Payload<typeof Account, 'deposit'>) {
 *     this.balance += n
 *     await db.put(`account/${this.id}`, this.snapshot())
 *   }
 * }
 */
export interface Persistence {
  /** The last saved state of `address`, or `undefined` to start fresh. May be async. */
  load(address: AgentAddress): unknown
}
