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
export {
  TransportError,
  MURMUR_ERROR,
  FrameTooLarge,
  MalformedFrame,
  HandshakeRequired,
  AuthenticationFailed,
  ClusterMismatch,
  ProtocolMismatch,
  HandshakeTimeout,
  UnknownChannel,
  PeerUnknown,
  PeerUnreachable,
  Overloaded,
  ConnectionRefused,
  NotStarted,
  Aborted,
} from './errors.js'
