import t from 'tap'
import {
  AuthenticationFailed,
  FrameTooDeep,
  FrameTooLarge,
  FrameTooManyItems,
  ProtocolMismatch,
  HandshakeRequired,
  MalformedFrame,
  UnknownChannel,
  type InboundMessage,
  type TransportError,
} from '../src/index.js'
import { decodeFrame, encodeFrame, FrameType, Flag, PROTOCOL_VERSION } from '../src/frame.js'
import { freshNonce, helloFrame } from '../src/handshake.js'
import { memoryWorld, uwsWorld, type World } from './helpers/worlds.js'
import { handshake, rawDial } from './helpers/raw.js'
import { range, waitFor } from './helpers/wait.js'

/** `depth` one-element arrays around 1. */
function nested(depth: number): Uint8Array {
  const out = new Uint8Array(depth + 1).fill(0x81)
  out[depth] = 0x01
  return out
}

/**
 * Bad input, each case: a typed error (event + counter), the offending link handled (closed
 * before authentication, frame dropped after), and a well-behaved peer streaming reliable
 * messages to the same node at the same time loses nothing.
 */
const identity = { cluster: 'test', nodeId: 'mallory', incarnation: 3, address: 'mallory:1', secret: 'sesame' }

for (const [name, makeWorld] of [
  ['memory', () => memoryWorld(21)],
  ['uws', () => uwsWorld()],
] as const) {
  t.test(`bad input (${name})`, async (t) => {
    const w: World = makeWorld()
    t.teardown(() => w.close())
    // No timeouts in the way: virtual time runs ahead of these real-time steps.
    // Frames up to 64 KiB once authenticated, 4 KiB (the default) before; at most 20,000 items.
    const b = w.node({ nodeId: 'b', maxFrameSize: 1 << 16, maxFrameItems: 20_000, handshakeTimeout: 1e12, heartbeatInterval: 1e11 })
    const c = w.node({ nodeId: 'c', heartbeatInterval: 1e11 })
    const errors: TransportError[] = []
    b.on('error', (e) => errors.push(e.error))
    const got: InboundMessage[] = []
    b.onMessage((m) => got.push(m))
    await b.start()
    await c.start()
    await c.connect(b.address)
    let sent = 0
    const stream = (n: number) => {
      for (const _ of range(n)) c.send('b', sent++)
    }
    const fromC = () => got.filter((m) => m.from.nodeId === 'c').map((m) => m.payload)
    stream(100)

    const expectRejected = async (what: string, Class: new (...args: never[]) => TransportError, send: (raw: Awaited<ReturnType<typeof rawDial>>) => void, closes = true) => {
      const before = b.metrics()
      const raw = await rawDial(w, 'mallory', b.address)
      send(raw)
      await waitFor(() => errors.some((e) => e instanceof Class) && (!closes || raw.closed()), `${what} rejected`)
      t.ok(errors.some((e) => e instanceof Class), `${what}: ${Class.name}`)
      t.ok(b.metrics().rejectedFrames! > before.rejectedFrames! || b.metrics().handshakeFailures! > before.handshakeFailures!, `${what}: counted`)
      if (closes) t.ok(raw.closed(), `${what}: link closed`)
      errors.length = 0
      stream(100)
      return raw
    }

    await expectRejected('oversized frame', FrameTooLarge, (raw) => raw.link.send(new Uint8Array(70_000)))
    // A well-formed HELLO, but bigger than any real one (~150 bytes): refused by its size, unread.
    const bigHello = encodeFrame(helloFrame({ ...identity, address: 'x'.repeat(5000) }, { channel: 'control', lane: 0 }, freshNonce()))
    await expectRejected('frame over the handshake limit before the handshake', FrameTooLarge, (raw) => raw.link.send(bigHello))
    await expectRejected('deeply nested CBOR before the handshake', FrameTooDeep, (raw) => raw.link.send(nested(3000)))
    const old = helloFrame(identity, { channel: 'control', lane: 0 }, freshNonce())
    old[1] = PROTOCOL_VERSION - 1
    const stale = await expectRejected('an older protocol version', ProtocolMismatch, (raw) => raw.link.send(encodeFrame(old)))
    const reject = stale.frames.find((f) => f[0] === FrameType.reject)
    t.equal(reject?.[1], ProtocolMismatch.code, 'the peer is told why: PROTOCOL_MISMATCH')
    t.match(String(reject?.[2]), `peer speaks protocol ${PROTOCOL_VERSION - 1}, this node ${PROTOCOL_VERSION}`, 'in words')
    await expectRejected('malformed CBOR', MalformedFrame, (raw) => raw.link.send(new Uint8Array([0x9f, 0xff, 0xff, 0x5c, 0x01])))
    await expectRejected('not a frame', MalformedFrame, (raw) => raw.link.send(encodeFrame(['hello'])))
    await expectRejected('data before the handshake', HandshakeRequired, (raw) =>
      raw.link.send(encodeFrame([FrameType.data, 0, Flag.reliable, 1, null, 'sneaky'])),
    )
    await expectRejected('unknown channel', UnknownChannel, (raw) =>
      raw.link.send(encodeFrame(helloFrame(identity, { channel: 'nope', lane: 0 }, freshNonce()))),
    )
    await expectRejected('wrong proof', AuthenticationFailed, (raw) => {
      raw.link.send(encodeFrame(helloFrame(identity, { channel: 'control', lane: 0 }, freshNonce())))
      raw.link.send(encodeFrame([FrameType.proof, new Uint8Array(32), 1, 0]))
    })
    t.notOk(got.some((m) => m.payload === 'sneaky'), 'nothing from an unauthenticated link was delivered')

    // An authenticated peer's bad frames are dropped, counted, and its link keeps working.
    const raw = await rawDial(w, 'mallory', b.address)
    await handshake(raw, identity)
    await waitFor(() => b.peers().some((p) => p.nodeId === 'mallory'), 'mallory authenticated')
    await expectRejected('malformed CBOR after the handshake', MalformedFrame, () => raw.link.send(new Uint8Array([0xff, 0xfe])), false)
    await expectRejected('oversized frame after the handshake', FrameTooLarge, () => raw.link.send(new Uint8Array(70_000)), false)
    // 10,000 nested arrays as a payload: cbor-x would overflow the stack on them; refused unread.
    const deep = (depth: number) => new Uint8Array([0x86, FrameType.data, 0x00, Flag.reliable, 0x01, 0xf6, ...nested(depth)])
    await expectRejected('deeply nested payload after the handshake', FrameTooDeep, () => raw.link.send(deep(10_000)), false)
    await expectRejected('too many items after the handshake', FrameTooManyItems, () => raw.link.send(encodeFrame([FrameType.data, 0, Flag.reliable, 1, null, new Array(25_000).fill(1)])), false)
    await expectRejected('bad message tuple', MalformedFrame, () => raw.link.send(encodeFrame([FrameType.data, 0, 'x', 'y'])), false)
    await expectRejected('ack for a message never sent', MalformedFrame, () => raw.link.send(encodeFrame([FrameType.data, 99])), false)
    await expectRejected('lane ack for a message never sent', MalformedFrame, () => raw.link.send(encodeFrame([FrameType.ack, 'default', 0, 99])), false)
    await expectRejected('lane ack for an unknown channel', MalformedFrame, () => raw.link.send(encodeFrame([FrameType.ack, 'nope', 0, 0])), false)
    await expectRejected('replayed handshake frame on an open link', MalformedFrame, () => raw.link.send(raw.sent[0]!), false)
    raw.link.send(encodeFrame([FrameType.data, 0, Flag.reliable, 1, null, 'fine']))
    await waitFor(() => got.some((m) => m.payload === 'fine'), 'a good frame after bad ones is delivered')
    // A payload nested as deep as the limit allows still goes through.
    raw.link.send(deep(200).map((b, i) => (i === 4 ? 0x02 : b)))
    await waitFor(() => got.some((m) => Array.isArray(m.payload)), 'a nested payload within the limit is delivered')
    t.ok(Array.isArray(decodeFrame(deep(200), 1 << 16)), 'within the default depth')
    t.notOk(raw.closed(), 'the authenticated link stayed open')

    await waitFor(() => fromC().length === sent, 'c: everything delivered')
    t.same(fromC(), range(sent), 'the well-behaved peer lost nothing, got nothing twice, kept its order')
  })
}
