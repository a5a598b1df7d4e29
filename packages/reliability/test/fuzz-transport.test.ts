import t, { type Test } from 'tap'
import { fuzzDirect, fuzzUws, violations, type FuzzReport } from '../src/index.js'

/**
 * CI share of the fuzzer (the full 1,000,000-frame run is `node dist/fuzz-cli.js`). Each run is
 * seeded; a failure prints the seed and the report.
 */
const HEAP_BOUND_MIB = 64

function check(t: Test, r: FuzzReport): void {
  t.same(violations(r, HEAP_BOUND_MIB), [], `seed ${r.seed}: every rule held (${r.frames} frames in ${r.ms} ms)`)
  t.equal(r.untypedThrows, 0, 'no untyped exception out of the frame handler')
  t.equal(r.unhandledRejections + r.uncaughtExceptions, 0, 'no unhandled rejection or uncaught exception')
  t.equal(r.preAuth.closedWithError + r.preAuth.validHello, r.preAuth.frames, 'every pre-handshake frame closed its link with a typed error (or was a valid HELLO)')
  t.ok(r.postAuth.typedErrors > r.postAuth.frames * 0.8, `most post-handshake frames were typed errors (${r.postAuth.typedErrors}/${r.postAuth.frames})`)
  t.equal(r.postAuth.silentInvalid, 0, 'no malformed frame accepted silently')
  t.ok(r.heap.growthMiB < HEAP_BOUND_MIB, `heap grew ${r.heap.growthMiB} MiB`)
  t.ok(r.legit.sent > 0 && r.legit.delivered === r.legit.sent, `legitimate peer: ${r.legit.delivered}/${r.legit.sent} reliable messages, in order, once`)
  for (const [kind, n] of Object.entries(r.byKind)) t.ok(n > 0, `frames of kind ${kind} were sent (${n})`)
}

t.test('fuzz through injected links: 100,000 frames at a live node', async (t) => {
  const r = await fuzzDirect({ seed: 1, frames: 100_000 })
  check(t, r)
  t.ok((r.errorsByCode.MALFORMED_FRAME ?? 0) > 0 && (r.errorsByCode.FRAME_TOO_LARGE ?? 0) > 0 && (r.errorsByCode.HANDSHAKE_REQUIRED ?? 0) > 0, 'the typed errors include malformed, too large and handshake-required')
  t.ok((r.errorsByCode.FRAME_TOO_DEEP ?? 0) > 0, `deeply nested CBOR refused as FRAME_TOO_DEEP (${r.errorsByCode.FRAME_TOO_DEEP})`)
  t.ok((r.errorsByCode.FRAME_TOO_MANY_ITEMS ?? 0) > 0, `frames of too many items refused as FRAME_TOO_MANY_ITEMS (${r.errorsByCode.FRAME_TOO_MANY_ITEMS})`)
})

t.test('fuzz over real sockets: 30,000 frames from ws clients at a uWebSockets.js node', async (t) => {
  const r = await fuzzUws({ seed: 2, frames: 30_000, preAuthShare: 0.01 })
  check(t, r)
  t.ok((r.errorsByCode.FRAME_TOO_DEEP ?? 0) > 0, `deeply nested CBOR refused as FRAME_TOO_DEEP (${r.errorsByCode.FRAME_TOO_DEEP})`)
})
