/**
 * The connector compliance suite: every `Connector` implementation must pass it unchanged.
 * Run it from a test file with an environment that makes connectors of that implementation.
 */
import type { Test } from 'tap'
import type { Connector, Link, LinkHandlers, ListenOptions } from '../../src/connector.js'
import { Aborted, FrameTooLarge, PeerUnreachable } from '../../src/errors.js'

export interface ConnectorLimits {
  maxPayloadLength?: number
  highWaterMark?: number
  lowWaterMark?: number
}

export interface ConnectorEnv {
  /** A new connector (a new node for memory); the env closes it at teardown. */
  connector(limits?: ConnectorLimits): Connector
  readonly listenOptions: ListenOptions
  /** An address where nothing listens. */
  unreachable(): Promise<string>
  /** Closes everything the env made. */
  close(): Promise<void>
}

/** Everything a link reported, for assertions. */
export interface Recorder extends LinkHandlers {
  frames: Uint8Array[]
  closes: { code: number; reason: string }[]
  drains: number
}

export function recorder(): Recorder {
  const r: Recorder = {
    frames: [],
    closes: [],
    drains: 0,
    frame: (data) => r.frames.push(data),
    drain: () => r.drains++,
    close: (code, reason) => r.closes.push({ code, reason }),
  }
  return r
}

/** Polls `cond` until it holds; fails after a generous real-time deadline instead of sleeping blindly. */
export async function waitFor(cond: () => boolean, what: string, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 2))
  }
}

/** A frame whose bytes depend on `n` everywhere, so a swapped, cut or corrupted frame shows. */
export function pattern(n: number, size: number): Uint8Array {
  const frame = new Uint8Array(size)
  const view = new DataView(frame.buffer)
  if (size >= 4) view.setUint32(0, n)
  for (let i = 4; i < size; i++) frame[i] = (n * 31 + i * 7) & 0xff
  return frame
}

export function frameNumber(frame: Uint8Array): number {
  return new DataView(frame.buffer, frame.byteOffset, frame.byteLength).getUint32(0)
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.byteLength === b.byteLength && Buffer.compare(Buffer.from(a.buffer, a.byteOffset, a.byteLength), Buffer.from(b.buffer, b.byteOffset, b.byteLength)) === 0
}

export interface Pair {
  env: ConnectorEnv
  server: Connector
  client: Connector
  address: string
  /** The dialling end and what it saw. */
  dialled: Link
  d: Recorder
  /** The accepted end and what it saw. */
  accepted: Link
  a: Recorder
}

/** Two connectors, one listening, one link between them. */
export async function pair(t: Test, makeEnv: () => Promise<ConnectorEnv>, limits: { server?: ConnectorLimits; client?: ConnectorLimits } = {}): Promise<Pair> {
  const env = await makeEnv()
  t.teardown(() => env.close())
  const server = env.connector(limits.server)
  const client = env.connector(limits.client)
  const acceptedLinks: { link: Link; r: Recorder }[] = []
  const address = await server.listen(env.listenOptions, (link) => {
    const r = recorder()
    acceptedLinks.push({ link, r })
    return r
  })
  const d = recorder()
  const dialled = await client.dial(address, d)
  await waitFor(() => acceptedLinks.length === 1, 'accept')
  const first = acceptedLinks[0]
  if (first === undefined) throw new Error('no accepted link')
  return { env, server, client, address, dialled, d, accepted: first.link, a: first.r }
}

