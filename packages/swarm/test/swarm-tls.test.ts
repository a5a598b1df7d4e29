import t from 'tap'
import { Swarm } from '../src/index.js'
import { CounterAgent } from './helpers/agents.js'
import { selfSignedCertificate } from '../../transport/test/fixtures/tls.js'

const until = async (what: string, check: () => boolean, ms = 20_000): Promise<void> => {
  const deadline = Date.now() + ms
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 20))
  }
}

const cert = selfSignedCertificate()

t.test('a cluster over TLS: join, spawn, ask across nodes; a plain node cannot join', { skip: cert === undefined ? 'no openssl' : false }, async (t) => {
  const tls = { cert: cert!.cert, key: cert!.key, ca: cert!.cert }
  const secret = 'tls-secret'
  const a = await Swarm.start({ port: 0, secret, tls, agents: [CounterAgent] })
  t.teardown(() => a.stop())
  const b = await Swarm.start({ port: 0, secret, tls, seeds: [a.address], agents: [CounterAgent] })
  t.teardown(() => b.stop())
  await until('two members', () => a.members().filter((m) => m.status === 'alive').length === 2)

  for (let i = 0; i < 20; i++) await a.spawn(CounterAgent, { id: `c-${i}` })
  const homes = new Set<string>()
  for (let i = 0; i < 20; i++) {
    b.ref(CounterAgent, `c-${i}`).tell('add', { n: i })
    const { total } = await b.ref(CounterAgent, `c-${i}`).ask('get', {}, { timeout: 5000 })
    t.equal(total, i, `c-${i} counted over TLS`)
    homes.add(a.find(`c-${i}`)?.node ?? '?')
  }
  t.equal(homes.size, 2, 'agents live on both nodes, so messages crossed the TLS link')

  const plain = await Swarm.start({ port: 0, secret, seeds: [a.address], agents: [CounterAgent] })
  t.teardown(() => plain.stop())
  await new Promise((r) => setTimeout(r, 1500))
  t.notOk(a.members().some((m) => m.id === plain.nodeId), 'a node without TLS never becomes a member')
})
