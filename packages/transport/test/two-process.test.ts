import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import { createUwsTransport, type TransportEvents, type UwsTransportInit } from '../src/index.js'
import { range, waitFor } from './helpers/wait.js'

/**
 * Two OS processes over uWebSockets.js. The child (`test/fixtures/echo-peer.mjs`, which imports
 * the built `dist/`: run `npx tsc -b` first) dials us and echoes every message back reliably.
 */
const fixture = fileURLToPath(new URL('./fixtures/echo-peer.mjs', import.meta.url))
const proxyFixture = fileURLToPath(new URL('./fixtures/tcp-proxy.mjs', import.meta.url))

/** Starts the TCP proxy process toward `targetPort`; resolves with it and the port it listens on. */
async function startProxy(t: Tap.Test, listenPort: number, targetPort: number): Promise<{ proc: ChildProcess; port: number }> {
  const proc = spawn(process.execPath, [proxyFixture, String(listenPort), String(targetPort)], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    if (proc.exitCode === null && proc.signalCode === null) proc.kill('SIGKILL')
  })
  const [line] = (await once(proc.stdout!, 'data')) as [Buffer]
  return { proc, port: (JSON.parse(line.toString()) as { port: number }).port }
}

function startChild(t: Tap.Test, parentAddress: string): ChildProcess {
  const child = spawn(process.execPath, [fixture, parentAddress, 'child'], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return child
}

/** The parent node (this process), started: it records what the child echoes and its peer-downs. */
async function startParent(t: Tap.Test, init: Partial<UwsTransportInit>) {
  const parent = createUwsTransport({ nodeId: 'parent', cluster: 'test', secret: 'sesame', heartbeatInterval: 200, ...init })
  t.teardown(() => parent.stop())
  const echoed: number[] = []
  parent.onMessage((m) => echoed.push((m.payload as { echo: number }).echo))
  const downs: Array<TransportEvents['peer-down']> = []
  parent.on('peer-down', (d) => downs.push(d))
  await parent.start()
  return { parent, echoed, downs }
}

declare namespace Tap {
  type Test = import('tap').Test
}

t.test('a reliable stream survives dropped connections; SIGKILL ends in peer-down with the unacked messages', async (t) => {
  const { parent, echoed, downs } = await startParent(t, { reconnect: { giveUpAfter: 1500 } })
  const child = startChild(t, parent.address)
  await waitFor(() => parent.peers().length === 1, 'child connected')

  let next = 0
  const sendBurst = (n: number) => {
    for (const _ of range(n)) parent.send('child', next++)
  }
  // 1. We drop the connection mid-stream.
  sendBurst(20_000)
  await waitFor(() => echoed.length > 0, 'echoes flowing')
  await parent.disconnect('child')
  sendBurst(20_000)
  // 2. The child drops it (and redials).
  parent.send('child', 'drop-link', { channel: 'control' })
  sendBurst(20_000)
  await waitFor(() => echoed.length === next, 'every message echoed once', 60_000)
  t.same(echoed, range(next), 'exactly once, in order, across both disconnections')
  t.ok(parent.metrics().linksOpened! > 2, `links were re-opened (${parent.metrics().linksOpened} opened)`)
  t.equal(downs.length, 0, 'the session survived')

  // 3. SIGKILL: nothing more is acked; peer-down hands back exactly what the child never acked.
  child.kill('SIGKILL')
  // Wait until it is really gone: a signalled process may still read (and ack) for a moment.
  if (child.exitCode === null && child.signalCode === null) await once(child, 'exit')
  const beforeKill = next
  sendBurst(1000)
  await waitFor(() => downs.length === 1, 'peer-down after giveUpAfter', 30_000)
  const handedBack = downs[0]!.unacknowledged.map((u) => u.payload)
  t.same(
    handedBack.filter((p) => typeof p === 'number' && p >= beforeKill),
    range(1000).map((i) => beforeKill + i),
    'every message sent after the kill is handed back, in order',
  )
  // A message delivered just before the kill may come back too if its ack was still on the way
  // (hand-back is at-least-once); anything else coming back would be a bug.
  const extra = handedBack.filter((p) => !(typeof p === 'number' && p >= beforeKill))
  t.ok(extra.length <= 2 && extra.every((p) => p === 'drop-link' || (typeof p === 'number' && echoed.includes(p))), `extras are only delivered-but-unacked messages: ${JSON.stringify(extra)}`)
  t.same(parent.peers(), [])
})

/** A port free on 127.0.0.1 right now (the proxy takes it, so the parent can advertise it before the proxy runs). */
async function freePort(): Promise<number> {
  const srv = createServer()
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r))
  const port = (srv.address() as { port: number }).port
  await new Promise((r) => srv.close(r))
  return port
}

t.test('a reliable stream survives its TCP path being killed mid-stream (a proxy process SIGKILLed and restarted), exactly once and in order', async (t) => {
  const proxyPort = await freePort()
  const parentPort = await freePort()
  // The parent advertises the proxy: the child's first dial and every redial cross it.
  const { parent, echoed, downs } = await startParent(t, { port: parentPort, reconnect: { giveUpAfter: 10_000 }, advertise: `127.0.0.1:${proxyPort}`, highWaterMark: 1 << 20 })
  let proxy = await startProxy(t, proxyPort, parentPort)
  startChild(t, `127.0.0.1:${proxyPort}`)
  await waitFor(() => parent.peers().length === 1, 'child connected through the proxy')
  // A steady stream, paced by flow control, while the path is killed three times under it.
  let next = 0
  let sending = true
  const pump = (async () => {
    while (sending) {
      let room = true
      for (let i = 0; i < 500 && room; i++) room = parent.send('child', next++)
      // Over the high-water mark (1 MiB): wait for the low-water mark, as a well-behaved sender does.
      if (!room) await parent.ready('child', { deadline: 60_000 }).catch(() => {})
      await new Promise((r) => setTimeout(r, 1))
    }
  })()
  const closedBefore = parent.metrics().linksClosed!
  for (let cut = 0; cut < 3; cut++) {
    const seen = echoed.length
    await waitFor(() => echoed.length > seen + 5_000, `stream flowing before cut ${cut + 1}`, 30_000)
    // Kill the path with traffic in flight both ways: no close frame, the sockets just die.
    const closed = parent.metrics().linksClosed!
    proxy.proc.kill('SIGKILL')
    await once(proxy.proc, 'exit')
    await waitFor(() => parent.metrics().linksClosed! > closed, `cut ${cut + 1}: the parent saw its links die`, 30_000)
    proxy = await startProxy(t, proxyPort, parentPort)
  }
  const seen = echoed.length
  await waitFor(() => echoed.length > seen + 5_000, 'stream flowing after the last cut', 30_000)
  sending = false
  await pump
  await waitFor(() => echoed.length === next, 'every message echoed', 60_000)
  t.same(echoed, range(next), `all ${next} messages exactly once, in order, across 3 killed connections`)
  t.equal(downs.length, 0, 'the session survived')
  const m = parent.metrics()
  t.ok(m.linksClosed! - closedBefore >= 3, `links died with the path (${m.linksClosed! - closedBefore} closed)`)
  t.ok(m.retransmitted! > 0, `messages in flight at a cut were sent again (${m.retransmitted} resent, ${m.duplicatesDropped} duplicates dropped)`)
})
