import WebSocket from 'ws'
import { createUwsTransport } from '@murmur/transport'
import { LegitStream, until } from './legit-stream.js'
import type { FuzzReport } from './report.js'
import { beginRun, draw, endRun, finishRun, FUZZ_CLUSTER, FUZZ_MAX_FRAME_ITEMS, FUZZ_SECRET, MALLORY, markHeap, samplePeak, type FuzzOptions } from './run-setup.js'
import { hello, isKnownFrame, proofFor, tryDecode, type PeerIdentity } from './wire.js'

interface Client {
  ws: WebSocket
  closed: boolean
}

function open(address: string): Promise<Client> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://${address}`, { perMessageDeflate: false })
    ws.binaryType = 'nodebuffer'
    const client: Client = { ws, closed: false }
    ws.on('close', () => (client.closed = true))
    ws.on('error', () => (client.closed = true))
    ws.once('open', () => resolve(client))
    ws.once('error', reject)
  })
}

function nextMessage(c: Client, ms: number): Promise<Uint8Array | undefined> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => done(undefined), ms)
    const onMessage = (data: Buffer): void => done(new Uint8Array(data))
    const onClose = (): void => done(undefined)
    const done = (v: Uint8Array | undefined): void => {
      clearTimeout(timer)
      c.ws.off('message', onMessage)
      c.ws.off('close', onClose)
      resolve(v)
    }
    c.ws.on('message', onMessage)
    c.ws.on('close', onClose)
  })
}

async function authenticate(address: string, id: PeerIdentity): Promise<Client> {
  const c = await open(address)
  const h = hello(id)
  const welcome = nextMessage(c, 5000)
  c.ws.send(h.bytes)
  const proof = proofFor(h, tryDecode((await welcome) ?? new Uint8Array()))
  if (proof === undefined) throw new Error('no WELCOME from the node')
  c.ws.send(proof)
  return c
}

const drained = async (clients: Iterable<Client>): Promise<void> => {
  for (const c of clients) while (!c.closed && c.ws.bufferedAmount > 1 << 20) await new Promise((r) => setTimeout(r, 1))
}

/**
 * Fuzzes a live `createUwsTransport` node on 127.0.0.1 from `ws` clients: authenticated
 * (compromised) peers stream bad frames, fresh unauthenticated sockets each send one, and a
 * legitimate transport peer streams reliable messages meanwhile. Per-frame fates are not visible
 * through a socket, so the checks are totals: every malformed frame counted as a typed error,
 * every unauthenticated socket closed.
 */
export async function fuzzUws(options: FuzzOptions): Promise<FuzzReport> {
  const run = await beginRun('uws', options)
  const { report, rng, maxFrameSize, batch } = run
  const preAuthShare = options.preAuthShare ?? 0.01
  const common = { cluster: FUZZ_CLUSTER, secret: FUZZ_SECRET, host: '127.0.0.1', port: 0, maxFrameSize }
  const target = createUwsTransport({ ...common, nodeId: 'target', maxFrameItems: FUZZ_MAX_FRAME_ITEMS })
  const peer = createUwsTransport({ ...common, nodeId: 'legit' })
  const legit = new LegitStream(peer, 'target')
  let fuzzErrors = 0
  let anonErrors = 0
  target.on('error', ({ error, remote }) => {
    report.errorsByCode[error.code] = (report.errorsByCode[error.code] ?? 0) + 1
    if (remote?.startsWith('mallory-')) fuzzErrors++
    else anonErrors++
  })
  target.onMessage((m) => {
    if (!legit.observe(m)) report.postAuth.delivered++
  })
  const clients: Client[] = []
  const pending = new Set<Promise<void>>()
  try {
    await target.start()
    await peer.start()
    await peer.connect(target.address)
    const identities = MALLORY
    for (const id of identities) clients.push(await authenticate(target.address, id))
    if (!(await until(() => target.peers().length === 1 + identities.length, 5000))) throw new Error('fuzz clients did not authenticate')
    const framesBase = target.metrics().framesReceived ?? 0
    markHeap(run)
    let expectedInvalid = 0
    let postAuthSent = 0

    const preAuth = async (bytes: Uint8Array): Promise<void> => {
      const c = await open(target.address)
      const answer = nextMessage(c, 10_000)
      c.ws.send(bytes)
      const reply = await answer
      const v = reply === undefined ? undefined : tryDecode(reply)
      if (Array.isArray(v) && v[0] === 1) {
        report.preAuth.validHello++
        c.ws.close()
        return
      }
      if (await until(() => c.closed, 10_000)) report.preAuth.closedWithError++
      else {
        report.preAuth.notAnswered++
        c.ws.terminate()
      }
    }

    for (let sent = 0; sent < options.frames; ) {
      const end = Math.min(options.frames, sent + batch)
      for (; sent < end; sent++) {
        const bytes = draw(run)
        if (rng.next() < preAuthShare) {
          report.preAuth.frames++
          const p = preAuth(bytes).catch(() => {
            report.preAuth.notAnswered++
          })
          pending.add(p)
          void p.finally(() => pending.delete(p))
          continue
        }
        const i = rng.int(clients.length)
        let c = clients[i] as Client
        if (c.closed) {
          report.postAuth.closed++
          c = clients[i] = await authenticate(target.address, identities[i] as PeerIdentity)
        }
        report.postAuth.frames++
        postAuthSent++
        if (!isKnownFrame(bytes) || bytes.byteLength > maxFrameSize) expectedInvalid++
        c.ws.send(bytes)
      }
      legit.send(10)
      await drained(clients)
      while (pending.size > 64) await Promise.race(pending)
      await new Promise((r) => setImmediate(r))
      if ((sent / batch) % 20 === 0) {
        samplePeak(run)
        options.onProgress?.(report)
      }
    }
    await Promise.all(pending)
    await until(() => (target.metrics().framesReceived ?? 0) - framesBase >= postAuthSent && legit.done(), 60_000)
    report.postAuth.typedErrors = fuzzErrors
    report.postAuth.silentInvalid = Math.max(0, expectedInvalid - fuzzErrors)
    report.postAuth.silentValid = Math.max(0, postAuthSent - fuzzErrors - report.postAuth.delivered)
    if (anonErrors < report.preAuth.closedWithError) report.preAuth.notAnswered += report.preAuth.closedWithError - anonErrors
    endRun(run, legit, true)
  } finally {
    endRun(run, legit, false)
    for (const c of clients) c.ws.terminate()
    await peer.stop().catch(() => {})
    await target.stop().catch(() => {})
  }
  return finishRun(run)
}
