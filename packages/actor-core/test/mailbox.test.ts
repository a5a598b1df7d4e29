import t from 'tap'
import { ActorSystem, AgentNotFound, MailboxFull, type DeadLetter } from '../src/index.js'
import { Mailbox } from '../src/mailbox.js'
import { CounterAgent } from './fixtures.js'

t.test('the ring keeps FIFO order across growth and wrap-around, and shrinks after a burst', async (t) => {
  const mb = new Mailbox()
  const out: number[] = []
  let next = 0
  for (let round = 0; round < 50; round++) {
    for (let i = 0; i < 7; i++) mb.push('t', next++, undefined, undefined, undefined)
    for (let i = 0; i < 5; i++) {
      mb.take()
      out.push(mb.p as number)
    }
  }
  while (mb.size > 0) {
    mb.take()
    out.push(mb.p as number)
  }
  t.same(out, Array.from({ length: next }, (_, i) => i))
  for (let i = 0; i < 5000; i++) mb.push('t', i, undefined, undefined, undefined)
  t.ok(mb.cap >= 5000)
  while (mb.size > 0) mb.take()
  const ring = mb.buf
  for (let i = 0; i < 5000; i++) mb.push('t', i, undefined, undefined, undefined)
  while (mb.size > 0) mb.take()
  t.equal(mb.buf, ring, 'the ring is kept for a burst of the same size')
  for (let i = 0; i < 3; i++) mb.push('t', i, undefined, undefined, undefined)
  while (mb.size > 0) mb.take()
  t.ok(mb.cap <= 16, `shrunk after a small burst (${mb.cap})`)
})

t.test('overflow reject: tell throws MailboxFull, ask rejects; nothing accepted is lost', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const a = system.spawn(CounterAgent, { mailbox: { capacity: 3, overflow: 'reject' } })
  for (let i = 0; i < 3; i++) a.tell('add', { n: 1 })
  t.throws(() => a.tell('add', { n: 100 }), MailboxFull)
  await t.rejects(a.ask('get', {}), MailboxFull)
  t.equal(await a.ask('get', {}), 3, 'the three accepted ones were handled')
})

t.test("a class's static mailbox bounds every agent of it unless spawn says otherwise", async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  class BoundedCounter extends CounterAgent {
    static mailbox = { capacity: 2 }
  }
  const a = system.spawn(BoundedCounter)
  a.tell('add', { n: 1 })
  a.tell('add', { n: 1 })
  t.throws(() => a.tell('add', { n: 1 }), MailboxFull, 'the class capacity (2) holds, with the default overflow (reject)')
  await new Promise((r) => setImmediate(r))
  t.equal(await a.ask('get', {}), 2)
  const b = system.spawn(BoundedCounter, { mailbox: { capacity: 5 } })
  for (let i = 0; i < 5; i++) b.tell('add', { n: 1 })
  t.throws(() => b.tell('add', { n: 1 }), MailboxFull, "spawn's capacity overrides the class's")
  // One class per protocol in a system: another system for another class of the same protocol.
  const other = new ActorSystem()
  t.teardown(() => other.stop())
  const letters: DeadLetter[] = []
  other.deadLetters.on((dl) => letters.push(dl))
  class Dropping extends CounterAgent {
    static mailbox = { capacity: 1, overflow: 'drop-newest' } as const
  }
  const c = other.spawn(Dropping)
  c.tell('add', { n: 1 })
  c.tell('add', { n: 2 })
  t.equal(letters.length, 1, "the class's overflow policy too")
})

t.test('overflow drop-newest: the new message is dead-lettered', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const letters: DeadLetter[] = []
  system.deadLetters.on((dl) => letters.push(dl))
  const a = system.spawn(CounterAgent, { mailbox: { capacity: 2, overflow: 'drop-newest' } })
  a.tell('add', { n: 1 })
  a.tell('add', { n: 2 })
  a.tell('add', { n: 4 })
  t.equal(letters.length, 1)
  t.equal(letters[0]!.reason, 'mailbox-full')
  t.same(letters[0]!.envelope.payload, { n: 4 })
  t.ok(letters[0]!.error instanceof MailboxFull)
  await new Promise((r) => setImmediate(r))
  t.equal(await a.ask('get', {}), 3)
})

t.test('overflow drop-oldest: the oldest is dead-lettered (an ask among them rejects)', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const letters: DeadLetter[] = []
  system.deadLetters.on((dl) => letters.push(dl))
  const a = system.spawn(CounterAgent, { mailbox: { capacity: 2, overflow: 'drop-oldest' } })
  const early = a.ask('get', {})
  a.tell('add', { n: 2 })
  a.tell('add', { n: 4 })
  await t.rejects(early, MailboxFull)
  t.equal(letters[0]!.envelope.kind, 'ask')
  t.equal(await a.ask('get', {}), 6)
})

t.test('a bad mailbox capacity is refused at spawn', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  t.throws(() => system.spawn(CounterAgent, { id: 'bad', mailbox: { capacity: 0 } }), RangeError)
  await t.rejects(system.ref(CounterAgent, 'bad').ask('get', {}), AgentNotFound, 'no half-spawned agent left')
})
