import t from 'tap'
import { systemClock } from '../src/clock.js'
import { PeerUnreachable } from '../src/errors.js'
import { uwsConnector } from '../src/uws-connector.js'
import { connectorCompliance, recorder, waitFor } from './compliance/connector.js'
import { uwsEnv } from './fixtures/uws-env.js'
import { selfSignedCertificate } from './fixtures/tls.js'

const cert = selfSignedCertificate()
const other = selfSignedCertificate()
if (cert === undefined || other === undefined) {
  t.skip('openssl is not installed: no certificate to test TLS with')
} else {
  const tls = { cert: cert.cert, key: cert.key, ca: cert.cert }

  t.test('compliance over TLS (SSLApp ← wss)', async (t) => {
    connectorCompliance(t, async () => uwsEnv({ tls }))
  })

  t.test('frames cross a TLS link', async (t) => {
    const server = uwsConnector({ tls })({ clock: systemClock })
    const client = uwsConnector({ tls })({ clock: systemClock })
    t.teardown(async () => {
      await client.close()
      await server.close()
    })
    const got = recorder()
    const address = await server.listen({ host: '127.0.0.1', port: 0 }, () => got)
    const link = await client.dial(address, recorder())
    link.send(new Uint8Array([1, 2, 3]))
    await waitFor(() => got.frames.length === 1, 'frame')
    t.same([...(got.frames[0] ?? [])], [1, 2, 3])
  })

  t.test('a server whose certificate the client does not trust is unreachable', async (t) => {
    const server = uwsConnector({ tls })({ clock: systemClock })
    const client = uwsConnector({ tls: { cert: other.cert, key: other.key, ca: other.cert } })({ clock: systemClock })
    t.teardown(async () => {
      await client.close()
      await server.close()
    })
    const accepted = recorder()
    const address = await server.listen({ host: '127.0.0.1', port: 0 }, () => accepted)
    const error = await client.dial(address, recorder()).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(error instanceof PeerUnreachable, 'typed error')
    t.match(String((error as Error).cause), /certificate/i, 'the cause names the certificate')
  })

  t.test('a plain ws:// client cannot talk to a TLS listener', async (t) => {
    const server = uwsConnector({ tls })({ clock: systemClock })
    const client = uwsConnector()({ clock: systemClock })
    t.teardown(async () => {
      await client.close()
      await server.close()
    })
    const address = await server.listen({ host: '127.0.0.1', port: 0 }, () => recorder())
    const error = await client.dial(address, recorder()).then(
      () => undefined,
      (e: unknown) => e,
    )
    t.ok(error instanceof PeerUnreachable)
  })
}
