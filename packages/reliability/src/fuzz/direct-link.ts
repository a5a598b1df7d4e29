import type { Connector, ConnectorFactory, Link, LinkHandlers } from '@murmur/transport'
import { hello, proofFor, tryDecode, type PeerIdentity } from './wire.js'

/**
 * A link the fuzzer drives by hand: frames go straight into the transport core's handlers, in the
 * caller's turn, so each frame's outcome (typed error, delivery, close, exception) is known the
 * moment `frame` returns. What the node writes back is kept (the last few frames).
 */
export class DirectLink implements Link {
  readonly remoteAddress: string
  readonly received: Uint8Array[] = []
  closed = false
  closeCode: number | undefined
  handlers: LinkHandlers | undefined

  constructor(remoteAddress: string) {
    this.remoteAddress = remoteAddress
  }

  send(frame: Uint8Array): boolean {
    if (this.closed) return true
    if (this.received.length >= 8) this.received.shift()
    this.received.push(frame)
    return true
  }

  bufferedAmount(): number {
    return 0
  }

  close(code = 1000, reason = ''): void {
    if (this.closed) return
    this.closed = true
    this.closeCode = code
    const handlers = this.handlers
    queueMicrotask(() => handlers?.close(code, reason))
  }

  /** Hands one frame to the node. Throws what the node's handler throws (a connector would close 1011). */
  frame(bytes: Uint8Array): void {
    if (!this.closed) this.handlers?.frame(bytes)
  }
}

export interface InjectingConnector {
  readonly factory: ConnectorFactory
  /** A new incoming link, as if a peer had just connected. Valid once the node listens. */
  inject(remoteAddress: string): DirectLink
}

/** Wraps a connector: it listens as usual, and `inject` adds links that bypass the network. */
export function injectingConnector(inner: ConnectorFactory): InjectingConnector {
  let accept: ((link: Link) => LinkHandlers) | undefined
  const factory: ConnectorFactory = (components) => {
    const connector: Connector = inner(components)
    return {
      listen: (options, acceptFn) => {
        accept = acceptFn
        return connector.listen(options, acceptFn)
      },
      dial: (address, handlers, options) => connector.dial(address, handlers, options),
      close: (options) => connector.close(options),
    }
  }
  return {
    factory,
    inject(remoteAddress) {
      if (accept === undefined) throw new Error('the node does not listen yet')
      const link = new DirectLink(remoteAddress)
      link.handlers = accept(link)
      return link
    },
  }
}

/**
 * Runs the dialer's side of the handshake on a fresh injected link, as `identity` (an honest peer
 * when it has the secret, an impostor otherwise). Returns the link, open or closed by the node.
 */
export function authenticateDirect(injector: InjectingConnector, identity: PeerIdentity): DirectLink {
  const link = injector.inject(identity.address)
  const h = hello(identity)
  link.frame(h.bytes)
  const proof = proofFor(h, tryDecode(link.received.at(-1) ?? new Uint8Array()))
  if (proof === undefined) throw new Error('no WELCOME from the node: the fuzzer and the transport disagree on the handshake')
  link.frame(proof)
  return link
}
