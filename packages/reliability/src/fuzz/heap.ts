import { setFlagsFromString } from 'node:v8'
import { runInNewContext } from 'node:vm'

setFlagsFromString('--expose-gc')
const gc = runInNewContext('gc') as () => void

/** Heap in use after a full collection, in bytes: the figure heap bounds are checked against. */
export function settledHeap(): number {
  gc()
  gc()
  return process.memoryUsage().heapUsed
}

export const mib = (bytes: number): number => Math.round((bytes / (1 << 20)) * 10) / 10
