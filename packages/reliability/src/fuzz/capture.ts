import { createMemoryNetwork, createTransport, type Connector, type ConnectorFactory, type Link, type LinkHandlers } from '@murmur/transport'

/** Wraps a connector so every frame either side writes is also handed to `record`. */
export function recordingConnector(inner: ConnectorFactory, record: (frame: Uint8Array) => void): ConnectorFactory {
  return (components) => {
    const connector: Connector = inner(components)
    const wrap = (link: Link): Link => ({
      remoteAddress: link.remoteAddress,
      send: (frame) => {
        record(frame.slice())
        return link.send(frame)
      },
      bufferedAmount: () => link.bufferedAmount(),
      close: (code, reason) => link.close(code, reason),
      ...(link.cork ? { cork: (fn: () => void) => (link.cork as (fn: () => void) => void)(fn) } : {}),
    })
    return {
      listen: (options, accept) => connector.listen(options, (link) => accept(wrap(link))),
      dial: async (address, handlers: LinkHandlers, options) => wrap(await connector.dial(address, handlers, options)),
      close: (options) => connector.close(options),
    }
  }
}

/**
 * The frames of a real session between two transports on a memory network: both handshakes'
 * HELLO / WELCOME / PROOF, data frames of every guarantee (acks inside), pings and the chunks of a
 * large message. The fuzzer mutates these.
 */
export async function captureSession(): Promise<Uint8Array[]> {
  const frames: Uint8Array[] = []
  const net = createMemoryNetwork({ seed: 7, traceLimit: 0 })
  const common = { cluster: 'fuzz', secret: 'fuzz-secret', heartbeatInterval: 50, chunkSize: 4096, channels: { default: {}, bulk: { parallelism: 2, monotonic: true } } }
  const a = createTransport({ ...common, nodeId: 'a', incarnation: 1, clock: net.clockFor('a'), connector: recordingConnector(net.connector('a'), (f) => frames.push(f)) })
  const b = createTransport({ ...common, nodeId: 'b', incarnation: 2, clock: net.clockFor('b'), connector: recordingConnector(net.connector('b'), (f) => frames.push(f)) })
  let received = 0
  b.onMessage(() => received++)
  net.autoRun()
  try {
    await a.start()
    await b.start()
    await a.connect('b')
    for (let i = 0; i < 20; i++) {
      a.send('b', { i, text: 'hello' }, { guarantee: ['reliable', 'fifo'], key: `k${i % 3}` })
      a.send('b', i, { guarantee: ['reliable', 'causal'], group: 'g' })
      a.send('b', { v: i }, { channel: 'bulk', guarantee: ['monotonic'], key: 'm' })
      a.send('b', 'x', { guarantee: ['best-effort'] })
    }
    a.send('b', new Uint8Array(10_000), { guarantee: ['reliable'] })
    const end = Date.now() + 5000
    while (received < 61 && Date.now() < end) await new Promise((r) => setTimeout(r, 2))
    await new Promise((r) => setTimeout(r, 20)) // virtual time runs ahead meanwhile: pings
  } finally {
    await a.stop()
    await b.stop()
    net.stop()
  }
  return frames
}
