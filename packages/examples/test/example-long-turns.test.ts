import t from 'tap'
import { run, ASK_TIMEOUTS } from '../src/examples/long-turns.js'

t.test('long turns: awaiting handlers overlap, others keep moving, asks time out per type', async (t) => {
  const o = await run(() => {})
  t.equal(o.research.length, 4, 'all four research asks answered (within their 5 s per-type timeout)')
  for (const r of o.research) t.ok(r.tookMs >= 1900, `${r.topic} really awaited its I/O (${r.tookMs} ms)`)
  t.ok(new Set(o.research.map((r) => r.node)).size === 2, 'the researchers ran on both nodes')
  t.ok(o.wallMs < 3900, `the four 2 s turns overlapped (${o.wallMs} ms in all, not 8 s)`)
  for (const [node, ticks] of Object.entries(o.ticksDuring)) t.ok(ticks >= 10, `${node}'s heartbeat kept ticking meanwhile (${ticks})`)
  t.equal(o.busyPing.failedWith, 'AskTimeout', 'a ping to a busy agent fails with AskTimeout')
  t.ok(o.busyPing.afterMs >= ASK_TIMEOUTS.ping - 20 && o.busyPing.afterMs < 1500, `after its own ${ASK_TIMEOUTS.ping} ms budget (${o.busyPing.afterMs} ms), not research's`)
  t.equal(o.idlePing, 'pong', 'and succeeds once the agent is idle')
})
