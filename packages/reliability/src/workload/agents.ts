import { z } from 'zod'
import { Agent, protocol, message, type Handlers, type Payload } from '@murmur/actor-core'

/**
 * The workload's agent: it records every message it handles, by sender stream and sequence
 * number, so a checker can tell lost, duplicated and reordered messages apart.
 */
export const Tally = protocol('tally', {
  /** Reliable and fifo: exactly once, in order per sender stream. */
  add: message(z.object({ stream: z.string(), seq: z.number().int().nonnegative() }), { guarantee: ['reliable', 'fifo'] }),
  /** Best effort: may be lost, never handled twice. */
  hint: message(z.object({ stream: z.string(), seq: z.number().int().nonnegative() }), { guarantee: ['best-effort'] }),
  seen: message(z.object({}), { reply: z.record(z.string(), z.array(z.number())) }),
})

export class TallyAgent extends Agent<typeof Tally> implements Handlers<typeof Tally> {
  static protocol = Tally
  static supervision = { restart: 'always' } as const
  streams: Record<string, number[]> = {}
  add({ stream, seq }: Payload<typeof Tally, 'add'>) {
    ;(this.streams[stream] ??= []).push(seq)
    TallyAgent.onHandled?.(this.id, stream, seq)
  }
  hint() {}
  seen() {
    return this.streams
  }
  /** A process-wide hook, for histories that outlive an agent's moves. */
  static onHandled: ((id: string, stream: string, seq: number) => void) | undefined
}
