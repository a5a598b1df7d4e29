import { fork } from 'node:child_process'
import { fileURLToPath } from 'node:url'
import { join } from 'node:path'
import { NodeProcess, ProcessCluster } from './processes.js'

const FIXTURE = fileURLToPath(new URL('../fixtures/partition-node.mjs', import.meta.url))

/** Starts a partition-test node process (cuttable transport) into `pc` and waits until it listens. */
export async function startPartitionNode(pc: ProcessCluster, nodeId: string, seeds: string[], swim?: Record<string, number>): Promise<NodeProcess> {
  const child = fork(FIXTURE, [JSON.stringify({ nodeId, seeds, secret: 'partition-secret', ...(swim ? { swim } : {}) })], { stdio: ['ignore', 'ignore', 'inherit', 'ipc'] })
  const node = new NodeProcess(nodeId, child, join(pc.dir, `${nodeId}.log`))
  pc.nodes.set(nodeId, node)
  node.address = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${nodeId} did not start`)), 20_000)
    child.on('message', (m: { ready?: boolean; address?: string }) => {
      if (m.ready) {
        clearTimeout(timer)
        resolve(m.address!)
      }
    })
    child.on('exit', (code) => reject(new Error(`${nodeId} exited with ${code}`)))
  })
  return node
}

/** Cuts every link between the two sides (each process drops the other side). */
export async function cutSides(pc: ProcessCluster, left: string[], right: string[]): Promise<void> {
  const addr = (ids: string[]) => ids.map((id) => pc.nodes.get(id)!.address)
  await Promise.all([
    ...left.map((id) => pc.nodes.get(id)!.call('cut', { nodeIds: right, addresses: addr(right) })),
    ...right.map((id) => pc.nodes.get(id)!.call('cut', { nodeIds: left, addresses: addr(left) })),
  ])
}

export async function healAll(pc: ProcessCluster): Promise<void> {
  await Promise.all([...pc.nodes.values()].map((n) => n.call('heal')))
}
