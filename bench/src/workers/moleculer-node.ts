/**
 * One Moleculer node for the `peers` suite:
 * `node moleculer-node.js <rx|tx> <nodeID> <port> <peerID> <peerPort>`.
 * TCP transporter with static URLs on 127.0.0.1, no UDP discovery, JSON serializer (the default).
 * The `rx` node hosts service `bench` (event `bench.msg` counted, action `bench.echo`); the `tx`
 * node waits for it and drives the measurements (`emit`, `call`, `rtt`).
 */
import net from 'node:net'
import moleculer from 'moleculer'
import { serveWorker } from '../lib/serve.js'

// Moleculer 0.14's TCP transporter listens on every interface and advertises every address of the
// machine; this bench must stay on loopback, so default every listen to 127.0.0.1 (below, the
// node also advertises only 127.0.0.1).
const listen = net.Server.prototype.listen
net.Server.prototype.listen = function (this: net.Server, ...args: unknown[]) {
  const first = args[0]
  if (typeof first === 'object' && first !== null && !('host' in first)) args[0] = { ...first, host: '127.0.0.1' }
  else if (typeof first === 'number' && typeof args[1] !== 'string') args.splice(1, 0, '127.0.0.1')
  return (listen as (...a: unknown[]) => net.Server).apply(this, args)
} as typeof net.Server.prototype.listen

const [role = 'rx', nodeID = 'a', port = '0', peerID = 'b', peerPort = '0'] = process.argv.slice(2)
const PAYLOAD = { d: 'x'.repeat(64) }

const broker = new moleculer.ServiceBroker({
  nodeID,
  logger: false,
  metrics: false,
  tracing: false,
  transporter: {
    type: 'TCP',
    options: { udpDiscovery: false, port: Number(port), urls: [`127.0.0.1:${peerPort}/${peerID}`], useHostname: false },
  },
})
// Moleculer internals (0.14): the local node's advertised addresses.
const local = (broker.registry as unknown as { nodes: { localNode: { ipList: string[]; hostname: string } } }).nodes.localNode
local.ipList = ['127.0.0.1']
local.hostname = '127.0.0.1'

let received = 0
let t0 = 0n
type SinkResult = { events: number; seconds: number }
let ended: ((r: SinkResult) => void) | undefined
let result: SinkResult | undefined
if (role === 'rx') broker.createService({
  name: 'bench',
  events: {
    'bench.msg'() {
      if (received++ === 0) t0 = process.hrtime.bigint()
    },
    'bench.end'() {
      result = { events: received, seconds: Number(process.hrtime.bigint() - t0) / 1e9 }
      ended?.(result)
    },
  },
  actions: {
    echo: (ctx: moleculer.Context<typeof PAYLOAD>) => ctx.params,
  },
})
await broker.start()
if (role === 'tx') await broker.waitForServices(['bench'], 20_000)

/** Emits `bench.msg` for `ms` in bursts of 100 (each awaited: written to the socket), then `bench.end`. */
async function emit(args: { ms: number }): Promise<number> {
  const end = Date.now() + args.ms
  let sent = 0
  while (Date.now() < end) {
    const burst: Promise<unknown>[] = []
    for (let i = 0; i < 100; i++) burst.push(broker.emit('bench.msg', PAYLOAD))
    await Promise.all(burst)
    sent += 100
  }
  await broker.emit('bench.end', {})
  return sent
}

/** Calls per second of `bench.echo` with `window` calls in flight for `ms`. */
async function call(args: { window: number; ms: number }): Promise<number> {
  const end = Date.now() + args.ms
  let done = 0
  const t = process.hrtime.bigint()
  const lane = async (): Promise<void> => {
    while (Date.now() < end) {
      await broker.call('bench.echo', PAYLOAD)
      done++
    }
  }
  await Promise.all(Array.from({ length: args.window }, lane))
  return done / (Number(process.hrtime.bigint() - t) / 1e9)
}

/** µs of `samples` sequential calls (bounded by `ms`). */
async function rtt(args: { samples: number; ms: number }): Promise<Float64Array> {
  const out = new Float64Array(args.samples)
  const end = Date.now() + args.ms
  let n = 0
  while (n < args.samples && (n & 255 || Date.now() < end)) {
    const s = process.hrtime.bigint()
    await broker.call('bench.echo', PAYLOAD)
    out[n++] = Number(process.hrtime.bigint() - s) / 1000
  }
  return out.subarray(0, n)
}

serveWorker(
  {
    emit,
    call,
    rtt,
    'sink-arm': () => {
      received = 0
      ended = undefined
      result = undefined
    },
    'sink-wait': (timeoutMs: number) =>
      result ??
      new Promise((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`moleculer: no bench.end after ${timeoutMs} ms (${received} events)`)), timeoutMs)
        ended = (r) => {
          clearTimeout(t)
          resolve(r)
        }
      }),
  },
  { nodeID, port: Number(port) },
)
