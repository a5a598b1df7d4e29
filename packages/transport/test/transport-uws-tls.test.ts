import t from 'tap'
import { transportCompliance } from './compliance/transport.js'
import { uwsWorld } from './helpers/worlds.js'
import { selfSignedCertificate } from './fixtures/tls.js'

// The whole compliance suite over TLS (uWebSockets.js SSLApp ← wss), with a certificate made now.
const cert = selfSignedCertificate()
if (cert === undefined) t.skip('openssl is not installed: no certificate to test TLS with')
else transportCompliance(t, () => uwsWorld({ tls: { cert: cert.cert, key: cert.key, ca: cert.cert } }))
