import type { AgentAddress, FlowControl } from '@murmur/actor-core'
import type { Transport } from '@murmur/transport'
import { directoryKey, type Directory } from './directory.js'

/** The longest one wait for room lasts before the stream looks again (a peer that went away never drains). */
const WAIT_MS = 1000

/**
 * Flow control for streams (actor-core's {@link FlowControl}): a stream's next item waits while the
 * connection to its agent's node holds more than half its high-water mark. Above the mark the
 * transport drops best-effort traffic, and membership probes are best-effort: a stream of 1 MiB
 * chunks that kept the connection full got its receiving node declared dead within seconds.
 * Agents whose node is unknown, this node, or without a session are not held back (routing
 * parks or fails their items as it does for tells).
 *
 * @example
 * system.useFlowControl(streamFlow(transport, () => engine.directory(), nodeId))
 */
export function streamFlow(transport: Transport, directory: () => Directory, self: string): FlowControl {
  /** Whether more than half the high-water mark is buffered toward `node` (no session: nothing is). */
  const full = (node: string): boolean => {
    try {
      const c = transport.capacity(node)
      return c.bufferedBytes >= c.highWaterMark / 2
    } catch {
      return false
    }
  }
  return {
    ready(to: AgentAddress): Promise<void> | undefined {
      const node = directory().get(directoryKey(to.type, to.id))?.node
      if (node === undefined || node === self || !full(node)) return undefined
      // The transport's own wait: it samples the socket's buffered amount (which `capacity` reports
      // as last sampled) and wakes at the low-water mark; rejected after WAIT_MS, the stream looks again.
      return transport.ready(node, { deadline: WAIT_MS })
    },
  }
}
