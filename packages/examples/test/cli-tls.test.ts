import t from 'tap'
import { mkdtempSync, writeFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runNode, dist } from './helpers/run.js'
import { startCliNode, freePort } from './helpers/nodes.js'
import { selfSignedCertificate } from '../../transport/test/fixtures/tls.js'

const env = { MURMUR_SECRET: 'cli-tls-secret' }
const murmur = (args: string[]) => runNode(dist('cli.js'), args, { timeoutMs: 20_000, env })
const cert = selfSignedCertificate()

t.test('murmur over TLS: two nodes, then status and ask from the terminal', { skip: cert === undefined ? 'no openssl' : false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-cli-tls-'))
  t.teardown(() => rmSync(dir, { recursive: true, force: true }))
  writeFileSync(join(dir, 'cert.pem'), cert!.cert)
  writeFileSync(join(dir, 'key.pem'), cert!.key)
  const tls = ['--tls-cert', join(dir, 'cert.pem'), '--tls-key', join(dir, 'key.pem')]

  const p1 = await freePort()
  const a = await startCliNode(t, ['--agents', dist('cli/sample-agents.js'), '--port', String(p1), '--id', 'tls-a', ...tls], env)
  const b = await startCliNode(t, ['--agents', dist('cli/sample-agents.js'), '--port', '0', '--id', 'tls-b', '--seeds', a.address, ...tls], env)

  let status = ''
  for (let i = 0; i < 100 && !/tls-b\s+\S+\s+alive/.test(status); i++) {
    status = (await murmur(['status', '--seed', a.address, ...tls])).stdout
    if (!/tls-b\s+\S+\s+alive/.test(status)) await new Promise((r) => setTimeout(r, 200))
  }
  t.match(status, /tls-b\s+127\.0\.0\.1:\d+\s+alive/, 'the second node joined over TLS')
  t.equal((await murmur(['spawn', 'greeter', 'g-1', '--seed', a.address, ...tls])).code, 0)
  const asked = await murmur(['ask', 'g-1', 'greet', '{"name":"Ada"}', '--seed', b.address, ...tls])
  t.same(JSON.parse(asked.stdout), { text: 'hello, Ada', greeted: 1 }, 'ask answered over TLS')

  const plain = await murmur(['status', '--seed', a.address, '--timeout', '2000'])
  t.equal(plain.code, 1, 'a plain client cannot talk to a TLS node')

  const half = await murmur(['status', '--seed', a.address, '--tls-cert', join(dir, 'cert.pem')])
  t.equal(half.code, 2, '--tls-cert without --tls-key is a usage error')
  t.match(half.stderr, /--tls-cert and --tls-key go together/)
})
