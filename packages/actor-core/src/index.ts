export type { Guarantee } from './guarantee.js'
export { GUARANTEES, DEFAULT_GUARANTEE } from './guarantee.js'
export type { AgentAddress, TraceContext, Envelope, SerializedError, Router } from './envelope.js'
export {
  MurmurError, MURMUR_ERROR, registerErrorClass, fromJSON, serializeError,
  AgentNotFound, AskTimeout, SchemaViolation, UnknownMessageType, MailboxFull, AgentStopped,
  DuplicateAgentId, HandlerFailed, AskAborted, SystemStopped, ReservedMessageType,
} from './errors.js'
export type { MurmurErrorClass } from './errors.js'
export { message } from './message.js'
export type { MessageDef, MessageOptions } from './message.js'
export { protocol, RESERVED_TYPES } from './protocol.js'
export type { Protocol, AnyProtocol, MessageDefs, MessageType, Payload, Reply, AskType } from './protocol.js'
export type { Ref, AskOptions, Cancellable } from './ref.js'
export { Agent } from './agent.js'
export type { AgentClass, Handlers, SpawnOptions } from './agent.js'
export { ActorSystem } from './actor-system.js'
export type { ActorSystemOptions, StopOptions, Handoff, Logger } from './actor-system.js'
export type { MailboxOptions, Overflow } from './mailbox.js'
export { DEFAULT_SUPERVISION, decide, resolveSupervision } from './supervision.js'
export type { RestartPolicy, SupervisionStrategy, Backoff, SupervisionOptions, Supervision, Exit, Decision } from './supervision.js'
export { DeadLetters } from './dead-letters.js'
export type { DeadLetter, DeadLetterReason } from './dead-letters.js'
export type { InspectionEvent, InspectionObserver, StopReason } from './inspection.js'
