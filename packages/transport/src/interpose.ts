import type { Connector, ConnectorFactory, Link, LinkHandlers } from './connector.js'

/**
 * Cuts links between chosen nodes on any connector (uWebSockets.js as well as memory): the
 * interposition hook chaos tests use to partition real processes without touching the network.
 *
 * A cut makes the links this node *dialled* toward an address silent in both directions: frames
 * are dropped, nothing is closed, exactly as a network that stops carrying packets. The transport
 * then finds out the way it would in production (heartbeat timeouts, failed handshakes on redial).
 * Every lane is dialled by exactly one of its two nodes, so cutting on both nodes, each toward the
 * other's address, partitions them completely; cutting on one side only is a one-way cut of the
 * lanes it dialled.
 */
export interface Interposer {
  /** Drop every frame on links dialled to `address`, now and on links dialled later, until `heal`. */
  cut(address: string): void
  /** End the cut toward `address`, or every cut. */
  heal(address?: string): void
  /** Addresses cut now. */
  readonly cuts: ReadonlySet<string>
  /** Frames dropped by cuts so far (both directions). */
  readonly dropped: number
}

/**
 * Wraps a connector factory so that its links can be cut.
 *
 * @example
 * const { factory, interposer } = interposable(uwsConnector())
 * const t = createTransport({ nodeId: 'a', cluster, secret, connector: factory })
 * interposer.cut('127.0.0.1:7001') // a partition from node a's side
 * interposer.heal()
 */
export function interposable(inner: ConnectorFactory): { factory: ConnectorFactory; interposer: Interposer } {
  const cuts = new Set<string>()
  let dropped = 0
  const interposer: Interposer = {
    cut: (address) => void cuts.add(address),
    heal: (address) => (address === undefined ? cuts.clear() : void cuts.delete(address)),
    cuts,
    get dropped() {
      return dropped
    },
  }
  const factory: ConnectorFactory = (components) => {
    const connector = inner(components)
    const wrapped: Connector = {
      listen: (options, accept) => connector.listen(options, accept),
      close: (options) => connector.close(options),
      async dial(address, handlers, options) {
        const guarded: LinkHandlers = {
          frame: (data) => {
            if (cuts.has(address)) dropped++
            else handlers.frame(data)
          },
          drain: () => handlers.drain(),
          close: (code, reason) => handlers.close(code, reason),
        }
        const link = await connector.dial(address, guarded, options)
        return cutLink(link, () => cuts.has(address), () => dropped++)
      },
    }
    return wrapped
  }
  return { factory, interposer }
}

function cutLink(link: Link, isCut: () => boolean, count: () => void): Link {
  const wrapped: Link = {
    remoteAddress: link.remoteAddress,
    send(frame) {
      if (!isCut()) return link.send(frame)
      count()
      return true
    },
    bufferedAmount: () => link.bufferedAmount(),
    close: (code, reason) => link.close(code, reason),
  }
  const cork = link.cork?.bind(link)
  return cork === undefined ? wrapped : { ...wrapped, cork }
}
