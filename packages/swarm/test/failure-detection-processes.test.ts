import t from 'tap'
import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { ProcessCluster } from './helpers/processes.js'

const BUSY = fileURLToPath(new URL('./fixtures/busy.mjs', import.meta.url))

t.test('kill -9 is detected by every survivor within 2 s with the CPU loaded, and nobody live is ever suspected', async (t) => {
  const c = new ProcessCluster()
  t.teardown(() => c.closeAll())
  // Two busy processes on a 2-core machine: the nodes compete for CPU the whole time.
  for (let i = 0; i < 2; i++) c.others.push(fork(BUSY, ['60000'], { stdio: 'ignore' }))
  const a = await c.start('a', [])
  const b = await c.start('b', [a.address])
  const cc = await c.start('c', [a.address])
  const v = await c.start('v', [a.address])
  await c.until(() => c.converged(['a', 'b', 'c', 'v']), 'membership of 4')
  // Some traffic, so the event loops are not idle either.
  await a.call('spawn', { type: 'counter', prefix: 'f-', count: 200 })
  await new Promise((r) => setTimeout(r, 4000))
  const suspicions = [a, b, cc, v].flatMap((n) => n.events.filter((e) => e.event === 'member-suspect' || e.event === 'member-down'))
  t.same(suspicions, [], 'no false suspicion in 4 s under load')
  const killedAt = v.kill9()
  const survivors = [a, b, cc]
  await c.until(() => survivors.every((n) => n.events.some((e) => e.event === 'member-down' && e.id === 'v')), 'v down everywhere', 10_000)
  for (const n of survivors) {
    const down = n.events.find((e) => e.event === 'member-down' && e.id === 'v')!
    t.ok(down.at - killedAt <= 2000, `${n.nodeId} saw member-down ${down.at - killedAt} ms after the kill`)
  }
  const falseOnes = survivors.flatMap((n) => n.events.filter((e) => (e.event === 'member-suspect' || e.event === 'member-down') && e.id !== 'v'))
  t.same(falseOnes, [], 'no survivor was suspected')
})
