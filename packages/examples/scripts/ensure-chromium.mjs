// The dashboard test drives a real headless browser: Debian's chromium. A fresh machine (or CI)
// does not have it, so the package's test script installs it first, outside tap's per-file time
// limit (apt-get on a fresh machine takes minutes). Skipped where there is no apt-get.
import { existsSync } from 'node:fs'
import { execFileSync } from 'node:child_process'

const CHROMIUM = '/usr/bin/chromium'
if (!existsSync(CHROMIUM)) {
  const hasApt = (() => {
    try {
      execFileSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' })
      return true
    } catch {
      return false
    }
  })()
  if (!hasApt) {
    console.error(`ensure-chromium: ${CHROMIUM} is missing and there is no apt-get; the dashboard test will fail`)
  } else {
    const t0 = Date.now()
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    console.log('ensure-chromium: installing Debian chromium for the dashboard test (apt-get)')
    execFileSync('apt-get', ['update'], { stdio: 'inherit', env, timeout: 300_000 })
    execFileSync('apt-get', ['install', '-y', 'chromium'], { stdio: 'inherit', env, timeout: 900_000 })
    console.log(`ensure-chromium: installed in ${Math.round((Date.now() - t0) / 1000)} s`)
  }
}
