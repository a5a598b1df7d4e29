import { createHmac, randomBytes } from 'node:crypto'
import { Encoder } from 'cbor-x'

/**
 * The transport's wire format as an outsider writes it: enough to play a peer by hand (an honest
 * one that knows the secret, or a compromised one) without importing the transport's internals.
 * It follows `@murmur/transport`'s `frame.ts` / `handshake.ts`; a change of protocol version there
 * shows up here as failing handshakes, which the fuzz tests check for.
 */
export const FrameType = { hello: 0, welcome: 1, proof: 2, reject: 3, data: 4, ping: 5, chunk: 6, ack: 7 } as const
export const PROTOCOL_VERSION = 2
export const Flag = { bestEffort: 1, reliable: 2, fifo: 4, causal: 8, monotonic: 16 } as const

const encoder = new Encoder({})

export const encode = (frame: unknown): Uint8Array => encoder.encode(frame)

/** Decodes, or `undefined` for anything that is not CBOR. */
export function tryDecode(bytes: Uint8Array): unknown {
  try {
    return encoder.decode(bytes)
  } catch {
    return undefined
  }
}

export interface PeerIdentity {
  readonly cluster: string
  readonly nodeId: string
  readonly incarnation: number
  readonly address: string
  readonly secret: string | Uint8Array
}

export interface HelloSent {
  readonly identity: PeerIdentity
  readonly channel: string
  readonly lane: number
  readonly nonce: Uint8Array
  readonly bytes: Uint8Array
}

export function hello(identity: PeerIdentity, channel = 'control', lane = 0, nonce: Uint8Array = new Uint8Array(randomBytes(16))): HelloSent {
  const frame = [FrameType.hello, PROTOCOL_VERSION, identity.cluster, identity.nodeId, identity.incarnation, identity.address, channel, lane, nonce]
  return { identity, channel, lane, nonce, bytes: encode(frame) }
}

/**
 * The dialer's PROOF for a WELCOME (decoded frame), or `undefined` when the WELCOME is not one.
 * The proof is computed even with a wrong secret: that is what an impostor would send.
 */
export function proofFor(sent: HelloSent, welcome: unknown): Uint8Array | undefined {
  if (!Array.isArray(welcome) || welcome[0] !== FrameType.welcome || welcome.length !== 10) return undefined
  const [, , , nodeId, incarnation, address, nonceB] = welcome as [number, number, string, string, number, string, Uint8Array]
  const id = sent.identity
  // The session claim (transport's session epochs): one stable epoch per identity, claiming no
  // earlier session of the node's, so a reconnect of the same identity resumes its session.
  const epoch = sessionEpoch(id)
  const transcript = JSON.stringify(['dialer', id.cluster, id.nodeId, id.incarnation, id.address, sent.channel, sent.lane, nodeId, incarnation, address, epoch, 0])
  const mac = createHmac('sha256', id.secret).update(transcript).update(sent.nonce).update(nonceB).digest()
  return encode([FrameType.proof, new Uint8Array(mac), epoch, 0])
}

function sessionEpoch(id: PeerIdentity): number {
  let h = 0x811c9dc5
  for (const c of `${id.nodeId}@${id.incarnation}`) h = Math.imul(h ^ c.charCodeAt(0), 0x01000193) >>> 0
  return h + 1
}

/** Is this a frame the transport would accept as well formed (a CBOR array of a known type)? */
export function isKnownFrame(bytes: Uint8Array): boolean {
  const v = tryDecode(bytes)
  return Array.isArray(v) && typeof v[0] === 'number' && Number.isInteger(v[0]) && v[0] >= 0 && v[0] <= FrameType.ack
}
