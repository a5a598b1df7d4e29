// MURMUR_ERROR is imported for the declaration emit of the classes below (their base brands with it).
import { MURMUR_ERROR, MurmurError, registerErrorClass } from '@murmur/actor-core'

/** One error class per condition, each with its stable code, registered to cross nodes as itself. */
function swarmError(code: string) {
  const cls = class extends MurmurError {
    static readonly code = code
    constructor(message: string, details?: Readonly<Record<string, unknown>>, options?: ErrorOptions) {
      super(code, message, details, options)
    }
  }
  registerErrorClass(cls)
  return cls
}

/** No live node qualifies for an agent under its placement strategy (e.g. no node has the tag). */
export class PlacementFailed extends swarmError('PLACEMENT_FAILED') {}
/** A remote spawn or move got no answer in time, or its node left before answering. */
export class SpawnFailed extends swarmError('SPAWN_FAILED') {}
/** `joined()` waited its `timeout` and no member answered (the seeds are down, unreachable, or refuse this node). */
export class JoinTimeout extends swarmError('JOIN_TIMEOUT') {}
/** The swarm node is stopping or stopped. */
export class SwarmStopped extends swarmError('SWARM_STOPPED') {}
/** The agent class (protocol name) is not among the node's `agents`. */
export class UnknownAgentType extends swarmError('UNKNOWN_AGENT_TYPE') {}
