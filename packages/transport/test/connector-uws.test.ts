import t from 'tap'
import { createRequire } from 'node:module'
import uWS from 'uWebSockets.js'
import { connectorCompliance } from './compliance/connector.js'
import { uwsEnv } from './fixtures/uws-env.js'

t.test('the native uWebSockets.js addon is loaded, not the JavaScript fallback', async (t) => {
  t.ok(String(uWS.App).includes('[native code]'))
  t.ok(String(uWS.SSLApp).includes('[native code]'))
})

t.test('ws finds bufferutil, and it is the native build', async (t) => {
  const require = createRequire(import.meta.url)
  // Resolve bufferutil the way ws itself does: from ws's own directory.
  const fromWs = createRequire(require.resolve('ws'))
  const bufferutil = fromWs('bufferutil') as { mask: unknown; unmask: unknown }
  t.ok(String(bufferutil.mask).includes('[native code]'), 'mask is native')
  t.ok(String(bufferutil.unmask).includes('[native code]'), 'unmask is native')
  t.notOk(process.env['WS_NO_BUFFER_UTIL'], 'not disabled by the environment')
})

connectorCompliance(t, async () => uwsEnv())
