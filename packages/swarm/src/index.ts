/**
 * `@murmur/swarm`: the cluster. Start nodes with {@link Swarm.start}, spawn agents anywhere and
 * address them by id from any node.
 */
export { Swarm, type SwarmOptions, type SwarmSpawnOptions, type AgentLocation, type MemberInfo, type SwarmEvents, type EngineTimings } from './swarm.js'
export { PlacementFailed, SpawnFailed, SwarmStopped, UnknownAgentType } from './errors.js'
export {
  rendezvous,
  local,
  leastLoaded,
  pinned,
  capability,
  homeOf,
  strategyByName,
  rendezvousPick,
  placementKey,
  type PlacementStrategy,
  type PlacementNode,
  type PlacementContext,
} from './placement.js'
export {
  createMembership,
  step as membershipStep,
  supersedes,
  liveMembers,
  allMembers,
  DEFAULT_MEMBERSHIP_CONFIG,
  type Member,
  type MemberMeta,
  type MemberStatus,
  type MemberUpdate,
  type MembershipConfig,
  type MembershipEffect,
  type MembershipEvent,
  type MembershipInput,
  type MembershipInit,
  type MembershipMessage,
  type MembershipState,
} from './membership.js'
export { swim, type FailureDetector, type FailureDetectorFactory, type FailureDetectorComponents } from './failure-detector.js'
export {
  merge as mergeDirectory,
  compareEntries,
  digest,
  differingBuckets,
  entriesIn,
  directoryKey,
  DIGEST_BUCKETS,
  type Directory,
  type DirectoryEntry,
} from './directory.js'
