import { startWorker, type WorkerHandle } from './worker.js'

/** A receiver and a sender process running one suite module (`script`), told apart by `roleEnv`. */
export interface WorkerPair<R extends { address: string } = { address: string }> {
  readonly recv: WorkerHandle<R>
  readonly send: WorkerHandle
}

/**
 * Start the receiver, then a sender given the receiver's address; the receiver is killed if the
 * sender fails to start.
 *
 * @example
 * const { recv, send } = await startWorkerPair(new URL(import.meta.url), 'MY_BENCH_ROLE')
 */
export async function startWorkerPair<R extends { address: string } = { address: string }>(script: URL, roleEnv: string): Promise<WorkerPair<R>> {
  const recv = await startWorker<R>(script, [], { env: { [roleEnv]: 'receiver' } })
  try {
    const send = await startWorker(script, [recv.ready.address], { env: { [roleEnv]: 'sender' } })
    return { recv, send }
  } catch (err) {
    recv.kill()
    throw err
  }
}

/** Run `work` and report the CPU both processes of the pair used meanwhile (percent of a core). */
export async function withPairCpu<T>(pair: WorkerPair, work: () => Promise<T>): Promise<{ value: T; cpu: Record<string, number> }> {
  await Promise.all([pair.recv.cpuMark(), pair.send.cpuMark()])
  const value = await work()
  const [receiver, sender] = await Promise.all([pair.recv.cpuRead(), pair.send.cpuRead()])
  return { value, cpu: { receiver, sender } }
}
