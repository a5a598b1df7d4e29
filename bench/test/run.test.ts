import t from 'tap'
import { mkdtempSync, readFileSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runBench, orderSuiteFiles } from '../src/run.js'
import { parseOnly } from '../src/lib/select.js'

t.test('suites run in the fixed order, then the rest by name', async (t) => {
  t.same(orderSuiteFiles(['zeta.js', 'peers.js', 'remote.js', 'raw.js', 'alpha.js', 'local.js', 'cluster.js', 'transport.js']), [
    'raw.js', 'local.js', 'transport.js', 'remote.js', 'cluster.js', 'peers.js', 'alpha.js', 'zeta.js',
  ])
})

t.test('runBench: baselines, --only, failures, partial results and timeouts', async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-run-test-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  const suite = (file: string, body: string): void => writeFileSync(join(dir, file), body)
  writeFileSync(join(dir, 'package.json'), '{"type":"module"}')
  suite('raw.js', `export const suite = { name: 'raw', names: ['raw.'], async run() {
    return [{ name: 'raw.batched', value: 10, unit: 'msg/s' }, { name: 'raw.other', value: 1, unit: 'msg/s' }] } }`)
  // Sees the raw records of the same run in ctx.records, and sets only \`baseline\` for a later one.
  suite('remote.js', `export const suite = { name: 'remote', names: ['remote.'], async run(ctx) {
    const raw = ctx.records.find((r) => r.name === 'raw.batched')
    return [{ name: 'remote.tell', value: 4, unit: 'msg/s', baseline: 'raw.batched', baselineValue: raw?.value, ratio: 4 / raw?.value },
            { name: 'remote.vs-peer', value: 6, unit: 'msg/s', baseline: 'peer.x' },
            { name: 'remote.skip', value: 1, unit: 'msg/s', wanted: ctx.wants('remote.skip') }] } }`)
  suite('peers.js', `export const suite = { name: 'peers', names: ['peer.'], async run() { return [{ name: 'peer.x', value: 3, unit: 'msg/s' }] } }`)
  suite('broken.js', `export const suite = { name: 'broken', async run() {
    const e = new Error('half done'); e.records = [{ name: 'broken.kept', value: 1, unit: 'x' }]; throw e } }`)
  suite('hangs.js', `export const suite = { name: 'hangs', names: ['hangs.'], run() { return new Promise(() => {}) } }`)
  // Blocks its event loop for good, after starting a process it never stops: both must be killed.
  suite('blocks.js', `import { spawn } from 'node:child_process'; import { writeFileSync } from 'node:fs'
    export const suite = { name: 'blocks', names: ['blocks.'], run() {
      const c = spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' })
      writeFileSync(${JSON.stringify(join(dir, 'orphan.pid'))}, String(c.pid))
      for (;;) {} } }`)
  suite('exits.js', `export const suite = { name: 'exits', names: ['exits.'], run() { process.exit(7) } }`)
  suite('noexport.js', `export const nothing = 1`)
  suite('unbuilt.js', `import '@murmur/not-there'; export const suite = {}`)
  suite('never.js', `export const suite = { name: 'never', names: ['never.'], run() { throw new Error('must not run') } }`)

  const all = await runBench({ only: parseOnly('raw.batched,remote.tell,remote.vs,peer,broken,hangs,blocks,exits,noexport'), quick: true, suiteTimeoutMs: 2000, suitesDir: dir })
  const byName = new Map(all.records.map((r) => [r.name, r]))
  t.same([...byName.keys()], ['raw.batched', 'remote.tell', 'remote.vs-peer', 'peer.x', 'broken.kept'], 'selected records, suite order, partial results kept')
  t.equal(byName.get('remote.tell')!.ratio, 0.4, 'a suite reads earlier records of the run')
  t.equal(byName.get('remote.vs-peer')!.ratio, 2, 'the runner fills a baseline measured later in the run')
  t.equal(all.failures.length, 5)
  t.match(all.failures.join('\n'), /broken: Error: half done/)
  t.match(all.failures.join('\n'), /hangs: suite hangs timed out after 2 s/)
  t.match(all.failures.join('\n'), /blocks: suite blocks timed out after 2 s/, 'a suite blocking its event loop is stopped too')
  t.match(all.failures.join('\n'), /exits: suite process exited with 7 before reporting/)
  const orphan = Number(readFileSync(join(dir, 'orphan.pid'), 'utf8'))
  await new Promise((r) => setTimeout(r, 100))
  t.throws(() => process.kill(orphan, 0), 'the process the blocking suite started was killed with it')
  t.match(all.failures.join('\n'), /noexport\.js exports no `suite`/)
  t.notMatch(all.failures.join('\n'), /must not run/, 'a suite whose names cannot match is not run')
  t.notMatch(all.failures.join('\n'), /unbuilt/, 'under --only, an unselected suite that cannot load is no failure')
  const unfiltered = await runBench({ only: parseOnly('unbuilt'), quick: true, suiteTimeoutMs: 2000, suitesDir: dir })
  t.match(unfiltered.failures.join('\n'), /unbuilt: Error \[ERR_MODULE_NOT_FOUND\]/, 'a selected suite that cannot load fails')
})
