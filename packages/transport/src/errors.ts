/**
 * Transport errors. They carry the same brand as `@murmur/actor-core`'s `MurmurError`, so
 * `err instanceof MurmurError` holds for them too, without this package depending on actors.
 */
export const MURMUR_ERROR = Symbol.for('murmur.error')

/** Base of every transport error: a stable `code`, optional `details`, serializable. */
export class TransportError extends Error {
  readonly [MURMUR_ERROR] = true
  readonly code: string
  readonly details: Readonly<Record<string, unknown>> | undefined

  constructor(code: string, message: string, details?: Readonly<Record<string, unknown>>, options?: ErrorOptions) {
    super(message, options)
    this.name = new.target.name
    this.code = code
    this.details = details
  }

  toJSON(): { name: string; code: string; message: string; details?: Readonly<Record<string, unknown>> } {
    return this.details === undefined
      ? { name: this.name, code: this.code, message: this.message }
      : { name: this.name, code: this.code, message: this.message, details: this.details }
  }
}

/** One class per condition; `code` is stable and is what tests and the cluster match on. */
function transportErrorClass(code: string) {
  return class extends TransportError {
    static readonly code = code
    constructor(message: string, details?: Readonly<Record<string, unknown>>, options?: ErrorOptions) {
      super(code, message, details, options)
    }
  }
}

/** A frame (or a reassembled chunked frame) is larger than the configured maximum. */
export class FrameTooLarge extends transportErrorClass('FRAME_TOO_LARGE') {}
/**
 * A frame nests arrays, maps or tags deeper than the limit (`maxNestingDepth`): refused before it
 * is decoded (cbor-x decodes recursively, and so may whatever handles the payload).
 */
export class FrameTooDeep extends transportErrorClass('FRAME_TOO_DEEP') {}
/** A frame holds more CBOR data items than the limit (`maxFrameItems`): refused before it is decoded. */
export class FrameTooManyItems extends transportErrorClass('FRAME_TOO_MANY_ITEMS') {}
/**
 * A peer sent more messages than its rate limit (`rateLimit`) lets through; counted
 * (`rateLimited`), reported once per limited burst. Best-effort excess is dropped, reliable
 * excess is not acknowledged (the sender resends it, and its window shrinks).
 */
export class RateLimited extends transportErrorClass('RATE_LIMITED') {}
/**
 * A peer's causal messages held back here (waiting for their causes) exceed the byte budget
 * (`maxHeldBytes`): one more that would wait is not accepted (not acknowledged; the sender
 * resends it later). Nothing already accepted is dropped.
 */
export class HoldBackFull extends transportErrorClass('HOLD_BACK_FULL') {}
/** A frame is not valid CBOR or does not have the shape of any frame type. */
export class MalformedFrame extends transportErrorClass('MALFORMED_FRAME') {}
/** A data frame arrived on a link whose handshake had not completed. */
export class HandshakeRequired extends transportErrorClass('HANDSHAKE_REQUIRED') {}
/** The peer's HMAC proof did not verify (wrong secret, or a replayed handshake). */
export class AuthenticationFailed extends transportErrorClass('AUTHENTICATION_FAILED') {}
/** The peer belongs to another cluster. */
export class ClusterMismatch extends transportErrorClass('CLUSTER_MISMATCH') {}
/** The peer speaks another protocol version. */
export class ProtocolMismatch extends transportErrorClass('PROTOCOL_MISMATCH') {}
/** The handshake did not complete in time. */
export class HandshakeTimeout extends transportErrorClass('HANDSHAKE_TIMEOUT') {}
/** An open link stayed silent for three heartbeat intervals; it is closed and redialled. */
export class HeartbeatTimeout extends transportErrorClass('HEARTBEAT_TIMEOUT') {}
/**
 * A peer resumed a session this node no longer has (it was forgotten): the peer must end its side
 * (handing back its unacked messages) and start afresh. `details.epoch` names the stale session.
 */
export class SessionLost extends transportErrorClass('SESSION_LOST') {}
/** A channel that is not configured on this node (at `send`, or announced by a peer's link). */
export class UnknownChannel extends transportErrorClass('UNKNOWN_CHANNEL') {}
/** No session with that node id. */
export class PeerUnknown extends transportErrorClass('PEER_UNKNOWN') {}
/** Nothing listens at the address (raised by connectors' `dial`). */
export class PeerUnreachable extends transportErrorClass('PEER_UNREACHABLE') {}
/** A connector cannot listen at the address asked (port taken, memory node already listening). */
export class AddressInUse extends transportErrorClass('ADDRESS_IN_USE') {}
/** The peer's buffer is over its hard limit, or `ready` waited past its deadline. */
export class Overloaded extends transportErrorClass('OVERLOADED') {}
/** The peer refused the connection for a reason it stated (duplicate link, unknown channel…). */
export class ConnectionRefused extends transportErrorClass('CONNECTION_REFUSED') {}
/** The transport is not started, or has been stopped. */
export class NotStarted extends transportErrorClass('NOT_STARTED') {}
/** The operation was aborted by its `AbortSignal`. */
export class Aborted extends transportErrorClass('ABORTED') {}
