import { createMemoryNetwork, createMemoryTransport, createTransport } from '@murmur/transport'
import type { DirectLink } from './direct-link.js'
import { authenticateDirect, injectingConnector } from './direct-link.js'
import { LegitStream, until } from './legit-stream.js'
import type { FuzzReport } from './report.js'
import { beginRun, draw, endRun, finishRun, FUZZ_CLUSTER, FUZZ_MAX_FRAME_ITEMS, FUZZ_SECRET, MALLORY, markHeap, samplePeak, type FuzzOptions } from './run-setup.js'
import { hello, isKnownFrame, tryDecode, type PeerIdentity } from './wire.js'

export type { FuzzOptions } from './run-setup.js'
export { FUZZ_CLUSTER, FUZZ_SECRET } from './run-setup.js'

const turn = (): Promise<void> => new Promise((r) => setImmediate(r))

/**
 * Fuzzes a live transport node through links injected straight into its core (the fast path:
 * each frame's fate is known when it returns), while a legitimate peer streams reliable messages
 * to the same node over the memory network.
 *
 * @example
 * const report = await fuzzDirect({ seed: 1, frames: 100_000 })
 * violations(report, 64) // [] when every rule held
 */
export async function fuzzDirect(options: FuzzOptions): Promise<FuzzReport> {
  const run = await beginRun('direct', options)
  const { report, rng, maxFrameSize, batch } = run
  const preAuthShare = options.preAuthShare ?? 0.2
  const net = createMemoryNetwork({ seed: options.seed, traceLimit: 0 })
  const injector = injectingConnector(net.connector('target'))
  const target = createTransport({ nodeId: 'target', cluster: FUZZ_CLUSTER, secret: FUZZ_SECRET, connector: injector.factory, clock: net.clockFor('target'), maxFrameSize, maxFrameItems: FUZZ_MAX_FRAME_ITEMS })
  const peer = createMemoryTransport(net, { nodeId: 'legit', cluster: FUZZ_CLUSTER, secret: FUZZ_SECRET })
  const legit = new LegitStream(peer, 'target')
  let errors = 0
  let fuzzDelivered = 0
  target.on('error', ({ error }) => {
    errors++
    report.errorsByCode[error.code] = (report.errorsByCode[error.code] ?? 0) + 1
  })
  target.onMessage((m) => {
    if (!legit.observe(m)) fuzzDelivered++
  })
  net.autoRun()
  try {
    await target.start()
    await peer.start()
    await peer.connect('target')

    const identities = MALLORY
    const open = new Map<number, DirectLink>()
    let linkNo = 0
    const authenticated = (i: number): DirectLink => {
      let link = open.get(i)
      if (link && !link.closed) return link
      link = authenticateDirect(injector, identities[i] as PeerIdentity)
      if (link.closed) throw new Error('the node refused an honest handshake')
      open.set(i, link)
      return link
    }
    for (let i = 0; i < identities.length; i++) authenticated(i)
    markHeap(run)

    const throwing = (fn: () => void): boolean => {
      try {
        fn()
        return false
      } catch (error) {
        report.untypedThrows++
        if (report.untypedSamples.length < 5) report.untypedSamples.push(String((error as Error)?.stack ?? error).slice(0, 400))
        return true
      }
    }

    for (let sent = 0; sent < options.frames; ) {
      const end = Math.min(options.frames, sent + batch)
      for (; sent < end; sent++) {
        const bytes = draw(run)
        const errorsBefore = errors
        if (rng.next() < preAuthShare) {
          report.preAuth.frames++
          const link = injector.inject(`anon-${linkNo++}`)
          if (rng.next() < 0.3) {
            // An honest HELLO first: the bad frame lands in the proof phase.
            link.frame(hello({ ...(identities[0] as PeerIdentity), nodeId: `anon-${linkNo}` }).bytes)
          }
          const threw = throwing(() => link.frame(bytes))
          if (link.closed && errors > errorsBefore) report.preAuth.closedWithError++
          else if (!link.closed && tryDecodeWelcome(link)) {
            report.preAuth.validHello++
            link.close(1000, 'fuzzer done')
          } else if (!threw) {
            report.preAuth.notAnswered++
            link.close(1000, 'fuzzer done')
          }
          continue
        }
        report.postAuth.frames++
        const link = authenticated(rng.int(identities.length))
        const deliveredBefore = fuzzDelivered
        if (throwing(() => link.frame(bytes))) continue
        if (errors > errorsBefore) report.postAuth.typedErrors++
        else if (link.closed) report.postAuth.closed++
        else if (fuzzDelivered > deliveredBefore) report.postAuth.delivered++
        else if (isKnownFrame(bytes) && bytes.byteLength <= maxFrameSize) report.postAuth.silentValid++
        else report.postAuth.silentInvalid++
      }
      legit.send(10)
      await turn()
      if ((sent / batch) % 50 === 0) {
        samplePeak(run)
        options.onProgress?.(report)
      }
    }
    await until(() => legit.done(), 30_000)
    endRun(run, legit, true)
  } finally {
    endRun(run, legit, false)
    await target.stop().catch(() => {})
    await peer.stop().catch(() => {})
    net.stop()
  }
  return finishRun(run)
}

function tryDecodeWelcome(link: DirectLink): boolean {
  const last = link.received.at(-1)
  const v = last === undefined ? undefined : tryDecode(last)
  return Array.isArray(v) && v[0] === 1
}
