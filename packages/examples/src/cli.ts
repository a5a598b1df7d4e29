#!/usr/bin/env node
/**
 * The `murmur` command: run a node, look at a cluster, talk to an agent. See `murmur --help`.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util'
import { resolve } from 'node:path'
import { pathToFileURL } from 'node:url'
import { Swarm, type SwarmOptions } from '@murmur/swarm'
import type { AnyProtocol } from '@murmur/actor-core'
import { randomUUID } from 'node:crypto'
import { createUwsTransport, type TlsInit } from '@murmur/transport'
import { readFileSync } from 'node:fs'
import { AdminAgent, serveAdmin, startAdmin, stopAdmin } from './cli/admin.js'
import { withAdminEndpoint, type AdminOp } from './cli/admin-endpoint.js'
import { AdminClient } from './cli/client.js'
import { startDashboard } from './dashboard/server.js'

/** A mistake on the command line: printed with the command's usage, exit status 2. */
class UsageError extends Error {}

const common = `  --seed <host:port>   a node of the cluster (default 127.0.0.1:7000)
  --secret <secret>    the cluster secret (default: $MURMUR_SECRET)
  --cluster <name>     the cluster name (default murmur)
  --timeout <ms>       how long to wait for the seed and for answers (default 5000)
  --tls-cert <file>    PEM certificate: the cluster runs over TLS (with --tls-key; peers dial wss://)
  --tls-key <file>     PEM private key of --tls-cert
  --tls-ca <file>      PEM authority to trust when dialling (default: the certificate itself)`

const help: Record<string, string> = {
  main: `murmur: run and talk to a Murmur cluster

Usage: murmur <command> [options]     (murmur <command> --help for details)

Commands:
  node     run a node hosting the agent classes a module exports (optionally with a dashboard)
  status   print the members, their state and the agents on each
  spawn    start an agent where the cluster places it
  send     tell an agent a message (fire and forget)
  ask      ask an agent a message and print the reply
`,
  node: `Usage: murmur node --agents <module> [options]

Runs one Murmur node until Ctrl-C (then leaves the cluster gracefully).
  --agents <module>    an ES module whose exported agent classes (with a static protocol) this node hosts
  --port <port>        port to listen on (default 7000; 0 picks a free one)
  --host <host>        interface to listen on (default 127.0.0.1)
  --seeds <list>       comma-separated host:port of nodes to join through (none for the first node)
  --secret <secret>    the cluster secret, shared by every node (default: $MURMUR_SECRET)
  --cluster <name>     the cluster name (default murmur)
  --id <node-id>       this node's id (default: a random one)
  --advertise <h:p>    the address other nodes dial to reach this one (default: --host:--port)
  --tls-cert <file>    PEM certificate: the cluster runs over TLS (with --tls-key; peers dial wss://)
  --tls-key <file>     PEM private key of --tls-cert
  --tls-ca <file>      PEM authority to trust when dialling (default: the certificate itself)
  --dashboard <port>   serve the live dashboard on http://127.0.0.1:<port>/
`,
  status: `Usage: murmur status [options]

Prints the members of the cluster, their state, and the agents on each, as the seed sees them.
${common}
  --json               print the raw status as JSON
`,
  spawn: `Usage: murmur spawn <agent-type> <agent-id> [json-input] [options]

Spawns an agent of this type (a protocol name the nodes host) with this id; the cluster places it.
${common}
`,
  send: `Usage: murmur send <agent-id> <message-type> <json-payload> [options]

Tells the agent with this id a message (fire and forget), through the seed.
${common}
`,
  ask: `Usage: murmur ask <agent-id> <message-type> <json-payload> [options]

Asks the agent with this id a message, through the seed, and prints the reply as JSON.
${common}
`,
}

const clientOptions = {
  seed: { type: 'string', default: '127.0.0.1:7000' },
  secret: { type: 'string' },
  cluster: { type: 'string', default: 'murmur' },
  timeout: { type: 'string', default: '5000' },
  json: { type: 'boolean', default: false },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options']

const nodeOptions = {
  agents: { type: 'string' },
  port: { type: 'string', default: '7000' },
  host: { type: 'string', default: '127.0.0.1' },
  seeds: { type: 'string', default: '' },
  secret: { type: 'string' },
  cluster: { type: 'string', default: 'murmur' },
  id: { type: 'string' },
  dashboard: { type: 'string' },
  advertise: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  'tls-ca': { type: 'string' },
  help: { type: 'boolean', short: 'h', default: false },
} as const satisfies ParseArgsConfig['options']

function parse<O extends NonNullable<ParseArgsConfig['options']>>(args: string[], options: O) {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true })
  } catch (e) {
    throw new UsageError(e instanceof Error ? e.message.replace(/\. To specify.*$/s, '') : String(e))
  }
}

