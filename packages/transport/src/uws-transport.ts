import { createTransport, type TransportInit } from './create-transport.js'
import type { Transport } from './transport.js'
import { uwsConnector, type UwsConnectorInit } from './uws-connector.js'

export type UwsTransportInit = Omit<TransportInit, 'connector'> & {
  /** Connector options (TLS, link buffer limits); `maxPayloadLength` follows `maxFrameSize` unless set. */
  readonly uws?: UwsConnectorInit
}

/**
 * The production transport: uWebSockets.js accepts, `ws` dials, on the system clock.
 *
 * @example
 * const t = createUwsTransport({ nodeId: 'a', cluster: 'demo', secret, port: 7000 })
 * await t.start()
 * const peer = await t.connect('127.0.0.1:7001')
 * t.send(peer.nodeId, { hello: 'world' })
 */
export function createUwsTransport(init: UwsTransportInit): Transport {
  const { uws, ...rest } = init
  const maxPayloadLength = uws?.maxPayloadLength ?? Math.max(init.maxFrameSize ?? 1 << 20, 1 << 20) + 1024
  return createTransport({ ...rest, connector: uwsConnector({ ...uws, maxPayloadLength }) })
}