export function connectorCompliance(t: Test, makeEnv: () => Promise<ConnectorEnv>): void {
  t.test('listen, dial, accept', async (t) => {
    const p = await pair(t, makeEnv)
    t.type(p.address, 'string')
    t.ok(p.address.length > 0, 'listen resolves to an address')
    t.equal(p.dialled.remoteAddress, p.address, 'the dialler sees the address it dialled')
    t.ok(p.accepted.remoteAddress.length > 0, 'the accepted end knows its peer')
    t.equal(p.dialled.bufferedAmount(), 0)
  })

  t.test('frames both ways arrive intact and in order', async (t) => {
    const p = await pair(t, makeEnv)
    const n = 200
    for (let i = 0; i < n; i++) {
      t.equal(p.dialled.send(pattern(i, 1 + (i % 300))), true)
      t.equal(p.accepted.send(pattern(i + 1000, 1 + ((i * 7) % 300))), true)
    }
    await waitFor(() => p.a.frames.length === n && p.d.frames.length === n, 'frames')
    t.ok(p.a.frames.every((f, i) => sameBytes(f, pattern(i, 1 + (i % 300)))), 'dialler → acceptor intact, in order')
    t.ok(p.d.frames.every((f, i) => sameBytes(f, pattern(i + 1000, 1 + ((i * 7) % 300)))), 'acceptor → dialler intact, in order')
  })

  t.test('the sender may reuse its buffer after send', async (t) => {
    const p = await pair(t, makeEnv)
    const buffer = pattern(1, 64)
    p.dialled.send(buffer)
    buffer.fill(0)
    p.dialled.send(buffer)
    await waitFor(() => p.a.frames.length === 2, 'frames')
    t.ok(sameBytes(p.a.frames[0] as Uint8Array, pattern(1, 64)), 'first frame kept its bytes')
    t.ok(sameBytes(p.a.frames[1] as Uint8Array, new Uint8Array(64)))
  })

  t.test('many small frames, corked', async (t) => {
    const p = await pair(t, makeEnv)
    const n = 20_000
    const send = (): void => {
      for (let i = 0; i < n; i++) p.dialled.send(pattern(i, 64))
    }
    if (p.dialled.cork) p.dialled.cork(send)
    else send()
    await waitFor(() => p.a.frames.length === n, `${n} frames`)
    t.ok(p.a.frames.every((f, i) => frameNumber(f) === i && f.byteLength === 64), 'all in order')
  })

  t.test('cork from inside a frame handler (an echo) keeps order', async (t) => {
    const env = await makeEnv()
    t.teardown(() => env.close())
    const server = env.connector()
    const address = await server.listen(env.listenOptions, (link) => ({
      frame: (data) => {
        const echo = (): void => {
          link.send(data)
          link.send(data)
        }
        if (link.cork) link.cork(echo)
        else echo()
      },
      drain: () => {},
      close: () => {},
    }))
    const d = recorder()
    const link = await env.connector().dial(address, d)
    for (let i = 0; i < 500; i++) link.send(pattern(i, 32))
    await waitFor(() => d.frames.length === 1000, 'echoes')
    t.ok(d.frames.every((f, i) => frameNumber(f) === i >> 1), 'each frame echoed twice, in order')
  })

  t.test('1 MiB frames both ways', async (t) => {
    const p = await pair(t, makeEnv)
    const size = 1 << 20
    for (let i = 0; i < 3; i++) {
      p.dialled.send(pattern(i, size))
      p.accepted.send(pattern(i + 10, size))
    }
    await waitFor(() => p.a.frames.length === 3 && p.d.frames.length === 3, 'large frames')
    t.ok(p.a.frames.every((f, i) => sameBytes(f, pattern(i, size))), 'dialler → acceptor intact')
    t.ok(p.d.frames.every((f, i) => sameBytes(f, pattern(i + 10, size))), 'acceptor → dialler intact')
  })

  for (const side of ['dialler', 'acceptor'] as const) {
    t.test(`close from the ${side}: close runs once on both ends`, async (t) => {
      const p = await pair(t, makeEnv)
      const [closer, other] = side === 'dialler' ? [p.dialled, p.accepted] : [p.accepted, p.dialled]
      const [mine, theirs] = side === 'dialler' ? [p.d, p.a] : [p.a, p.d]
      closer.send(pattern(7, 10))
      closer.close(4001, 'bye')
      t.same(mine.closes, [{ code: 4001, reason: 'bye' }], 'the closing end is told at once')
      closer.close(4002, 'again')
      t.equal(closer.send(pattern(8, 10)), true, 'send after close is discarded, not thrown')
      await waitFor(() => theirs.closes.length === 1, 'peer close')
      t.same(theirs.closes, [{ code: 4001, reason: 'bye' }], 'the peer sees the code and reason')
      t.equal(theirs.frames.length, 1, 'a frame sent before close still arrives')
      other.close(1000, 'late')
      other.send(pattern(9, 10))
      await new Promise((resolve) => setTimeout(resolve, 50))
      t.equal(mine.closes.length, 1, 'still once')
      t.equal(theirs.closes.length, 1, 'still once')
      t.equal(mine.frames.length, 0, 'nothing arrives after close')
    })
  }

  t.test('both ends close at the same time: once each', async (t) => {
    const p = await pair(t, makeEnv)
    p.dialled.close(4003, 'a')
    p.accepted.close(4004, 'b')
    await new Promise((resolve) => setTimeout(resolve, 100))
    t.same(p.d.closes, [{ code: 4003, reason: 'a' }])
    t.same(p.a.closes, [{ code: 4004, reason: 'b' }])
  })

  for (const side of ['dialler', 'acceptor'] as const) {
    t.test(`a frame handler at the ${side} that throws closes the link with 1011; nothing else breaks`, async (t) => {
      const p = await pair(t, makeEnv)
      const [sender, failing, other] = side === 'dialler' ? [p.accepted, p.d, p.a] : [p.dialled, p.a, p.d]
      failing.frame = () => {
        throw new Error('boom')
      }
      sender.send(pattern(1, 8))
      await waitFor(() => failing.closes.length === 1 && other.closes.length === 1, 'both ends closed')
      t.equal(failing.closes[0]?.code, 1011)
      t.match(failing.closes[0]?.reason, /boom/)
      t.equal(other.closes[0]?.code, 1011, 'the peer learns why')
      const q = await pair(t, makeEnv)
      q.dialled.send(pattern(2, 8))
      await waitFor(() => q.a.frames.length === 1, 'a fresh link still works')
    })
  }

  t.test('dial to nothing rejects with PeerUnreachable', async (t) => {
    const env = await makeEnv()
    t.teardown(() => env.close())
    const client = env.connector()
    const address = await env.unreachable()
    const error = await client.dial(address, recorder()).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(error instanceof PeerUnreachable, 'typed error')
    t.equal((error as PeerUnreachable).code, 'PEER_UNREACHABLE')
  })

  t.test('an aborted dial rejects with Aborted', async (t) => {
    const env = await makeEnv()
    t.teardown(() => env.close())
    const server = env.connector()
    const address = await server.listen(env.listenOptions, () => recorder())
    const error = await env
      .connector()
      .dial(address, recorder(), { signal: AbortSignal.abort() })
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    t.ok(error instanceof Aborted, 'typed error')
  })

  const pressures = [
    { highWaterMark: 64 * 1024, lowWaterMark: 16 * 1024, size: 256 * 1024 },
    { highWaterMark: 1024, lowWaterMark: 0, size: 4 * 1024 },
  ]
  for (const side of ['dialler', 'acceptor'] as const) {
    for (const { size, ...limits } of pressures) {
      t.test(`backpressure at the ${side} (${size} B frames, high-water mark ${limits.highWaterMark}): send returns false, then drain fires, nothing lost`, async (t) => {
        const p = await pair(t, makeEnv, { server: limits, client: limits })
        const [link, mine, theirs] = side === 'dialler' ? [p.dialled, p.d, p.a] : [p.accepted, p.a, p.d]
        let sent = 0
        let accepted = true
        // The kernel's socket buffers take several MiB first; stop at the first `false`.
        while (accepted && sent * size < 64 << 20) accepted = link.send(pattern(sent++, size))
        t.equal(accepted, false, `send returned false after ${sent} frames`)
        t.ok(link.bufferedAmount() > limits.highWaterMark, 'bufferedAmount is above the high-water mark')
        await waitFor(() => mine.drains === 1, 'drain')
        t.ok(link.bufferedAmount() <= limits.lowWaterMark, 'drained to the low-water mark')
        await waitFor(() => theirs.frames.length === sent, 'every frame')
        t.ok(theirs.frames.every((f, i) => frameNumber(f) === i), 'all frames, in order')
        t.equal(mine.drains, 1, 'drain fires once per false')
      })
    }
  }

  t.test('a frame over the own limit is refused with FrameTooLarge; the link stays usable', async (t) => {
    const limits = { maxPayloadLength: 64 * 1024 }
    const p = await pair(t, makeEnv, { server: limits, client: limits })
    t.throws(() => p.dialled.send(new Uint8Array(64 * 1024 + 1)), FrameTooLarge)
    t.throws(() => p.accepted.send(new Uint8Array(64 * 1024 + 1)), FrameTooLarge)
    p.dialled.send(pattern(1, 64 * 1024))
    p.accepted.send(pattern(2, 64 * 1024))
    await waitFor(() => p.a.frames.length === 1 && p.d.frames.length === 1, 'frames at the limit')
    t.equal(p.a.closes.length + p.d.closes.length, 0, 'still open')
  })

  for (const side of ['acceptor', 'dialler'] as const) {
    t.test(`an oversized frame from the peer closes the link at the ${side} with 1009`, async (t) => {
      const small = { maxPayloadLength: 64 * 1024 }
      const big = { maxPayloadLength: 1 << 20 }
      const p = await pair(t, makeEnv, side === 'acceptor' ? { server: small, client: big } : { server: big, client: small })
      const [sender, strict, lenient] = side === 'acceptor' ? [p.dialled, p.a, p.d] : [p.accepted, p.d, p.a]
      sender.send(pattern(1, 1000))
      sender.send(pattern(2, 100 * 1024))
      await waitFor(() => strict.closes.length === 1 && lenient.closes.length === 1, 'both ends closed')
      t.equal(strict.closes[0]?.code, 1009, 'the enforcing end reports 1009')
      t.match(strict.closes[0]?.reason, /too large/)
      t.same(
        strict.frames.map((f) => f.byteLength),
        [1000],
        'the frame before is delivered, the oversized one is not',
      )
      await new Promise((resolve) => setTimeout(resolve, 50))
      t.equal(strict.closes.length + lenient.closes.length, 2, 'once each')
    })
  }

  t.test('close() of a connector closes all its links and stops listening', async (t) => {
    const env = await makeEnv()
    t.teardown(() => env.close())
    const server = env.connector()
    const accepted: Recorder[] = []
    const address = await server.listen(env.listenOptions, () => {
      const r = recorder()
      accepted.push(r)
      return r
    })
    const dialled = [recorder(), recorder()]
    const clientA = env.connector()
    const clientB = env.connector()
    await clientA.dial(address, dialled[0] as Recorder)
    await clientB.dial(address, dialled[1] as Recorder)
    await waitFor(() => accepted.length === 2, 'accepts')
    await server.close()
    t.ok(accepted.every((r) => r.closes.length === 1), 'accepted ends closed')
    await waitFor(() => dialled.every((r) => r.closes.length === 1), 'dialled ends closed')
    const error = await env
      .connector()
      .dial(address, recorder())
      .then(
        () => undefined,
        (e: unknown) => e,
      )
    t.ok(error instanceof PeerUnreachable, 'nothing listens any more')

    const own = recorder()
    const server2 = env.connector()
    const address2 = await server2.listen(env.listenOptions, () => recorder())
    await clientA.dial(address2, own)
    await clientA.close()
    t.equal(own.closes.length, 1, 'close() also closes the links it dialled')
    await new Promise((resolve) => setTimeout(resolve, 50))
    t.ok([...accepted, ...dialled, own].every((r) => r.closes.length === 1), 'once each')
  })
}