function int(value: string, flag: string, min = 0, max = 65535): number {
  const n = Number(value)
  if (!/^\d+$/.test(value) || n < min || n > max) throw new UsageError(`--${flag} must be an integer from ${min} to ${max}, not '${value}'`)
  return n
}

/** `--tls-cert` / `--tls-key` / `--tls-ca` files read as PEM text; none of them means plain WebSocket. */
function tlsOf(values: { 'tls-cert'?: string | undefined; 'tls-key'?: string | undefined; 'tls-ca'?: string | undefined }): TlsInit | undefined {
  const { 'tls-cert': certFile, 'tls-key': keyFile, 'tls-ca': caFile } = values
  if (certFile === undefined && keyFile === undefined && caFile === undefined) return undefined
  if (certFile === undefined || keyFile === undefined) throw new UsageError('--tls-cert and --tls-key go together')
  const read = (file: string, flag: string): string => {
    try {
      return readFileSync(file, 'utf8')
    } catch (e) {
      throw new UsageError(`--${flag}: cannot read ${file} (${(e as NodeJS.ErrnoException).code ?? e})`)
    }
  }
  const cert = read(certFile, 'tls-cert')
  return { cert, key: read(keyFile, 'tls-key'), ca: caFile === undefined ? cert : read(caFile, 'tls-ca') }
}

function hostPort(value: string, flag: string): string {
  if (!/^[^\s:]+:\d{1,5}$/.test(value)) throw new UsageError(`--${flag} must be host:port, not '${value}'`)
  return value
}

function secretOf(flag: string | undefined): string {
  const s = flag ?? process.env.MURMUR_SECRET
  if (s === undefined || s === '') throw new UsageError('a cluster secret is needed: --secret <secret> or MURMUR_SECRET')
  return s
}

/** The agent classes a module exports: functions with a static `protocol` that has `messages`. */
export async function loadAgents(module: string): Promise<Array<{ readonly protocol: AnyProtocol; readonly name: string }>> {
  let mod: Record<string, unknown>
  try {
    mod = (await import(pathToFileURL(resolve(module)).href)) as Record<string, unknown>
  } catch (e) {
    throw new UsageError(`cannot load --agents ${module}: ${e instanceof Error ? e.message : String(e)}`)
  }
  const classes = Object.values(mod).filter(
    (v): v is { protocol: AnyProtocol; name: string } => typeof v === 'function' && typeof (v as { protocol?: { messages?: unknown } }).protocol?.messages === 'object',
  )
  if (classes.length === 0) throw new UsageError(`${module} exports no agent class (a class with a static protocol)`)
  return classes
}

async function runNode(args: string[]): Promise<number> {
  const { values } = parse(args, nodeOptions)
  if (values.help) return print(help.node!)
  if (values.agents === undefined) throw new UsageError('--agents <module> is required')
  const port = int(values.port, 'port')
  const seeds = values.seeds === '' ? [] : values.seeds.split(',').map((s) => hostPort(s.trim(), 'seeds'))
  const dashboard = values.dashboard === undefined ? undefined : int(values.dashboard, 'dashboard', 1)
  const secret = secretOf(values.secret)
  const tls = tlsOf(values)
  const classes = await loadAgents(values.agents)
  const all = [AdminAgent, ...classes]
  const transport = createUwsTransport({
    nodeId: values.id ?? `node-${randomUUID().slice(0, 8)}`,
    cluster: values.cluster,
    secret,
    host: values.host,
    port,
    channels: { default: { parallelism: 1 } },
    ...(values.advertise !== undefined ? { advertise: hostPort(values.advertise, 'advertise') } : {}),
    ...(tls !== undefined ? { uws: { tls } } : {}),
  })
  // The CLI's requests are answered by the admin agent once the node runs.
  let serve: (op: AdminOp, payload: unknown) => Promise<unknown> = async () => {
    throw new Error('the node is starting')
  }
  const node = await Swarm.start({ port, secret, seeds, transport: withAdminEndpoint(transport, (op, p) => serve(op, p)), agents: all as unknown as SwarmOptions['agents'] })
  await startAdmin(node, all, dashboard)
  serve = serveAdmin(node)
  const board = dashboard === undefined ? undefined : await startDashboard(node, { port: dashboard, protocols: all.map((c) => c.protocol) })
  if (board) console.log(`dashboard on http://${board.address}/`)
  console.log(`murmur node ${node.nodeId} listening on ${node.address}; hosting ${classes.map((c) => c.protocol.name).join(', ')}`)
  if (seeds.length > 0) console.log(`joining through ${seeds.join(', ')}`)
  node.on('member-up', (m) => console.log(`member up: ${m.id} (${m.address})`))
  node.on('member-down', (m) => console.log(`member down: ${m.id}`))
  await new Promise<void>((done) => {
    const stop = () => done()
    process.once('SIGINT', stop)
    process.once('SIGTERM', stop)
    // started by a program over IPC (tests, scripts): leave with it
    if (process.send !== undefined) process.once('disconnect', stop)
  })
  console.log('leaving the cluster…')
  board?.close()
  stopAdmin(node)
  await Promise.race([node.stop(), new Promise((r) => setTimeout(r, 5000))])
  return 0
}

