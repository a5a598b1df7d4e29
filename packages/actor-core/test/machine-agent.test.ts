import { decode, encode } from 'cbor-x'
import t from 'tap'
import { setup } from 'xstate'
import { z } from 'zod'
import { ActorSystem, HandlerFailed, agentRef, fromMachine, message, protocol } from '../src/index.js'
import { Counter, CounterAgent, until } from './fixtures.js'

const Light = protocol('light', {
  next: message(z.object({ by: z.number() })),
  state: message(z.object({}), { reply: z.object({ value: z.string(), changes: z.number() }) }),
  jam: message(z.object({})),
})

type Ctx = { changes: number; counter: string }
const light = setup({
  types: {
    context: {} as Ctx,
    events: {} as { type: 'next'; by: number } | { type: 'state' } | { type: 'jam' },
    input: {} as { counter: string },
    emitted: {} as { type: 'changed'; changes: number },
  },
})
const count = [
  light.assign({ changes: ({ context, event }) => context.changes + (event as { by: number }).by }),
  // to another agent, by id, through Murmur
  light.sendTo(agentRef(Counter, ({ context }: { context: Ctx; self: never }) => context.counter), ({ event }) => ({ type: 'add', n: (event as { by: number }).by })),
  light.emit(({ context }) => ({ type: 'changed' as const, changes: context.changes })),
]
const lightMachine = light.createMachine({
  id: 'light',
  context: ({ input }) => ({ changes: 0, counter: input.counter }),
  initial: 'green',
  states: {
    green: { on: { next: { target: 'yellow', actions: count } } },
    yellow: { on: { next: { target: 'red', actions: count } } },
    red: { on: { next: { target: 'green', actions: count } } },
  },
  on: {
    jam: { actions: () => { throw new Error('jammed') } },
  },
})

class LightAgent extends fromMachine(Light, lightMachine, {
  input: (input) => input as { counter: string },
  reply: { state: (s) => ({ value: String(s.value), changes: s.context.changes }) },
  emit: (e) => (e.type === 'changed' ? { to: Counter, id: 'emitted', type: 'log', payload: { from: 'light', seq: (e as { changes: number }).changes } } : undefined),
}) {}

t.test('protocol messages become machine events; replies come from the snapshot', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  const counter = system.spawn(CounterAgent, { id: 'c1' })
  const emitted = system.spawn(CounterAgent, { id: 'emitted' })
  const light = system.spawn(LightAgent, { id: 'l1', input: { counter: 'c1' } })
  t.same(await light.ask('state', {}), { value: 'green', changes: 0 })
  light.tell('next', { by: 2 })
  light.tell('next', { by: 3 })
  t.same(await light.ask('state', {}), { value: 'red', changes: 5 })
  t.equal(await counter.ask('get', {}), 5, 'sendTo reached the counter agent through Murmur')
  const sink = system.agentOf(emitted) as CounterAgent
  await until(() => sink.seen.length === 2)
  t.same(sink.seen, ['light:2', 'light:5'], 'emitted events routed to an agent')
})

t.test('the persisted snapshot is the agent state: cbor-x, restored elsewhere', async (t) => {
  const a = new ActorSystem()
  const b = new ActorSystem()
  t.teardown(async () => { await a.stop(); await b.stop() })
  a.spawn(CounterAgent, { id: 'c1' })
  b.spawn(CounterAgent, { id: 'c1' })
  const light = a.spawn(LightAgent, { id: 'mv', input: { counter: 'c1' } })
  light.tell('next', { by: 1 })
  await light.ask('state', {})
  const h = await a.handoff(light.address)
  const state = decode(encode(h.state)) as { value: string; context: { changes: number } }
  t.equal(state.value, 'yellow')
  t.equal(state.context.changes, 1)
  const moved = b.restoreAgent(LightAgent, 'mv', state, { input: { counter: 'c1' } })
  t.same(await moved.ask('state', {}), { value: 'yellow', changes: 1 })
  moved.tell('next', { by: 1 })
  t.same(await moved.ask('state', {}), { value: 'red', changes: 2 })
})

t.test('a machine error fails the message; the agent restarts from its initial state', async (t) => {
  const system = new ActorSystem()
  t.teardown(() => system.stop())
  system.spawn(CounterAgent, { id: 'c1' })
  const light = system.spawn(LightAgent, { id: 'j', input: { counter: 'c1' } })
  light.tell('next', { by: 1 })
  await t.rejects(light.ask('jam', {}), HandlerFailed)
  t.same(await light.ask('state', {}), { value: 'green', changes: 0 })
})

t.test('an xstate machine used with fromMachine stays an xstate machine (static machine)', async (t) => {
  t.equal(LightAgent.machine, lightMachine)
  t.equal(LightAgent.protocol, Light)
})
