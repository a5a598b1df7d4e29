import type { AnyProtocol } from '@murmur/actor-core'
import type { SwarmOptions } from '@murmur/swarm'

/**
 * `Swarm.start({ agents })` is typed `AgentClass<any, any>[]`, which no concrete agent class
 * satisfies today (`Handlers<any>` turns into a string index signature). One cast here, until
 * the swarm package widens that type; every other place stays typed.
 */
export function agentList(...classes: ReadonlyArray<{ readonly protocol: AnyProtocol }>): SwarmOptions['agents'] {
  return classes as unknown as SwarmOptions['agents']
}
