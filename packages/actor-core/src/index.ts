export type { Guarantee } from './guarantee.js'
export { GUARANTEES, DEFAULT_GUARANTEE } from './guarantee.js'
export type { AgentAddress, TraceContext, Envelope, SerializedError, Router } from './envelope.js'
export { MurmurError, MURMUR_ERROR } from './errors.js'
