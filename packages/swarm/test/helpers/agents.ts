import { z } from 'zod'
import { Agent, protocol, message, type Handlers, type Payload } from '@murmur/actor-core'
import { capability } from '../../src/placement.js'

export const Counter = protocol('counter', {
  add: message(z.object({ n: z.number(), seq: z.number().optional() }), { guarantee: ['reliable', 'fifo'] }),
  ping: message(z.object({}), { guarantee: ['best-effort'] }),
  get: message(z.object({}), { reply: z.object({ total: z.number(), seqs: z.array(z.number()), input: z.unknown() }) }),
})

/** Counts, and remembers every sequence number it handled (to check exactly-once). */
export class CounterAgent extends Agent<typeof Counter, unknown> implements Handlers<typeof Counter> {
  static protocol = Counter
  static supervision = { restart: 'on-failure' } as const
  total = 0
  seqs: number[] = []
  add({ n, seq }: Payload<typeof Counter, 'add'>) {
    this.total += n
    if (seq !== undefined) this.seqs.push(seq)
  }
  ping() {}
  get() {
    return { total: this.total, seqs: this.seqs, input: this.input ?? null }
  }
}

export const Ephemeral = protocol('ephemeral', {
  get: message(z.object({}), { reply: z.number() }),
})

/** Never restarted: lost with its node. */
export class EphemeralAgent extends Agent<typeof Ephemeral> implements Handlers<typeof Ephemeral> {
  static protocol = Ephemeral
  static supervision = { restart: 'never' } as const
  get() {
    return 1
  }
}


/** Every (agent, seq) handled by any node of this process, for exactly-once checks. */
export const handled: string[] = []

export const Logger = protocol('logger', {
  log: message(z.object({ seq: z.number() }), { guarantee: ['reliable', 'fifo'] }),
  seqs: message(z.object({}), { reply: z.array(z.number()) }),
})

/** Records each seq in its state (moves with it) and in the process-wide `handled` list. */
export class LoggerAgent extends Agent<typeof Logger> implements Handlers<typeof Logger> {
  static protocol = Logger
  seen: number[] = []
  log({ seq }: Payload<typeof Logger, 'log'>) {
    this.seen.push(seq)
    handled.push(`${this.id}:${seq}`)
  }
  seqs() {
    return this.seen
  }
}

export const Gpu = protocol('gpu', {
  where: message(z.object({}), { reply: z.string() }),
})

/** Placed by its class: only on nodes that advertise the `gpu` capability. */
export class GpuAgent extends Agent<typeof Gpu> implements Handlers<typeof Gpu> {
  static protocol = Gpu
  static placement = capability('gpu')
  where() {
    return this.id
  }
}

/** What `SaverAgent`s saved, by id (stands in for a database). */
export const saved = new Map<string, unknown>()

export const Saver = protocol('saver', {
  add: message(z.object({ n: z.number() })),
  total: message(z.object({}), { reply: z.number() }),
})

/** Saves its state after every change; restored from it after a crash of its node. */
export class SaverAgent extends Agent<typeof Saver> implements Handlers<typeof Saver> {
  static protocol = Saver
  static persistence = { load: ({ id }: { id: string }) => saved.get(id) }
  sum = 0
  add({ n }: Payload<typeof Saver, 'add'>) {
    this.sum += n
    saved.set(this.id, this.snapshot())
  }
  total() {
    return this.sum
  }
}
