import t from 'tap'
import type { Connector } from '../src/connector.js'
import { createMemoryNetwork } from '../src/memory-network.js'
import { connectorCompliance, type ConnectorEnv } from './compliance/connector.js'

let seed = 1

connectorCompliance(t, async () => {
  const net = createMemoryNetwork({ seed: seed++ })
  net.autoRun()
  const made: Connector[] = []
  const env: ConnectorEnv = {
    connector(limits = {}) {
      const name = `n${made.length}`
      const connector = net.connector(name, limits)({ clock: net.clockFor(name) })
      made.push(connector)
      return connector
    },
    listenOptions: { host: '127.0.0.1', port: 0 },
    unreachable: async () => 'nobody',
    close: async () => {
      await Promise.all(made.map((c) => c.close()))
      net.stop()
    },
  }
  return env
})
