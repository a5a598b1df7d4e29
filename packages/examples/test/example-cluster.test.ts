import t from 'tap'
import { runNode, dist, survivors } from './helpers/run.js'

// The example runs 20 nodes; on a 2-core CI machine the test starts 6 (same code path, one flag).
t.test('a multi-node cluster is started, used and stopped by one command', async (t) => {
  const ran = await runNode(dist('examples/cluster.js'), ['--nodes', '6', '--agents', '36'], { timeoutMs: 110_000, onKill: (kill) => t.teardown(kill) })
  t.equal(ran.code, 0, `exit status 0 (stderr: ${ran.stderr.slice(-800)})`)
  t.match(ran.stdout, /every node sees 6 members alive/)
  t.match(ran.stdout, /36\/36 agents answered; spread over (\d+) nodes/)
  const spread = Number(/spread over (\d+) nodes/.exec(ran.stdout)?.[1])
  t.ok(spread >= 4, `agents were placed on most nodes (${spread} of 6)`)
  t.match(ran.stdout, /all 6 nodes left and exited/)
})

t.test('the example ends its node processes', async (t) => {
  const { run } = await import('../src/examples/cluster.js')
  const o = await run({ nodes: 3, agents: 9 }, () => {})
  t.equal(o.answered, 9)
  t.same(await survivors(o.pids), [], 'no node process is left')
})
