import t from 'tap'
import { existsSync, mkdirSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import { dist } from './helpers/run.js'
import { startCliNode, freePort } from './helpers/nodes.js'
import { CHROMIUM, ensureChromium, launchChromium } from './helpers/chromium.js'

const SECRET = 'dashboard-secret-9f3a71'
const env = { MURMUR_SECRET: SECRET }
const screenshot = fileURLToPath(new URL('../../../docs/dashboard.png', import.meta.url))

// Installing chromium on a fresh machine takes minutes: give this file the time it needs.
if (!existsSync(CHROMIUM)) t.setTimeout(900_000)
const installMs = ensureChromium()
if (installMs > 0) t.comment(`installed chromium in ${installMs} ms`)

t.test('the dashboard shows a live 3-node cluster and updates when a node is killed', async (t) => {
  const port = await freePort()
  const agents = dist('cli/sample-agents.js')
  const a = await startCliNode(t, ['--agents', agents, '--port', '0', '--id', 'dash-1', '--dashboard', String(port)], env)
  t.match(a.output(), new RegExp(`dashboard on http://127\\.0\\.0\\.1:${port}/`), 'the dashboard binds 127.0.0.1')
  await startCliNode(t, ['--agents', agents, '--port', '0', '--id', 'dash-2', '--seeds', a.address], env)
  const c = await startCliNode(t, ['--agents', agents, '--port', '0', '--id', 'dash-3', '--seeds', a.address], env)

  const browser = await launchChromium()
  t.teardown(() => browser.close())
  const page = await browser.context.newPage()
  const response = await page.goto(`http://127.0.0.1:${port}/`, { timeout: 30_000 })
  t.equal(response?.status(), 200, 'the page loads')
  t.equal(await page.title(), 'Murmur dashboard')

  const alive = (id: string) => page.locator(`tr[data-member="${id}"][data-status="alive"]`)
  for (const id of ['dash-1', 'dash-2', 'dash-3']) await alive(id).waitFor({ timeout: 30_000 })
  t.pass('all three members are shown alive')
  await page.locator('#overlay g[data-node]').nth(2).waitFor({ timeout: 10_000 })
  t.equal(await page.locator('#overlay g[data-node]').count(), 3, 'the overlay draws three nodes')
  await page.waitForFunction(() => document.querySelectorAll('#overlay line').length >= 3, undefined, { timeout: 20_000 })
  t.pass('and the links of the full mesh between them')
  t.equal(await page.locator('#conn').textContent(), 'live', 'the WebSocket is connected')

  // some traffic, so the rates and agents panels have something to show
  const { runNode } = await import('./helpers/run.js')
  for (const id of ['g-1', 'g-2', 'g-3', 'g-4']) await runNode(dist('cli.js'), ['spawn', 'greeter', id, '--seed', a.address], { timeoutMs: 20_000, env })
  await runNode(dist('cli.js'), ['ask', 'nobody-home', 'greet', '{"name":"x"}', '--seed', a.address], { timeoutMs: 20_000, env })

  c.process.kill('SIGKILL')
  await page.locator('tr[data-member="dash-3"]:not([data-status="alive"])').waitFor({ timeout: 30_000 })
  t.pass('the killed member is no longer shown alive')
  await page.locator('tr[data-member="dash-3"][data-status="dead"]').waitFor({ timeout: 30_000 })
  t.pass('and then shown dead')
  await page.locator('#events li', { hasText: 'member-down' }).first().waitFor({ timeout: 10_000 })
  t.pass('the membership panel lists the loss')
  await page.locator('#partition', { hasText: 'cut off dash-3' }).waitFor({ timeout: 10_000 })
  t.pass('and shows the partition: dash-3 cut off from this side')

  const html = await page.content()
  t.notMatch(html, SECRET, 'the page never shows the secret')
  const state = await (await page.request.get(`http://127.0.0.1:${port}/state.json`)).text()
  t.notMatch(state, SECRET, 'nor does /state.json')
  t.match(JSON.parse(state), { node: 'dash-1', members: [{ id: 'dash-1' }, { id: 'dash-2' }, { id: 'dash-3', status: 'dead' }] })

  mkdirSync(fileURLToPath(new URL('../../../docs/', import.meta.url)), { recursive: true })
  await page.screenshot({ path: screenshot, fullPage: true })
  t.ok(existsSync(screenshot), `screenshot saved to ${screenshot}`)
})
