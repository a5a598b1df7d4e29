import t from 'tap'
import { runNode, dist } from './helpers/run.js'
import { startCliNode, freePort } from './helpers/nodes.js'

const SECRET = 'cli-test-secret'
const env = { MURMUR_SECRET: SECRET }
const murmur = (args: string[], extra: NodeJS.ProcessEnv = env) => runNode(dist('cli.js'), args, { timeoutMs: 20_000, env: extra })

t.test('a two-node cluster driven from the terminal', async (t) => {
  const p1 = await freePort()
  const a = await startCliNode(t, ['--agents', dist('cli/sample-agents.js'), '--port', String(p1), '--id', 'cli-a'], env)
  const b = await startCliNode(t, ['--agents', dist('cli/sample-agents.js'), '--port', '0', '--id', 'cli-b', '--seeds', a.address], env)

  // wait until the seed sees both members
  let status = ''
  for (let i = 0; i < 100 && !/cli-b\s+\S+\s+alive/.test(status); i++) {
    status = (await murmur(['status', '--seed', a.address])).stdout
    if (!/cli-b\s+\S+\s+alive/.test(status)) await new Promise((r) => setTimeout(r, 200))
  }
  t.match(status, /cli-a\s+127\.0\.0\.1:\d+\s+alive/, 'status lists node a alive')
  t.match(status, /cli-b\s+127\.0\.0\.1:\d+\s+alive/, 'status lists node b alive')

  const spawned = await murmur(['spawn', 'greeter', 'g-1', '--seed', a.address])
  t.equal(spawned.code, 0, spawned.stderr)
  t.match(spawned.stdout, /spawned greeter\/g-1 on cli-[ab]/)

  const asked = await murmur(['ask', 'g-1', 'greet', '{"name":"Ada"}', '--seed', b.address])
  t.equal(asked.code, 0, asked.stderr)
  t.same(JSON.parse(asked.stdout), { text: 'hello, Ada', greeted: 1 }, 'the reply comes back, whichever node hosts g-1')

  t.equal((await murmur(['spawn', 'counter', 'c-1', '--seed', b.address])).code, 0)
  for (const n of [5, 7]) {
    const sent = await murmur(['send', 'c-1', 'add', JSON.stringify({ n }), '--seed', a.address])
    t.equal(sent.code, 0, sent.stderr)
    t.match(sent.stdout, /sent add to counter\/c-1/)
  }
  let total = 0
  for (let i = 0; i < 50 && total !== 12; i++) {
    total = JSON.parse((await murmur(['ask', 'c-1', 'get', '{}', '--seed', a.address])).stdout)
  }
  t.equal(total, 12, 'both sends arrived')

  const json = JSON.parse((await murmur(['status', '--seed', b.address, '--json'])).stdout)
  t.same(json.members.map((m: { id: string }) => m.id).sort(), ['cli-a', 'cli-b'])
  t.ok(json.agents.some((x: { id: string; type: string }) => x.id === 'g-1' && x.type === 'greeter'), 'status --json lists g-1')
  t.notMatch(JSON.stringify(json), new RegExp(SECRET), 'the secret never appears')

  const cases: Array<[string[], RegExp, NodeJS.ProcessEnv?]> = [
    [['ask', 'nobody', 'greet', '{"name":"x"}', '--seed', a.address], /no agent with id 'nobody'/],
    [['ask', 'g-1', 'shout', '{}', '--seed', a.address], /'greeter' has no message type 'shout'/],
    [['ask', 'g-1', 'greet', '{"name":42}', '--seed', a.address], /SCHEMA|schema|expected string/i],
    [['spawn', 'unicorn', 'u-1', '--seed', a.address], /no agent type 'unicorn'/],
    [['status', '--seed', a.address], /refused our secret/, { MURMUR_SECRET: 'wrong' }],
    [['status', '--seed', `127.0.0.1:${await freePort()}`, '--timeout', '2000'], /cannot reach the seed/],
  ]
  for (const [args, message, e] of cases) {
    const r = await murmur(args, e ?? env)
    t.equal(r.code, 1, `${args.join(' ')} exits 1`)
    t.match(r.stderr, message, `${args.join(' ')}: ${message}`)
  }
  // the greeter kept its state through the failed calls
  const again = await murmur(['ask', 'g-1', 'greet', '{"name":"Bob"}', '--seed', a.address])
  t.same(JSON.parse(again.stdout), { text: 'hello, Bob', greeted: 2 }, 'nothing accepted before was lost')
})
