// Agents shared by the runtime tests.
import { z } from 'zod'
import { Agent, message, protocol, type Handlers, type Payload, type Reply } from '../src/index.js'

export const Counter = protocol('counter', {
  add: message(z.object({ n: z.number() })),
  addSlow: message(z.object({ n: z.number(), ms: z.number() })),
  get: message(z.object({}), { reply: z.number() }),
  boom: message(z.object({ why: z.string() }), { reply: z.number() }),
  log: message(z.object({ from: z.string(), seq: z.number() })),
  who: message(z.object({}), { reply: z.string().nullable() }),
})
export type C = typeof Counter

export class CounterAgent extends Agent<C> implements Handlers<C> {
  static protocol = Counter
  total = 0
  seen: string[] = []
  add({ n }: Payload<C, 'add'>): void {
    this.total += n
  }
  async addSlow({ n, ms }: Payload<C, 'addSlow'>): Promise<void> {
    await new Promise((r) => setTimeout(r, ms))
    this.total += n
  }
  get(): Reply<C, 'get'> {
    return this.total
  }
  boom({ why }: Payload<C, 'boom'>): number {
    throw new Error(why)
  }
  log({ from, seq }: Payload<C, 'log'>): void {
    this.seen.push(`${from}:${seq}`)
  }
  who(): string | null {
    return this.sender?.id ?? null
  }
}

/** Resolves when `check` holds, polling; rejects after `ms`. */
export async function until(check: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error('condition not met in time')
    await new Promise((r) => setTimeout(r, 2))
  }
}
