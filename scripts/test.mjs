// Runs every package's tests through turbo, two packages at a time (most test time is spent
// waiting on real processes and timers, so this halves the wall time on two cores), and closes with the one plain line CI reads:
// `N passed, N failed`. tap without a terminal prints only raw TAP, so we sum its per-package
// `# { total, pass, fail }` summaries here and keep turbo's exit status.
import { spawn } from 'node:child_process'
import { readdirSync, existsSync, readFileSync } from 'node:fs'
import { join } from 'node:path'

const root = new URL('..', import.meta.url).pathname
// Every workspace package with a test script: packages/* and bench.
const packageDirs = [...readdirSync(join(root, 'packages')).map((dir) => join('packages', dir)), 'bench']
const withTests = packageDirs.flatMap((dir) => {
  const pkg = join(root, dir, 'package.json')
  if (!existsSync(pkg)) return []
  const manifest = JSON.parse(readFileSync(pkg, 'utf8'))
  return manifest.scripts?.test !== undefined ? [manifest.name] : []
})

const args = ['run', 'test', '--concurrency=2', '--log-order=grouped', '--continue', ...process.argv.slice(2)]
const child = spawn('turbo', args, {
  cwd: root,
  env: { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1', FORCE_COLOR: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
})

let passed = 0
let failed = 0
const summarised = new Set()
let buffered = ''
const summary = /^(?:(\S+?):test:\s*)?# \{ total: (\d+)(?:, pass: (\d+))?(?:, fail: (\d+))?/

const onLine = (line) => {
  const m = summary.exec(line.trim())
  if (m === null) return
  const total = Number(m[2])
  const pass = Number(m[3] ?? 0)
  const fail = Number(m[4] ?? 0)
  passed += pass
  failed += fail
  if (m[1] !== undefined) summarised.add(m[1])
  void total
}

child.stdout.on('data', (chunk) => {
  process.stdout.write(chunk)
  buffered += chunk.toString('utf8')
  const lines = buffered.split('\n')
  buffered = lines.pop() ?? ''
  for (const line of lines) onLine(line)
})

child.on('close', (code) => {
  if (buffered !== '') onLine(buffered)
  // A package whose tests never reported (build error, crash before tap's summary) counts as a failure.
  const missing = withTests.filter((name) => !summarised.has(name))
  if (missing.length > 0) {
    process.stdout.write(`\nno test summary from: ${missing.join(', ')}\n`)
    failed += missing.length
  }
  const status = code === 0 && failed === 0 ? 0 : code || 1
  process.stdout.write(`\n${passed} passed, ${failed} failed\n`)
  process.exit(status)
})
