import type { AgentAddress, Envelope, Router } from '@murmur/actor-core'

/**
 * What the swarm needs from the local actor runtime. One adapter (see `swarm.ts`) maps it onto
 * `@murmur/actor-core`'s `ActorSystem`; keeping it narrow keeps the seam explicit.
 */
export interface Host {
  useRouter(router: Router): void
  /** An envelope from another node: validated and delivered (or replied / dead-lettered) locally. */
  deliver(envelope: Envelope, settle?: (envelope: Envelope) => void): void
  hosts(address: AgentAddress): boolean
  /** Route this local agent's local messages through the router as well (see `ActorSystem.routeThrough`). */
  routeThrough(address: AgentAddress, on: boolean): void
  /** Addresses of the agents this process hosts (top-level ones; children move with nothing). */
  local(): AgentAddress[]
  /** Start an agent here, fresh (`state` undefined) or restored from a snapshot. */
  activate(type: string, id: string, input: unknown, state: unknown, restored: boolean): Promise<void>
  /** Stop an agent for a move: its snapshot and the messages still in its mailbox, in order. */
  passivate(address: AgentAddress): Promise<{ state: unknown; pending: Envelope[] }>
  /** The saved state of an agent being restarted after a crash (its class's `persistence`), if any. */
  recover(type: string, id: string): Promise<unknown>
  /** Restart policy of the agent class with this protocol name (`never` | `on-failure` | `always`). */
  restartPolicy(type: string): string | undefined
  stop(): Promise<void>
}
