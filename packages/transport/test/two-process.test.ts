import t from 'tap'
import { spawn, type ChildProcess } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { createUwsTransport, type TransportEvents } from '../src/index.js'
import { range, waitFor } from './helpers/wait.js'

/**
 * Two OS processes over uWebSockets.js. The child (`test/fixtures/echo-peer.mjs`, which imports
 * the built `dist/`: run `npx tsc -b` first) dials us and echoes every message back reliably.
 */
const fixture = fileURLToPath(new URL('./fixtures/echo-peer.mjs', import.meta.url))

function startChild(t: Tap.Test, parentAddress: string): ChildProcess {
  const child = spawn(process.execPath, [fixture, parentAddress, 'child'], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  return child
}

declare namespace Tap {
  type Test = import('tap').Test
}

t.test('a reliable stream survives dropped connections; SIGKILL ends in peer-down with the unacked messages', async (t) => {
  const parent = createUwsTransport({
    nodeId: 'parent',
    cluster: 'test',
    secret: 'sesame',
    heartbeatInterval: 200,
    reconnect: { giveUpAfter: 1500 },
  })
  t.teardown(() => parent.stop())
  const echoed: number[] = []
  parent.onMessage((m) => echoed.push((m.payload as { echo: number }).echo))
  const downs: Array<TransportEvents['peer-down']> = []
  parent.on('peer-down', (d) => downs.push(d))
  await parent.start()
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
