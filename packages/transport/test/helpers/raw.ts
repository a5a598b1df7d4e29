import type { Link, LinkHandlers } from '../../src/index.js'
import { decodeFrame, encodeFrame, PROTOCOL_VERSION } from '../../src/frame.js'
import { freshNonce, helloFrame, parseWelcome, proofFrame, verifyWelcome, type Hello, type LocalIdentity } from '../../src/handshake.js'
import type { World } from './worlds.js'
import { waitFor } from './wait.js'

export interface RawLink {
  link: Link
  /** Frames received, decoded. */
  frames: unknown[][]
  closed(): boolean
  /** Frames sent by `handshake`, for replaying. */
  sent: Uint8Array[]
}

/** A link that speaks the protocol by hand: for bad input and replay tests. */
export async function rawDial(w: World, name: string, address: string): Promise<RawLink> {
  const frames: unknown[][] = []
  let closed = false
  const handlers: LinkHandlers = {
    frame: (d) => frames.push(decodeFrame(d, 1 << 26)),
    drain() {},
    close() {
      closed = true
    },
  }
  const link = await w.rawConnector(name).dial(address, handlers)
  return { link, frames, closed: () => closed, sent: [] }
}

/** Runs an honest dialer's handshake (knowing `identity.secret`) on a raw link. */
export async function handshake(raw: RawLink, identity: LocalIdentity, channel = 'control', lane = 0): Promise<void> {
  const nonce = freshNonce()
  const hello = encodeFrame(helloFrame(identity, { channel, lane }, nonce))
  raw.sent.push(hello)
  raw.link.send(hello)
  await waitFor(() => raw.frames.length >= 1, 'welcome')
  const sent: Hello = { ...identity, version: PROTOCOL_VERSION, channel, lane, nonce }
  const welcome = parseWelcome(raw.frames[0] as unknown[])
  const peer = verifyWelcome(identity, sent, welcome)
  const proof = encodeFrame(proofFrame(identity, sent, peer, welcome.nonce, { epoch: 1 + Math.floor(Math.random() * 1e9), claim: welcome.session.epoch }))
  raw.sent.push(proof)
  raw.link.send(proof)
}