type ClientCommand = 'status' | 'spawn' | 'send' | 'ask'

async function runClient(command: ClientCommand, args: string[]): Promise<number> {
  const { values, positionals } = parse(args, clientOptions)
  if (values.help) return print(help[command]!)
  const timeout = int(values.timeout, 'timeout', 1, 600_000)
  const seed = hostPort(values.seed, 'seed')
  let target: { id: string; type: string; payload: unknown } | undefined
  if (command === 'spawn') {
    if (positionals.length < 2 || positionals.length > 3) throw new UsageError(`spawn takes <agent-type> <agent-id> [json-input], got ${positionals.length} argument(s)`)
    const [type, id, json] = positionals as [string, string, string | undefined]
    target = { id, type, payload: json === undefined ? undefined : parseJson(json) }
  } else if (command !== 'status') {
    if (positionals.length !== 3) throw new UsageError(`${command} takes <agent-id> <message-type> <json-payload>, got ${positionals.length} argument(s)`)
    const [id, type, json] = positionals as [string, string, string]
    target = { id, type, payload: parseJson(json) }
  } else if (positionals.length > 0) throw new UsageError(`status takes no arguments, got '${positionals.join(' ')}'`)
  const secret = secretOf(values.secret)
  const tls = tlsOf(values)
  const client = await AdminClient.connect({ seed, secret, cluster: values.cluster, timeout, ...(tls !== undefined ? { tls } : {}) })
  try {
    if (target === undefined) {
      const s = await client.status()
      if (values.json) return print(JSON.stringify(s, null, 2))
      return print(formatStatus(s))
    }
    if (command === 'spawn') {
      const { node } = await client.spawn(target.type, target.id, target.payload)
      return print(`spawned ${target.type}/${target.id} on ${node}`)
    }
    const r = await client.relay(target.id, target.type, target.payload, command === 'ask', timeout)
    if (command === 'send') return print(`sent ${target.type} to ${r.agent}`)
    return print(JSON.stringify(r.reply ?? null, null, 2))
  } finally {
    await client.close()
  }
}

function parseJson(json: string): unknown {
  try {
    return JSON.parse(json)
  } catch (e) {
    throw new UsageError(`not JSON: ${json} (${e instanceof Error ? e.message : String(e)})`)
  }
}

function formatStatus(s: Awaited<ReturnType<AdminClient['status']>>): string {
  const lines = [`cluster as ${s.node} (${s.address}) sees it:`, '', 'members:']
  for (const m of s.members) {
    const agents = s.agents.filter((a) => a.node === m.id && a.type !== 'murmur-admin')
    lines.push(`  ${m.id.padEnd(20)} ${m.address.padEnd(22)} ${m.status.padEnd(8)} ${agents.length} agent(s)`)
    for (const a of agents) lines.push(`      ${a.type}/${a.id}`)
  }
  return lines.join('\n')
}

function print(text: string): number {
  process.stdout.write(text.endsWith('\n') ? text : `${text}\n`)
  return 0
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv
  try {
    if (command === undefined || command === '--help' || command === '-h' || command === 'help') return print(help.main!)
    if (command === 'node') return await runNode(rest)
    if (command === 'status' || command === 'spawn' || command === 'send' || command === 'ask') return await runClient(command, rest)
    throw new UsageError(`unknown command '${command}'`)
  } catch (e) {
    if (e instanceof UsageError) {
      process.stderr.write(`murmur: ${e.message}\n\n${help[command ?? 'main'] ?? help.main}`)
      return 2
    }
    process.stderr.write(`murmur: ${e instanceof Error ? e.message : String(e)}\n`)
    return 1
  }
}

process.exit(await main(process.argv.slice(2)))
