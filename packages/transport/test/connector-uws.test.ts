import t from 'tap'
import { createRequire } from 'node:module'
import { createServer } from 'node:net'
import uWS from 'uWebSockets.js'
import WebSocket from 'ws'
import { systemClock } from '../src/clock.js'
import { AddressInUse, PeerUnreachable } from '../src/errors.js'
import { uwsConnector } from '../src/uws-connector.js'
import { connectorCompliance, recorder } from './compliance/connector.js'
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

t.test('uws specifics', async (t) => {
  t.test('an address ws cannot parse rejects with PeerUnreachable', async (t) => {
    const client = uwsConnector()({ clock: systemClock })
    await t.rejects(client.dial('not an address', recorder()), PeerUnreachable)
  })

  t.test('a listener that never answers the upgrade fails the dial after dialTimeout', async (t) => {
    const silent = createServer(() => {})
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve))
    t.teardown(() => silent.close())
    const address = silent.address()
    if (typeof address !== 'object' || address === null) throw new Error('no address')
    const client = uwsConnector({ dialTimeout: 200 })({ clock: systemClock })
    const started = Date.now()
    await t.rejects(client.dial(`127.0.0.1:${address.port}`, recorder()), PeerUnreachable)
    t.ok(Date.now() - started < 5000, 'within the timeout, not the OS default')
  })

  t.test('a text message closes the link with 1003', async (t) => {
    const server = uwsConnector()({ clock: systemClock })
    t.teardown(() => server.close())
    const got = recorder()
    const address = await server.listen({ host: '127.0.0.1', port: 0 }, () => got)
    const raw = new WebSocket(`ws://${address}/`)
    const closed = new Promise<number>((resolve) => raw.on('close', (code) => resolve(code)))
    raw.on('open', () => raw.send('hello'))
    t.equal(await closed, 1003)
    t.same(got.closes, [{ code: 1003, reason: 'binary frames only' }])
    t.equal(got.frames.length, 0)
  })

  t.test('a port already taken is AddressInUse', async (t) => {
    const a = uwsConnector()({ clock: systemClock })
    const b = uwsConnector()({ clock: systemClock })
    t.teardown(async () => {
      await a.close()
      await b.close()
    })
    const address = await a.listen({ host: '127.0.0.1', port: 0 }, () => recorder())
    const port = Number(address.split(':')[1])
    await t.rejects(b.listen({ host: '127.0.0.1', port }, () => recorder()), AddressInUse)
    await t.rejects(a.listen({ host: '127.0.0.1', port: 0 }, () => recorder()), AddressInUse, 'one listener per connector')
    const link = await b.dial(address, recorder())
    t.ok(link, 'the first listener still serves')
  })
})
