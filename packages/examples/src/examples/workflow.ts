/**
 * An order workflow as an xstate machine inside an agent (`fromMachine`). Half-way, the node that
 * hosts it leaves the cluster: the agent is handed off to another node with its machine's
 * persisted snapshot, and the workflow carries on there from the same state and history.
 *
 * Run: pnpm --filter @murmur/examples run example:workflow
 */
import { z } from 'zod'
import { assign, setup } from 'xstate'
import { fromMachine, message, protocol } from '@murmur/actor-core'
import { startLocalCluster } from '../internal/local-cluster.js'
import { runIfMain, spawnKnown, waitUntil } from '../internal/main.js'

export const Order = protocol('order', {
  validate: message(z.object({ items: z.number().int().positive() })),
  pay: message(z.object({ amount: z.number().positive() })),
  pack: message(z.object({ by: z.string() })),
  ship: message(z.object({ carrier: z.string() })),
  status: message(z.object({}), { reply: z.object({ state: z.string(), history: z.array(z.string()), paid: z.number() }) }),
})

type Ctx = { history: string[]; paid: number }
type Ev =
  | { type: 'validate'; items: number }
  | { type: 'pay'; amount: number }
  | { type: 'pack'; by: string }
  | { type: 'ship'; carrier: string }
  | { type: 'status' }

const note = (line: (e: Ev) => string) => assign<Ctx, Ev, undefined, Ev, never>({ history: ({ context, event }) => [...context.history, line(event)] })

export const orderMachine = setup({ types: { context: {} as Ctx, events: {} as Ev } }).createMachine({
  id: 'order',
  context: { history: [], paid: 0 },
  initial: 'received',
  states: {
    received: { on: { validate: { target: 'awaitingPayment', actions: note((e) => `validated ${(e as { items: number }).items} item(s)`) } } },
    awaitingPayment: {
      on: {
        pay: {
          target: 'packing',
          actions: [note((e) => `paid ${(e as { amount: number }).amount}`), assign({ paid: ({ event }) => (event as { amount: number }).amount })],
        },
      },
    },
    packing: { on: { pack: { target: 'readyToShip', actions: note((e) => `packed by ${(e as { by: string }).by}`) } } },
    readyToShip: { on: { ship: { target: 'shipped', actions: note((e) => `shipped with ${(e as { carrier: string }).carrier}`) } } },
    // not `final`: a done machine stops its agent, and we still want to ask it
    shipped: {},
  },
})

export class OrderAgent extends fromMachine(Order, orderMachine, {
  reply: { status: (s) => ({ state: String(s.value), history: s.context.history, paid: s.context.paid }) },
}) {}

export interface WorkflowOutcome {
  readonly before: { node: string; state: string; history: string[] }
  readonly after: { node: string; state: string; history: string[]; paid: number }
  readonly final: { node: string; state: string; history: string[]; paid: number }
}

export async function run(log: (line: string) => void = console.log): Promise<WorkflowOutcome> {
  const cluster = await startLocalCluster(['node-a', 'node-b', 'node-c'], [OrderAgent])
  try {
    const [first] = cluster.nodes
    const id = 'order-1042'
    await spawnKnown(first!, Order.name, id, () => first!.spawn(OrderAgent, { id }))
    const where = () => first!.find(id, Order.name)?.node ?? '?'
    const home = where()
    // drive it from a node that will stay
    const driver = cluster.nodes.find((n) => n.nodeId !== home)!
    const order = driver.ref(OrderAgent, id)
    order.tell('validate', { items: 3 })
    order.tell('pay', { amount: 129.9 })
    const before = { node: home, ...(await order.ask('status', {}, { timeout: 5000 })) }
    log(`${id} on ${before.node}: ${before.state}  [${before.history.join('; ')}]`)

    log(`${home} leaves the cluster; its agents are handed off with their state…`)
    await cluster.nodes.find((n) => n.nodeId === home)!.stop()
    await waitUntil(() => driver.find(id, Order.name) !== undefined && driver.find(id, Order.name)!.node !== home, `${id} to move`, 15_000)
    const moved = driver.find(id, Order.name)!.node
    const after = { node: moved, ...(await order.ask('status', {}, { timeout: 5000 })) }
    log(`${id} on ${after.node}: ${after.state}  [${after.history.join('; ')}]`)

    order.tell('pack', { by: 'robin' })
    order.tell('ship', { carrier: 'starling express' })
    const final = { node: driver.find(id, Order.name)!.node, ...(await order.ask('status', {}, { timeout: 5000 })) }
    log(`${id} on ${final.node}: ${final.state}  [${final.history.join('; ')}]`)
    return { before, after, final }
  } finally {
    await cluster.stop()
  }
}

runIfMain(import.meta.url, async () => {
  console.log('An xstate order workflow moved between nodes mid-way\n')
  const o = await run()
  const ok = o.after.node !== o.before.node && o.after.state === o.before.state && o.final.state === 'shipped' && o.final.history.length === 4
  console.log(ok ? `\n✓ moved ${o.before.node} → ${o.after.node} in state ${o.after.state}, history intact, finished 'shipped'` : '\n✗ the workflow lost its state')
  return ok ? 0 : 1
})
