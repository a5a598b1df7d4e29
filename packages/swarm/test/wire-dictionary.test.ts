import t from 'tap'
import type { Envelope } from '@murmur/actor-core'
import { InboundDictionary, OutboundDictionary } from '../src/internal/wire-dictionary.js'
import { packEnvelope, unpackEnvelope, type Routed } from '../src/internal/wire.js'

const envelope: Envelope = {
  kind: 'ask',
  to: { type: 'worker', id: 'w-7' },
  from: { type: 'boss', id: 'b-1' },
  type: 'assign',
  payload: { task: 't1' },
  guarantee: ['reliable', 'fifo'],
  correlationId: 'Xk3a9-1f',
  replyTo: 'node-a',
  trace: { traceId: 'a1b2c3d4e5f607180000000000000001', spanId: '9abcdef000000002', parentSpanId: '9abcdef000000001' },
}
const routed: Routed = { e: envelope, o: 'node-a', h: 0, s: 5, oi: 1234 }

t.test('an envelope packs and unpacks to itself, with and without a dictionary', async (t) => {
  t.same(unpackEnvelope(packEnvelope(routed), envelope.guarantee), routed, 'inline')
  const out = new OutboundDictionary(1)
  const inb = new InboundDictionary(2)
  const first = packEnvelope(routed, out)
  t.same(unpackEnvelope(first, envelope.guarantee, inb), routed, 'before any confirmation: strings inline, the receiver needs no definition')
  t.same([first[1], first[2], first[3], first[5]], ['worker', 'w-7', 'assign', 'node-a'], 'no ids before the receiver confirmed them')
  const defs = out.takeDefinitions()
  t.ok(defs !== undefined && defs.length > 0, 'the new strings are to be defined')
  out.confirm(inb.define(defs ?? []))
  const second = packEnvelope(routed, out)
  t.ok([second[1], second[2], second[3], second[5]].every((x) => typeof x === 'number'), `interned: ${JSON.stringify(second)}`)
  t.ok(JSON.stringify(second).length < JSON.stringify(first).length * 0.6, `much smaller: ${JSON.stringify(second).length} vs ${JSON.stringify(first).length} characters`)
  t.same(unpackEnvelope(second, envelope.guarantee, inb), routed, 'ids resolve at the receiver')
  t.same(unpackEnvelope(second, envelope.guarantee, out), routed, 'and at the sender itself (traffic handed back is unpacked by its sender)')
  t.equal(unpackEnvelope(second, envelope.guarantee, new InboundDictionary(3)), undefined, 'a receiver without the definitions refuses the envelope rather than guess')
  const reply: Routed = { e: { kind: 'reply', to: { type: '$asker', id: 'Xk3a9-2g' }, from: { type: 'worker', id: 'w-7' }, type: 'assign', payload: 1, guarantee: ['reliable'], correlationId: 'Xk3a9-2g', replyTo: 'node-a' }, o: 'node-b', h: 0 }
  const packedReply = packEnvelope(reply, out)
  t.equal(packedReply[2], null, "a reply to an external asker does not repeat (or intern) the correlation id as its address")
  t.same(unpackEnvelope(packedReply, reply.e.guarantee, inb), reply, 'and unpacks to itself')
  const minimal: Routed = { e: { kind: 'tell', to: { type: 'worker', id: 'w-7' }, type: 'assign', payload: 1, guarantee: ['best-effort'] }, o: 'node-a', h: 2 }
  t.same(unpackEnvelope(packEnvelope(minimal, out), minimal.e.guarantee, inb), minimal, 'a tell without the optional fields')
})

t.test('the dictionary: ids only once confirmed, never reused, bounded, contradictions refused', async (t) => {
  const out = new OutboundDictionary(1, 3)
  t.equal(out.ref('a'), 'a')
  t.equal(out.ref('a'), 'a', 'still inline until confirmed')
  out.ref('b')
  out.ref('c')
  t.equal(out.ref('d'), 'd', 'past the bound: inline for ever')
  t.equal(out.size, 3)
  const defs = out.takeDefinitions() ?? []
  t.same(defs, [0, 'a', 1, 'b', 2, 'c'])
  t.equal(out.takeDefinitions(), undefined, 'taken once')
  const inb = new InboundDictionary(9)
  // The confirmation of 'b' is lost; a new session defines every unconfirmed id again.
  t.same(inb.define(defs), [0, 1, 2])
  out.confirm([0, 2])
  t.equal(out.ref('a'), 0)
  t.equal(out.ref('b'), 'b', 'b not confirmed yet')
  out.requeueUnconfirmed()
  const again = out.takeDefinitions() ?? []
  t.same(again, [1, 'b'], 'only the unconfirmed, same ids')
  out.confirm(inb.define(again))
  t.equal(out.ref('b'), 1)
  t.same(inb.define([1, 'not-b', 7, 'g', 'x', 'y', -1, 'z', 1e9, 'w']), [7], 'a contradicting or malformed definition is refused')
  t.equal(inb.resolve(1), 'b', 'and changes nothing')
  t.equal(inb.resolve(5), undefined, 'an id never defined resolves to nothing')
})
