// usage errors and --help of the murmur command (no cluster needed)
import t from 'tap'
import { runNode, dist } from './helpers/run.js'

const SECRET = 'cli-test-secret'
const env = { MURMUR_SECRET: SECRET }
const murmur = (args: string[], extra: NodeJS.ProcessEnv = env) => runNode(dist('cli.js'), args, { timeoutMs: 20_000, env: extra })

t.test('--help on the command and on each subcommand', async (t) => {
  for (const args of [['--help'], ['node', '--help'], ['status', '--help'], ['spawn', '--help'], ['send', '--help'], ['ask', '-h']]) {
    const r = await murmur(args)
    t.equal(r.code, 0, `${args.join(' ')} exits 0`)
    t.match(r.stdout, /Usage: murmur/, `${args.join(' ')} prints usage`)
  }
})

t.test('bad flags and arguments are usage errors (exit 2) with a clear message', async (t) => {
  const cases: Array<[string[], RegExp]> = [
    [['frobnicate'], /unknown command 'frobnicate'/],
    [['status', '--sed', 'x'], /Unknown option '--sed'/],
    [['node', '--agents', dist('cli/sample-agents.js'), '--port', 'eighty'], /--port must be an integer/],
    [['node', '--port', '7000'], /--agents <module> is required/],
    [['node', '--agents', '/nonexistent/agents.js'], /cannot load --agents/],
    [['node', '--agents', dist('demo/wordcount.js'), '--port', '0'], /exports no agent class/],
    [['status', '--seed', 'nohostport'], /--seed must be host:port/],
    [['ask', 'x', 'greet'], /ask takes <agent-id> <message-type> <json-payload>, got 2/],
    [['send', 'x', 'greet', '{not json'], /not JSON/],
  ]
  for (const [args, message] of cases) {
    const r = await murmur(args)
    t.equal(r.code, 2, `${args.join(' ')} exits 2`)
    t.match(r.stderr, message, `${args.join(' ')}: ${message}`)
  }
  const r = await murmur(['status'], { MURMUR_SECRET: '' })
  t.equal(r.code, 2)
  t.match(r.stderr, /a cluster secret is needed/)
})

