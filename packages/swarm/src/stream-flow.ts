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
  /** Bytes buffered toward the node of `to` over half its high-water mark, or 0 (no session: nothing buffered). */
  const excess = (node: string): number => {
    try {
      const c = transport.capacity(node)
      return Math.max(0, c.bufferedBytes - c.highWaterMark / 2)
    } catch {
      return 0
    }
  }
  return {
    ready(to: AgentAddress): Promise<void> | undefined {
      const node = directory().get(directoryKey(to.type, to.id))?.node
      if (node === undefined || node === self || excess(node) === 0) return undefined
      // Polled per ms, not `transport.ready` (which waits for the low-water mark and polls every
      // 2 ms): a 1 MiB item drains in about a millisecond, and waiting longer left the link idle.
      const until = performance.now() + WAIT_MS
      return new Promise((resolve) => {
        const check = (): void => {
          if (excess(node) === 0 || performance.now() > until) resolve()
          else setTimeout(check, 1)
        }
        setTimeout(check, 1)
      })
    },
  }
}
