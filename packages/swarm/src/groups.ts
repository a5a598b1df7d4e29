import type { AgentAddress, AnyProtocol, Ref } from '@murmur/actor-core'
import type { ClusterServices } from './cluster-services.js'

/**
 * A named group of agents across the cluster (`node.group(name)`). Membership is replicated
 * state (an add-wins map, so a join concurrent with a leave of another agent never loses either);
 * `broadcast` rides the Plumtree tree once and each node tells the members it hosts.
 *
 * @example
 * const team = node.group('reviewers')
 * team.join(node.ref(ReviewerAgent, 'r-1'))
 * team.broadcast('review', { doc: 'd-7' })   // every member, wherever it runs
 * team.members()                             // [{ type: 'reviewer', id: 'r-1' }, …]
 */
export class Group {
  readonly #services: ClusterServices

  constructor(
    readonly name: string,
    services: ClusterServices,
  ) {
    this.#services = services
  }

  /** Adds an agent (a ref or an address) to the group. */
  join(agent: Ref<AnyProtocol> | AgentAddress): void {
    this.#services.groupJoin(this.name, addressOf(agent))
  }

  leave(agent: Ref<AnyProtocol> | AgentAddress): void {
    this.#services.groupLeave(this.name, addressOf(agent))
  }

  /** The members as this node's replica knows them. */
  members(): AgentAddress[] {
    return this.#services.groupMembers(this.name)
  }

  /** Tells `type` / `payload` to every member; members whose protocol lacks `type` are skipped. */
  broadcast(type: string, payload: unknown): void {
    this.#services.groupBroadcast(this.name, type, payload)
  }

  /** This side's coordinator for the group (see `node.coordinator`). */
  coordinator(): string | undefined {
    return this.#services.coordinator(this.name)
  }
}

const addressOf = (a: Ref<AnyProtocol> | AgentAddress): AgentAddress => ('address' in a ? { type: a.address.type, id: a.address.id } : { type: a.type, id: a.id })
