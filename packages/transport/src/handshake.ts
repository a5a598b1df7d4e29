import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { AuthenticationFailed, ClusterMismatch, ProtocolMismatch, type TransportError } from './errors.js'
import { FrameType, PROTOCOL_VERSION, expect, isBytes, isUint } from './frame.js'
import type { PeerInfo } from './transport.js'

/**
 * The link handshake, as pure functions over frames. Three frames:
 *
 *   dialer   → HELLO   { version, cluster, id, incarnation, address, channel, lane, nonceA }
 *   acceptor → WELCOME { version, cluster, id, incarnation, address, nonceB, proofB, epoch, claim }
 *   dialer   → PROOF   { proofA, epoch, claim }
 *
 * `proofB = HMAC(secret, 'acceptor' ‖ transcript ‖ nonceA ‖ nonceB)` and
 * `proofA = HMAC(secret, 'dialer' ‖ transcript ‖ nonceA ‖ nonceB)`, where the transcript holds both
 * identities, the lane, and the sender's session claim (epochs, see `reconcile`). The secret never crosses the
 * wire; each side's nonce is fresh, so a recorded WELCOME or PROOF replayed on another link does
 * not verify. The dialer trusts the link once it checked `proofB`; the acceptor once it checked
 * `proofA`. Until then no data frame is accepted on the link.
 */
export interface LocalIdentity {
  readonly cluster: string
  readonly nodeId: string
  readonly incarnation: number
  readonly address: string
  readonly secret: string | Uint8Array
}

/** Which lane of which channel a link carries. `control` is the control channel's only lane. */
export interface LaneRef {
  readonly channel: string
  readonly lane: number
}

export interface Hello extends PeerInfo, LaneRef {
  readonly version: number
  readonly cluster: string
  readonly nonce: Uint8Array
}

export interface Welcome extends PeerInfo {
  readonly version: number
  readonly cluster: string
  readonly nonce: Uint8Array
  readonly proof: Uint8Array
  readonly session: SessionClaim
}

/**
 * What a side says about its session with the other: its own session epoch (random, new with
 * every session object) and the peer's epoch it is synchronised with (0: none yet). See
 * `reconcile` in `session.ts`. Covered by the HMAC like everything else in the handshake.
 */
export interface SessionClaim {
  readonly epoch: number
  readonly claim: number
}

export const NONCE_BYTES = 16

export function freshNonce(): Uint8Array {
  return new Uint8Array(randomBytes(NONCE_BYTES))
}

export function helloFrame(local: LocalIdentity, lane: LaneRef, nonce: Uint8Array): unknown[] {
  return [FrameType.hello, PROTOCOL_VERSION, local.cluster, local.nodeId, local.incarnation, local.address, lane.channel, lane.lane, nonce]
}

export function parseHello(f: readonly unknown[]): Hello {
  expect(f.length === 9, 'hello length')
  const [, version, cluster, nodeId, incarnation, address, channel, lane, nonce] = f
  expect(isUint(version) && typeof cluster === 'string' && typeof nodeId === 'string' && isUint(incarnation), 'hello identity')
  expect(typeof address === 'string' && typeof channel === 'string' && isUint(lane) && isBytes(nonce) && nonce.length === NONCE_BYTES, 'hello lane')
  return { version, cluster, nodeId, incarnation, address, channel, lane, nonce }
}

export function parseWelcome(f: readonly unknown[]): Welcome {
  expect(f.length === 10, 'welcome length')
  const [, version, cluster, nodeId, incarnation, address, nonce, proof, epoch, claim] = f
  expect(isUint(version) && typeof cluster === 'string' && typeof nodeId === 'string' && isUint(incarnation), 'welcome identity')
  expect(typeof address === 'string' && isBytes(nonce) && nonce.length === NONCE_BYTES && isBytes(proof), 'welcome proof')
  expect(isUint(epoch) && epoch > 0 && isUint(claim), 'welcome session')
  return { version, cluster, nodeId, incarnation, address, nonce, proof, session: { epoch, claim } }
}

