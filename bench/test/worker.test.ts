import t from 'tap'
import { startWorker, runWorker, withWorkers, liveWorkers } from '../src/lib/worker.js'

const ECHO = new URL('./fixtures/echo-worker.mjs', import.meta.url)

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

t.test('a worker answers calls and measures its own CPU', async (t) => {
  const w = await startWorker<{ pid: number; args: string[] }>(ECHO, ['a'])
  t.teardown(() => w.kill())
  t.equal(w.ready.pid, w.pid)
  t.same(w.ready.args, ['a'])
  t.same(await w.call('echo', { x: [1, 2] }), { x: [1, 2] })
  t.same(await w.call('echo', new Float64Array([1.5])), new Float64Array([1.5]), 'typed arrays cross (advanced serialization)')
  const t0 = performance.now()
  await w.cpuMark()
  await w.call('spin', 200)
  const cpu = await w.cpuRead()
  const wallMs = performance.now() - t0
  // The worker used ≥ 200 ms of CPU inside a window shorter than wallMs: at least 200/wallMs of a core.
  t.ok(cpu >= (0.95 * 200 * 100) / wallMs, `reports the CPU it used (${cpu.toFixed(0)}% of ${wallMs.toFixed(0)} ms)`)
  t.ok(cpu <= 150, 'one JavaScript thread: about one core at most')
  await t.rejects(w.call('fail'), /fixture failure/)
  await t.rejects(w.call('nope'), /unknown command nope/)
  t.same(await w.call('echo', 1), 1, 'still serving after a failed call')
})

t.test('a call past its timeout rejects and kills the worker', async (t) => {
  const w = await startWorker(ECHO)
  t.teardown(() => w.kill())
  await t.rejects(w.call('hang', undefined, { timeoutMs: 200 }), /timed out after 200 ms/)
  await w.exited
  t.notOk(alive(w.pid))
  await t.rejects(w.call('echo', 1), /exited/)
})

t.test('a worker that dies before ready rejects with its stderr', async (t) => {
  await t.rejects(startWorker(ECHO, ['crash-on-start']), /exited with 3:\nfixture: crashing as asked/)
})

t.test('runWorker and withWorkers kill their workers, also on error', async (t) => {
  let pid = 0
  await t.rejects(
    withWorkers(async (start) => {
      const w = await start<{ pid: number }>(ECHO)
      pid = w.ready.pid
      throw new Error('suite failed')
    }),
    /suite failed/,
  )
  t.notOk(alive(pid), 'withWorkers killed the worker of a failing function')
  await t.rejects(runWorker(ECHO), /unknown command run/)
  t.same(liveWorkers(), [], 'no worker left running')
})
