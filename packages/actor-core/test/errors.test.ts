import t from 'tap'
import { z } from 'zod'
import {
  AgentNotFound, AgentStopped, AskTimeout, DEFAULT_GUARANTEE, DuplicateAgentId, MailboxFull, MurmurError, ReservedMessageType,
  SchemaViolation, UnknownMessageType, fromJSON, message, protocol, registerErrorClass, serializeError,
} from '../src/index.js'

t.test('every error class round-trips through JSON to its own class and code', async (t) => {
  const classes = [AgentNotFound, AskTimeout, SchemaViolation, UnknownMessageType, MailboxFull, AgentStopped, DuplicateAgentId]
  const codes = new Set<string>()
  for (const cls of classes) {
    const e = new cls('m', { k: 1 })
    t.ok(e instanceof MurmurError)
    codes.add(e.code)
    const back = MurmurError.fromJSON(JSON.parse(JSON.stringify(e)))
    t.ok(back instanceof cls, cls.name)
    t.equal(back.code, e.code)
    t.equal(back.name, cls.name)
    t.same(back.details, { k: 1 })
  }
  t.equal(codes.size, classes.length, 'codes are distinct')
})

t.test('unknown codes revive as MurmurError with the same code and name; registerErrorClass adds one', async (t) => {
  const e = fromJSON({ name: 'Overloaded', code: 'OVERLOADED', message: 'slow down' })
  t.ok(e instanceof MurmurError)
  t.equal(e.code, 'OVERLOADED')
  t.equal(e.name, 'Overloaded')
  class Overloaded extends MurmurError {
    static readonly code = 'OVERLOADED'
    constructor(message: string, details?: Readonly<Record<string, unknown>>) { super('OVERLOADED', message, details) }
  }
  registerErrorClass(Overloaded)
  t.ok(fromJSON({ name: 'Overloaded', code: 'OVERLOADED', message: 'x' }) instanceof Overloaded)
})

t.test('serializeError: Murmur errors as they are, others as HANDLER_FAILED', async (t) => {
  t.same(serializeError(new AgentStopped('gone')), { name: 'AgentStopped', code: 'AGENT_STOPPED', message: 'gone' })
  t.same(serializeError(new TypeError('bad')), { name: 'HandlerFailed', code: 'HANDLER_FAILED', message: 'bad', details: { name: 'TypeError' } })
  t.same(serializeError('str'), { name: 'HandlerFailed', code: 'HANDLER_FAILED', message: 'str', details: { name: 'string' } })
})

t.test('the cross-package brand: any object carrying it is a MurmurError', async (t) => {
  const foreign = Object.assign(new Error('x'), { [Symbol.for('murmur.error')]: true })
  t.ok(foreign instanceof MurmurError)
  t.notOk(new Error('plain') instanceof MurmurError)
  t.notOk(new AgentStopped('x') instanceof AgentNotFound, 'subclasses still check their own class')
})

t.test('protocol and message: defaults, reply, reserved names', async (t) => {
  const P = protocol('p', {
    a: message(z.object({})),
    b: message(z.object({}), { guarantee: ['best-effort'], reply: z.number() }),
  })
  t.equal(P.name, 'p')
  t.same(P.types, ['a', 'b'])
  t.same(P.messages.a.guarantee, DEFAULT_GUARANTEE)
  t.same(P.messages.b.guarantee, ['best-effort'])
  t.equal(P.messages.a.reply, undefined)
  t.ok(P.messages.b.reply !== undefined)
  t.equal(Object.getPrototypeOf(P.messages), null, 'no prototype names among the types')
  t.throws(() => protocol('q', { stop: message(z.object({})) }), ReservedMessageType)
  t.throws(() => protocol('q', { _x: message(z.object({})) }), ReservedMessageType)
  t.throws(() => message(z.object({}), { guarantee: [] }), TypeError)
  t.throws(() => protocol('', {}), TypeError)
})
