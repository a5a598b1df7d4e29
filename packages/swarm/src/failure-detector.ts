import {
  createMembership,
  step,
  allMembers,
  type Member,
  type MembershipInit,
  type MembershipConfig,
  type MembershipEffect,
  type MembershipInput,
  type MembershipState,
} from './membership.js'

/**
 * The pluggable membership / failure-detection engine a swarm node runs. It owns its state and
 * turns inputs into effects; the swarm runs the effects. The default, {@link swim}, is a thin
 * stateful shell around the pure transitions of `membership.ts`.
 */
export interface FailureDetector {
  readonly name: string
  handle(input: MembershipInput): readonly MembershipEffect[]
  /** Every member known, tombstones included, sorted by id. */
  members(): readonly Member[]
}

/** What a failure detector factory receives from the node that runs it. */
export type FailureDetectorComponents = Omit<MembershipInit, 'config'>

export type FailureDetectorFactory = (components: FailureDetectorComponents) => FailureDetector

/**
 * SWIM: direct probe, indirect probe through k members, suspicion refuted by incarnation numbers,
 * piggybacked dissemination (see `membership.ts` for why SWIM).
 *
 * @example
 * await Swarm.start({ port: 7000, seeds: [], secret, agents, failureDetector: swim({ suspicionTimeout: 2000 }) })
 */
export function swim(config: Partial<MembershipConfig> = {}): FailureDetectorFactory {
  return (components) => {
    let state: MembershipState = createMembership({ ...components, config })
    return {
      name: 'swim',
      handle(input) {
        const t = step(state, input)
        state = t.state
        return t.effects
      },
      members: () => allMembers(state),
    }
  }
}
