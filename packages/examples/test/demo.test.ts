import t from 'tap'
import { runNode, dist, survivors } from './helpers/run.js'

t.test('the demo indexes the corpus on 3 nodes, survives a SIGKILL half-way, and matches one process', async (t) => {
  const ran = await runNode(dist('demo.js'), [], { timeoutMs: 100_000, onKill: (kill) => t.teardown(kill) })
  t.equal(ran.code, 0, `exit status 0 (stderr: ${ran.stderr.slice(-500)})`)
  t.match(ran.stdout, /cluster formed: 3 members/)
  t.match(ran.stdout, /killed node-3 with SIGKILL at (\d+)\/(\d+) tasks/, 'a node was killed mid-job')
  const [, at, total] = /killed node-3 with SIGKILL at (\d+)\/(\d+)/.exec(ran.stdout) ?? []
  t.ok(Number(at) > 0 && Number(at) < Number(total), 'the kill happened with work left to do')
  t.match(ran.stdout, /back in the queue \(node-down\)/, "the lost node's leases were re-queued")
  t.match(ran.stdout, /✓ matches the single-process computation/)
  t.notMatch(ran.stdout, /DOES NOT match/)
  t.ok(ran.ms < 60_000, `done in under a minute (${ran.ms} ms)`)
  const pids = [...ran.stdout.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]))
  t.equal(pids.length, 3, 'three node processes were started')
  t.same(await survivors(pids), [], 'no node process outlives the demo')
})

t.test('Ctrl-C ends the demo and every node', async (t) => {
  const { spawn } = await import('node:child_process')
  const child = spawn(process.execPath, [dist('demo.js')], { stdio: ['ignore', 'pipe', 'pipe'] })
  t.teardown(() => child.kill('SIGKILL'))
  let out = ''
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error('the job did not start within 30 s')), 30_000)
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.includes('job started')) {
        clearTimeout(timer)
        resolve()
      }
    })
  })
  child.kill('SIGINT')
  const code = await new Promise((r) => child.on('exit', (c, s) => r(c ?? s)))
  t.not(code, 0, 'interrupted, not a success')
  const pids = [...out.matchAll(/pid (\d+)/g)].map((m) => Number(m[1]))
  t.equal(pids.length, 3)
  t.same(await survivors(pids), [], 'every node ended')
})
