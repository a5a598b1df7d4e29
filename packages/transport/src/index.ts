export type {
  Guarantee,
  AbortOptions,
  Startable,
  PeerInfo,
  ChannelConfig,
  SendOptions,
  InboundMessage,
  Unacknowledged,
  Capacity,
  TransportEvents,
  Transport,
} from './transport.js'
export type { Link, LinkHandlers, ListenOptions, Connector, ConnectorComponents, ConnectorFactory } from './connector.js'
export type { Clock, TimerHandle } from './clock.js'
export { systemClock } from './clock.js'
export { uwsConnector } from './uws-connector.js'
export type { UwsConnectorInit, TlsInit } from './uws-connector.js'
export { createMemoryNetwork } from './memory-network.js'
export type {
  MemoryNetwork,
  MemoryNetworkInit,
  MemoryConnectorInit,
  PartitionOptions,
  LinkFaults,
  TraceEvent,
  TraceKind,
} from './memory-network.js'
export { AddressInUse } from './errors.js'
export {
  TransportError,
  MURMUR_ERROR,
  FrameTooLarge,
  FrameTooDeep,
  FrameTooManyItems,
  RateLimited,
  HoldBackFull,
  MalformedFrame,
  HandshakeRequired,
  AuthenticationFailed,
  ClusterMismatch,
  ProtocolMismatch,
  HandshakeTimeout,
  HeartbeatTimeout,
  SessionLost,
  UnknownChannel,
  PeerUnknown,
  PeerUnreachable,
  Overloaded,
  ConnectionRefused,
  NotStarted,
  Aborted,
} from './errors.js'
export { createTransport } from './create-transport.js'
export type { TransportInit, Logger } from './create-transport.js'
export type { RateLimit } from './rate-limit.js'
export type { ReconnectOptions } from './backoff.js'
export { createMemoryTransport } from './memory-transport.js'
export type { MemoryTransportInit } from './memory-transport.js'
export { createUwsTransport } from './uws-transport.js'
export type { UwsTransportInit } from './uws-transport.js'
export { CausalGroup } from './causal.js'
export { LatestWins } from './monotonic.js'
export { interposable, type Interposer } from './interpose.js'
