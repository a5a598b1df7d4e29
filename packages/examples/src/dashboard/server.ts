import type { Swarm } from '@murmur/swarm'
export interface Dashboard { readonly address: string; close(): void }
export async function startDashboard(_node: Swarm, _o: { port: number }): Promise<Dashboard> {
  throw new Error('todo')
}
