import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto'
import { AuthenticationFailed, ClusterMismatch, ProtocolMismatch, type TransportError } from './errors.js'
import { FrameType, PROTOCOL_VERSION, expect, isBytes, isUint } from './frame.js'
import type { PeerInfo } from './transport.js'

/**
 * The link handshake, as pure functions over frames. Three frames:
 *
 *   dialer   → HELLO   { version, cluster, id, incarnation, address, channel, lane, nonceA }
 *   acceptor → WELCOME { version, cluster, id, incarnation, address, nonceB, proofB }
 *   dialer   → PROOF   { proofA }
 *
 * `proofB = HMAC(secret, 'acceptor' ‖ transcript ‖ nonceA ‖ nonceB)` and
 * `proofA = HMAC(secret, 'dialer' ‖ transcript ‖ nonceA ‖ nonceB)`. The secret never crosses the
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
  expect(f.length === 8, 'welcome length')
  const [, version, cluster, nodeId, incarnation, address, nonce, proof] = f
  expect(isUint(version) && typeof cluster === 'string' && typeof nodeId === 'string' && isUint(incarnation), 'welcome identity')
  expect(typeof address === 'string' && isBytes(nonce) && nonce.length === NONCE_BYTES && isBytes(proof), 'welcome proof')
  return { version, cluster, nodeId, incarnation, address, nonce, proof }
}

export function parseProof(f: readonly unknown[]): Uint8Array {
  expect(f.length === 2 && isBytes(f[1]), 'proof shape')
  return f[1] as Uint8Array
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

function proof(secret: string | Uint8Array, role: 'dialer' | 'acceptor', hello: Hello, acceptor: PeerInfo, nonceB: Uint8Array): Uint8Array {
  const transcript = JSON.stringify([role, hello.cluster, hello.nodeId, hello.incarnation, hello.address, hello.channel, hello.lane, acceptor.nodeId, acceptor.incarnation, acceptor.address])
  return new Uint8Array(createHmac('sha256', secret).update(transcript).update(hello.nonce).update(nonceB).digest())
}

function same(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b)
}

/** Acceptor: the WELCOME to send, and the dialer proof to expect back. */
export function answerHello(local: LocalIdentity, hello: Hello, nonceB: Uint8Array): { frame: unknown[]; expected: Uint8Array } {
  const me: PeerInfo = { nodeId: local.nodeId, incarnation: local.incarnation, address: local.address }
  return {
    frame: [FrameType.welcome, PROTOCOL_VERSION, local.cluster, me.nodeId, me.incarnation, me.address, nonceB, proof(local.secret, 'acceptor', hello, me, nonceB)],
    expected: proof(local.secret, 'dialer', hello, me, nonceB),
  }
}

/** Dialer: check the acceptor's proof over the HELLO we sent; returns the PROOF frame to send. */
export function verifyWelcome(local: LocalIdentity, sent: Hello, welcome: Welcome): { peer: PeerInfo; frame: unknown[] } {
  const incompatible = checkCompatible(welcome.version, welcome.cluster, local)
  if (incompatible) throw incompatible
  const peer: PeerInfo = { nodeId: welcome.nodeId, incarnation: welcome.incarnation, address: welcome.address }
  if (!same(welcome.proof, proof(local.secret, 'acceptor', sent, peer, welcome.nonce))) {
    throw new AuthenticationFailed(`peer ${welcome.nodeId} failed the challenge (wrong secret or replayed handshake)`, { nodeId: welcome.nodeId })
  }
  return { peer, frame: [FrameType.proof, proof(local.secret, 'dialer', sent, peer, welcome.nonce)] }
}

/** Acceptor: check the dialer's proof. */
export function verifyProof(expected: Uint8Array, got: Uint8Array, nodeId: string): void {
  if (!same(expected, got)) {
    throw new AuthenticationFailed(`peer ${nodeId} failed the challenge (wrong secret or replayed handshake)`, { nodeId })
  }
}

export function rejectFrame(error: TransportError): unknown[] {
  return [FrameType.reject, error.code, error.message]
}
