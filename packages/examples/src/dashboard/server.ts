import uWS from 'uWebSockets.js'
import type { us_listen_socket, WebSocket } from 'uWebSockets.js'
import type { AnyProtocol } from '@murmur/actor-core'
import type { Swarm } from '@murmur/swarm'
import { Collector } from './snapshot.js'
import { PAGE } from './page.js'

export interface DashboardOptions {
  readonly port: number
  /** Interface to bind; `127.0.0.1` unless told (the page has no authentication). */
  readonly host?: string
  /** Protocols hosted, to label message rates by guarantee. */
  readonly protocols?: readonly AnyProtocol[]
  /** ms between updates; default 1000. */
  readonly interval?: number
}

export interface Dashboard {
  /** `host:port` it serves on. */
  readonly address: string
  close(): void
}

/**
 * Serves the live dashboard of `node`: `GET /` the page, `GET /state.json` one snapshot,
 * WebSocket `/live` a snapshot every `interval` ms and on every membership change.
 *
 * @example
 * const board = await startDashboard(node, { port: 8080 })  // http://127.0.0.1:8080/
 * board.close()
 */
export async function startDashboard(node: Swarm, options: DashboardOptions): Promise<Dashboard> {
  const host = options.host ?? '127.0.0.1'
  const interval = options.interval ?? 1000
  const sockets = new Set<WebSocket<unknown>>()
  let closed = false
  const app = uWS.App()
  const publish = () => {
    if (closed || sockets.size === 0) return
    app.publish('live', JSON.stringify(collector.state()))
  }
  const collector = new Collector(node, options.protocols ?? [], () => setImmediate(publish))

  app
    .get('/', (res) => {
      res.writeHeader('Content-Type', 'text/html; charset=utf-8').writeHeader('Cache-Control', 'no-store').end(PAGE)
    })
    .get('/state.json', (res) => {
      res.writeHeader('Content-Type', 'application/json').end(JSON.stringify(collector.state()))
    })
    .ws('/live', {
      open: (ws) => {
        sockets.add(ws)
        ws.subscribe('live')
        ws.send(JSON.stringify(collector.state()))
      },
      close: (ws) => {
        sockets.delete(ws)
      },
    })
    .any('/*', (res) => {
      res.writeStatus('404 Not Found').end('not found')
    })

  const token = await new Promise<us_listen_socket>((resolve, reject) => {
    app.listen(host, options.port, (t) => (t ? resolve(t) : reject(new Error(`the dashboard cannot listen on ${host}:${options.port}`))))
  })

  let refreshing = false
  const timer = setInterval(() => {
    collector.tick()
    publish()
    if (refreshing) return
    refreshing = true
    void collector.refreshOverlay().finally(() => (refreshing = false))
  }, interval)
  timer.unref()

  return {
    address: `${host}:${uWS.us_socket_local_port(token)}`,
    close() {
      if (closed) return
      closed = true
      clearInterval(timer)
      collector.close()
      for (const ws of sockets) ws.end()
      uWS.us_listen_socket_close(token)
    },
  }
}
