/**
 * `@murmur/swarm`: the cluster. Start nodes with {@link Swarm.start}, spawn agents anywhere and
 * address them by id from any node.
 */
export { Swarm, type AnyAgentClass, type SwarmOptions, type SwarmSpawnOptions, type AgentLocation, type MemberInfo, type SwarmEvents, type EngineTimings } from './swarm.js'
export { JoinTimeout, PlacementFailed, SpawnFailed, SwarmStopped, UnknownAgentType } from './errors.js'
export type { Persistence } from './persistence.js'
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
export type { Machine, Step, Effect, Input, Ctx, NodeId } from './internal/sim/machine.js'
export { Runner } from './internal/sim/machine.js'
export { prng, deriveSeed, type Prng } from './internal/sim/prng.js'
export { Simulator, type SimOptions, type SimProcess, type SimStats } from './internal/sim/simulator.js'
export * as simulations from './internal/sim/overlay.js'
export { hyParView, HYPARVIEW_TICK, HYPARVIEW_NEIGHBOR, type HyParViewOptions, type HyParViewMsg, type HyParViewEvent, type HyParViewRequest, type HyParViewState, type HyParViewInit } from './hyparview.js'
export { plumtree, PLUMTREE_FLUSH, PLUMTREE_GC, type PlumtreeOptions, type PlumtreeMsg, type PlumtreeEvent, type PlumtreeRequest, type PlumtreeState, type MessageId } from './plumtree.js'
export { causalBroadcast, happenedBefore, type CausalOptions, type CausalMsg, type CausalEvent, type CausalRequest, type CausalState, type VectorClock } from './causal-broadcast.js'
export * as crdtMap from './crdt-map.js'
export { crdtMapMachine, type CrdtMapState, type CrdtMapMsg, type CrdtMapRequest, type CrdtReplica, type CrdtMapOptions, type Change as CrdtChange, type Semantics as CrdtSemantics } from './crdt-map.js'
export { atomicLog, memberId, nodeOfMember, NoQuorum, refusal, ATOMIC_ELECTION, ATOMIC_TICK, type AtomicLogOptions, type AtomicLogInit, type AtomicLogMsg, type AtomicLogEvent, type AtomicLogRequest, type AtomicLogState, type LogEntry, type Role } from './atomic-log.js'
export { fullMesh, clientServer, hyparview, chooseTopology, hyparviewSizes, neighborsOf, TOPOLOGY_THRESHOLDS, type Topology, type TopologyFactory, type TopologyKind, type TopologyComponents, type ClientServerOptions, type NeighborEvent, type OverlayState } from './topology.js'
export { Driver, type DriverIo } from './internal/sim/driver.js'
export { partitionView, partitionChange, hasQuorum, coordinatorOf, type PartitionView, type PartitionChange } from './partition.js'
export { type ClusterEvents, type TopologyOption, type ServiceTimings } from './cluster-services.js'
export { SharedState, type SharedStateEvents } from './gossip-state.js'
export { AtomicChannel, type AtomicEvents, type AtomicWire } from './atomic-broadcast.js'
export { Group } from './groups.js'
export { cuttableTransport, type CuttableTransport } from './cut-transport.js'