export function parseProof(f: readonly unknown[]): { proof: Uint8Array; session: SessionClaim } {
  expect(f.length === 4 && isBytes(f[1]) && isUint(f[2]) && (f[2] as number) > 0 && isUint(f[3]), 'proof shape')
  return { proof: f[1] as Uint8Array, session: { epoch: f[2] as number, claim: f[3] as number } }
}

/** Version and cluster must match before anything else is looked at. */
export function checkCompatible(version: number, cluster: string, local: LocalIdentity): TransportError | undefined {
  if (version !== PROTOCOL_VERSION) {
    return new ProtocolMismatch(`peer speaks protocol ${version}, this node ${PROTOCOL_VERSION}`, { version })
  }
  if (cluster !== local.cluster) {
    return new ClusterMismatch(`peer belongs to cluster '${cluster}', this node to '${local.cluster}'`, { cluster })
  }
  return undefined
}

function proof(
  secret: string | Uint8Array,
  role: 'dialer' | 'acceptor',
  hello: Hello,
  acceptor: PeerInfo,
  nonceB: Uint8Array,
  session: SessionClaim,
): Uint8Array {
  const transcript = JSON.stringify([role, hello.cluster, hello.nodeId, hello.incarnation, hello.address, hello.channel, hello.lane, acceptor.nodeId, acceptor.incarnation, acceptor.address, session.epoch, session.claim])
  return new Uint8Array(createHmac('sha256', secret).update(transcript).update(hello.nonce).update(nonceB).digest())
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Acceptor: the WELCOME to send, with what it says about its session with the dialer. */
export function answerHello(local: LocalIdentity, hello: Hello, nonceB: Uint8Array, session: SessionClaim): unknown[] {
  const me: PeerInfo = { nodeId: local.nodeId, incarnation: local.incarnation, address: local.address }
  const mac = proof(local.secret, 'acceptor', hello, me, nonceB, session)
  return [FrameType.welcome, PROTOCOL_VERSION, local.cluster, me.nodeId, me.incarnation, me.address, nonceB, mac, session.epoch, session.claim]
}

/** Dialer: check the acceptor's proof over the HELLO we sent. */
export function verifyWelcome(local: LocalIdentity, sent: Hello, welcome: Welcome): PeerInfo {
  const incompatible = checkCompatible(welcome.version, welcome.cluster, local)
  if (incompatible) throw incompatible
  const peer: PeerInfo = { nodeId: welcome.nodeId, incarnation: welcome.incarnation, address: welcome.address }
  if (!same(welcome.proof, proof(local.secret, 'acceptor', sent, peer, welcome.nonce, welcome.session))) {
    throw new AuthenticationFailed(`peer ${welcome.nodeId} failed the challenge (wrong secret or replayed handshake)`, { nodeId: welcome.nodeId })
  }
  return peer
}

/** Dialer: the PROOF frame, once it knows what to say about its session. */
export function proofFrame(local: LocalIdentity, sent: Hello, peer: PeerInfo, welcomeNonce: Uint8Array, session: SessionClaim): unknown[] {
  return [FrameType.proof, proof(local.secret, 'dialer', sent, peer, welcomeNonce, session), session.epoch, session.claim]
}

/** Acceptor: check the dialer's proof (over the nonce we sent in WELCOME); returns its session claim. */
export function verifyProof(local: LocalIdentity, hello: Hello, nonceB: Uint8Array, frame: readonly unknown[]): SessionClaim {
  const { proof: got, session } = parseProof(frame)
  const me: PeerInfo = { nodeId: local.nodeId, incarnation: local.incarnation, address: local.address }
  if (!same(got, proof(local.secret, 'dialer', hello, me, nonceB, session))) {
    throw new AuthenticationFailed(`peer ${hello.nodeId} failed the challenge (wrong secret or replayed handshake)`, { nodeId: hello.nodeId })
  }
  return session
}

export function rejectFrame(error: TransportError): unknown[] {
  const epoch = error.details?.['epoch']
  return typeof epoch === 'number' ? [FrameType.reject, error.code, error.message, epoch] : [FrameType.reject, error.code, error.message]
}
