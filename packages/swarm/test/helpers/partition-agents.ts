import { z } from 'zod'
import { Agent, protocol, message, type Handlers, type Payload } from '@murmur/actor-core'

export const Tally = protocol('tally', {
  add: message(z.object({ tag: z.string() }), { guarantee: ['reliable', 'fifo'] }),
  get: message(z.object({}), { reply: z.object({ tags: z.array(z.string()) }) }),
})

/** Records every tag it handled; merges a losing duplicate's tags on heal (`onConflict`). */
export class TallyAgent extends Agent<typeof Tally> implements Handlers<typeof Tally> {
  static protocol = Tally
  static supervision = { restart: 'on-failure' } as const
  tags: string[] = []
  add({ tag }: Payload<typeof Tally, 'add'>) {
    if (!this.tags.includes(tag)) this.tags.push(tag)
  }
  get() {
    return { tags: [...this.tags].sort() }
  }
  onConflict(other: unknown) {
    for (const tag of (other as { tags?: string[] }).tags ?? []) if (!this.tags.includes(tag)) this.tags.push(tag)
  }
}

export const Plain = protocol('plain', {
  add: message(z.object({ tag: z.string() }), { guarantee: ['reliable', 'fifo'] }),
  get: message(z.object({}), { reply: z.object({ tags: z.array(z.string()) }) }),
})

/** The same without `onConflict`: the losing duplicate's state is dropped. */
export class PlainAgent extends Agent<typeof Plain> implements Handlers<typeof Plain> {
  static protocol = Plain
  static supervision = { restart: 'on-failure' } as const
  tags: string[] = []
  add({ tag }: Payload<typeof Plain, 'add'>) {
    this.tags.push(tag)
  }
  get() {
    return { tags: [...this.tags].sort() }
  }
}

export const Lock = protocol('lock', {
  hold: message(z.object({}), { reply: z.string() }),
})

/** Must stay single: quorum mode. */
export class LockAgent extends Agent<typeof Lock> implements Handlers<typeof Lock> {
  static protocol = Lock
  static supervision = { restart: 'on-failure' } as const
  static quorum = true
  hold() {
    return this.id
  }
}

export const Member = protocol('member', {
  note: message(z.object({ text: z.string() }), { guarantee: ['reliable'] }),
  notes: message(z.object({}), { reply: z.array(z.string()) }),
})

export class MemberAgent extends Agent<typeof Member> implements Handlers<typeof Member> {
  static protocol = Member
  got: string[] = []
  note({ text }: Payload<typeof Member, 'note'>) {
    this.got.push(text)
  }
  notes() {
    return this.got
  }
}
