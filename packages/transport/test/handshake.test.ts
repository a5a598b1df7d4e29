import t from 'tap'
import { AuthenticationFailed, ClusterMismatch, ProtocolMismatch } from '../src/index.js'
import { FrameType, PROTOCOL_VERSION, decodeFrame, encodeFrame } from '../src/frame.js'
import { answerHello, freshNonce, helloFrame, parseHello, parseProof, parseWelcome, verifyProof, verifyWelcome, type Hello } from '../src/handshake.js'

const dialer = { cluster: 'c', nodeId: 'a', incarnation: 1, address: 'a:1', secret: 'shh' }
const acceptor = { cluster: 'c', nodeId: 'b', incarnation: 2, address: 'b:1', secret: 'shh' }
const ref = { channel: 'control', lane: 0 }

/** Runs the three frames through the wire encoding, as a real link would. */
function run(d = dialer, a = acceptor) {
  const nonce = freshNonce()
  const helloBytes = encodeFrame(helloFrame(d, ref, nonce))
  const hello = parseHello(decodeFrame(helloBytes, 1 << 16))
  const { frame: welcome, expected } = answerHello(a, hello, freshNonce())
  const sent: Hello = { ...d, version: PROTOCOL_VERSION, ...ref, nonce }
  const { peer, frame: proof } = verifyWelcome(d, sent, parseWelcome(decodeFrame(encodeFrame(welcome), 1 << 16)))
  const proofBytes = parseProof(decodeFrame(encodeFrame(proof), 1 << 16))
  verifyProof(expected, proofBytes, hello.nodeId)
  return { peer, hello, welcome, proof: proofBytes, expected }
}

t.test('both sides prove the secret; the secret never appears in a frame', async (t) => {
  const { peer, hello, welcome } = run()
  t.same(peer, { nodeId: 'b', incarnation: 2, address: 'b:1' })
  t.equal(hello.nodeId, 'a')
  const wire = Buffer.concat([encodeFrame(helloFrame(dialer, ref, freshNonce())), encodeFrame(welcome)])
  t.equal(wire.indexOf('shh'), -1, 'no secret on the wire')
})

t.test('a wrong secret fails on the side that checks the other', async (t) => {
  t.throws(() => run({ ...dialer, secret: 'guess' }), AuthenticationFailed, 'dialer rejects an acceptor proof made with another secret')
  // An acceptor with the secret against a dialer without it: the dialer's proof fails at the acceptor.
  const nonce = freshNonce()
  const hello = parseHello(helloFrame(dialer, ref, nonce))
  const { expected } = answerHello(acceptor, hello, freshNonce())
  t.throws(() => verifyProof(expected, new Uint8Array(32), 'a'), AuthenticationFailed)
})

t.test('proofs from an earlier handshake do not verify in a new one (fresh nonces)', async (t) => {
  const first = run()
  const second = run()
  t.throws(() => verifyProof(second.expected, first.proof, 'a'), AuthenticationFailed)
  t.notSame(first.expected, second.expected)
})

t.test('cluster and protocol mismatches are typed', async (t) => {
  t.throws(() => run(dialer, { ...acceptor, cluster: 'other' }), ClusterMismatch)
  const nonce = freshNonce()
  const sent: Hello = { ...dialer, version: PROTOCOL_VERSION, ...ref, nonce }
  const { frame } = answerHello(acceptor, parseHello(helloFrame(dialer, ref, nonce)), freshNonce())
  frame[1] = PROTOCOL_VERSION + 1
  t.throws(() => verifyWelcome(dialer, sent, parseWelcome(frame)), ProtocolMismatch)
})

t.test('shape checks', async (t) => {
  t.throws(() => parseHello([FrameType.hello, 1, 'c']), { code: 'MALFORMED_FRAME' })
  t.throws(() => parseWelcome([FrameType.welcome, 1, 'c', 'b', 2, 'b:1', new Uint8Array(3), new Uint8Array(32)]), { code: 'MALFORMED_FRAME' })
  t.throws(() => parseProof([FrameType.proof, 'not bytes']), { code: 'MALFORMED_FRAME' })
  t.throws(() => decodeFrame(new Uint8Array(10), 5), { code: 'FRAME_TOO_LARGE' })
  t.throws(() => decodeFrame(new Uint8Array([0xff]), 5), { code: 'MALFORMED_FRAME' })
  t.throws(() => decodeFrame(encodeFrame({ a: 1 }), 100), { code: 'MALFORMED_FRAME' })
  t.throws(() => decodeFrame(encodeFrame([99]), 100), { code: 'MALFORMED_FRAME' })
})
