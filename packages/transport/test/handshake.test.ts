import t from 'tap'
import { AuthenticationFailed, ClusterMismatch, ProtocolMismatch } from '../src/index.js'
import { FrameType, PROTOCOL_VERSION, decodeFrame, encodeFrame } from '../src/frame.js'
import { answerHello, freshNonce, helloFrame, parseHello, parseProof, parseWelcome, proofFrame, verifyProof, verifyWelcome, type Hello } from '../src/handshake.js'
import { reconcile } from '../src/session.js'

const dialer = { cluster: 'c', nodeId: 'a', incarnation: 1, address: 'a:1', secret: 'shh' }
const acceptor = { cluster: 'c', nodeId: 'b', incarnation: 2, address: 'b:1', secret: 'shh' }
const ref = { channel: 'control', lane: 0 }
const wire = (f: unknown[]) => decodeFrame(encodeFrame(f), 1 << 16)

/** Runs the three frames through the wire encoding, as a real link would. */
function run(d = dialer, a = acceptor) {
  const nonce = freshNonce()
  const hello = parseHello(wire(helloFrame(d, ref, nonce)))
  const nonceB = freshNonce()
  const welcome = wire(answerHello(a, hello, nonceB, { epoch: 7, claim: 0 }))
  const sent: Hello = { ...d, version: PROTOCOL_VERSION, ...ref, nonce }
  const w = parseWelcome(welcome)
  const peer = verifyWelcome(d, sent, w)
  const proof = wire(proofFrame(d, sent, peer, w.nonce, { epoch: 9, claim: w.session.epoch }))
  const theirs = verifyProof(a, hello, nonceB, proof)
  return { peer, hello, nonceB, welcome, proof, session: w.session, theirs }
}

t.test('both sides prove the secret; the secret never appears in a frame', async (t) => {
  const { peer, hello, welcome, proof, session, theirs } = run()
  t.same(peer, { nodeId: 'b', incarnation: 2, address: 'b:1' })
  t.equal(hello.nodeId, 'a')
  t.same(session, { epoch: 7, claim: 0 }, 'the acceptor session claim travels')
  t.same(theirs, { epoch: 9, claim: 7 }, 'the dialer session claim travels')
  const bytes = Buffer.concat([encodeFrame(helloFrame(dialer, ref, freshNonce())), encodeFrame(welcome), encodeFrame(proof)])
  t.equal(bytes.indexOf('shh'), -1, 'no secret on the wire')
})

t.test('a wrong secret fails on the side that checks the other', async (t) => {
  t.throws(() => run({ ...dialer, secret: 'guess' }), AuthenticationFailed, 'dialer rejects an acceptor proof made with another secret')
  const hello = parseHello(helloFrame(dialer, ref, freshNonce()))
  t.throws(() => verifyProof(acceptor, hello, freshNonce(), [FrameType.proof, new Uint8Array(32), 1, 0]), AuthenticationFailed)
})

t.test('proofs from an earlier handshake do not verify in a new one (fresh nonces)', async (t) => {
  const first = run()
  const second = run()
  t.throws(() => verifyProof(acceptor, second.hello, second.nonceB, first.proof), AuthenticationFailed)
  t.throws(() => verifyWelcome(dialer, { ...dialer, version: PROTOCOL_VERSION, ...ref, nonce: second.hello.nonce }, parseWelcome(first.welcome)), AuthenticationFailed)
})

t.test('the session claim is covered by the proof', async (t) => {
  const { hello, nonceB, proof } = run()
  const tampered = [...proof]
  tampered[2] = 12345
  t.throws(() => verifyProof(acceptor, hello, nonceB, tampered), AuthenticationFailed)
})

t.test('cluster and protocol mismatches are typed', async (t) => {
  t.throws(() => run(dialer, { ...acceptor, cluster: 'other' }), ClusterMismatch)
  const nonce = freshNonce()
  const sent: Hello = { ...dialer, version: PROTOCOL_VERSION, ...ref, nonce }
  const frame = answerHello(acceptor, parseHello(helloFrame(dialer, ref, nonce)), freshNonce(), { epoch: 1, claim: 0 })
  frame[1] = PROTOCOL_VERSION + 1
  t.throws(() => verifyWelcome(dialer, sent, parseWelcome(frame)), ProtocolMismatch)
})

t.test('shape checks', async (t) => {
  t.throws(() => parseHello([FrameType.hello, 1, 'c']), { code: 'MALFORMED_FRAME' })
  t.throws(() => parseWelcome([FrameType.welcome, 1, 'c', 'b', 2, 'b:1', new Uint8Array(3), new Uint8Array(32), 1, 0]), { code: 'MALFORMED_FRAME' })
  t.throws(() => parseProof([FrameType.proof, 'not bytes', 1, 0]), { code: 'MALFORMED_FRAME' })
  t.throws(() => parseProof([FrameType.proof, new Uint8Array(32), 0, 0]), { code: 'MALFORMED_FRAME' }, 'epoch 0 is not an epoch')
  t.throws(() => decodeFrame(new Uint8Array(10), 5), { code: 'FRAME_TOO_LARGE' })
  t.throws(() => decodeFrame(new Uint8Array([0xff]), 5), { code: 'MALFORMED_FRAME' })
  t.throws(() => decodeFrame(encodeFrame({ a: 1 }), 100), { code: 'MALFORMED_FRAME' })
  t.throws(() => decodeFrame(encodeFrame([99]), 100), { code: 'MALFORMED_FRAME' })
})

t.test('reconcile: when a session may be resumed', async (t) => {
  t.equal(reconcile(undefined, 5, 0), 'new', 'first contact')
  t.equal(reconcile({ epoch: 1, peerEpoch: 0 }, 5, 0), 'resume', 'a session not yet synchronised adopts the peer')
  t.equal(reconcile({ epoch: 1, peerEpoch: 5 }, 5, 1), 'resume', 'both remember each other')
  t.equal(reconcile({ epoch: 1, peerEpoch: 5 }, 6, 0), 'reset', 'the peer has a new session: it forgot us')
  t.equal(reconcile({ epoch: 1, peerEpoch: 5 }, 6, 1), 'reset', 'the peer renewed its session')
  t.equal(reconcile(undefined, 5, 1), 'stale-claim', 'the peer resumes a session we forgot')
  t.equal(reconcile({ epoch: 2, peerEpoch: 5 }, 5, 1), 'stale-claim', 'the peer resumes an older session of ours')
})
