import { z } from 'zod'
import { Agent, message, protocol, type AgentClass, type AnyProtocol, type Handlers, type Payload } from '@murmur/actor-core'
import { pinned, type Swarm } from '@murmur/swarm'
import type { AdminOp } from './admin-endpoint.js'

/**
 * The agent every `murmur node` hosts, one per node, with the node's id as its id: it answers
 * `murmur status`, relays `murmur send` / `murmur ask`, and feeds the dashboard what each node
 * sees (its peers, for the overlay graph). The secret never appears in any reply.
 */
/** A request the admin agent turns down (a bad id, type, payload…): a value, so the agent does not fail. */
const refusal = z.object({ refused: z.string(), code: z.string() })

export const Admin = protocol('murmur-admin', {
  status: message(z.object({}), {
    reply: z.object({
      node: z.string(),
      address: z.string(),
      members: z.array(z.object({ id: z.string(), address: z.string(), status: z.string(), load: z.number(), capabilities: z.array(z.string()) })),
      agents: z.array(z.object({ type: z.string(), id: z.string(), node: z.string() })),
      peers: z.array(z.string()),
      local: z.number(),
      dashboard: z.number().optional(),
    }),
  }),
  start: message(z.object({ type: z.string(), id: z.string(), input: z.unknown() }), { reply: z.object({ node: z.string() }).or(refusal) }),
  relay: message(
    z.object({ id: z.string(), type: z.string(), payload: z.unknown(), ask: z.boolean(), timeout: z.number().positive() }),
    { reply: z.object({ delivered: z.boolean(), agent: z.string(), reply: z.unknown().optional() }).or(refusal) },
  ),
})

export type Status = ReturnType<AdminAgent['status']>

/** What an admin agent needs from its process: the node and the classes it hosts. */
interface Local {
  readonly node: Swarm
  readonly classes: ReadonlyMap<string, AgentClass<any, any>>
  readonly dashboard?: number
}

/** Per node id, in this process (several nodes may share one process in tests). */
const locals = new Map<string, Local>()

export class AdminAgent extends Agent<typeof Admin> implements Handlers<typeof Admin> {
  static protocol = Admin

  #local(): Local {
    const l = locals.get(this.id)
    if (!l) throw new Error(`no node ${this.id} in this process`)
    return l
  }

  status() {
    const { node, dashboard } = this.#local()
    return {
      node: node.nodeId,
      address: node.address,
      members: node.members().map((m) => ({ id: m.id, address: m.address, status: m.status, load: m.load, capabilities: [...m.capabilities] })),
      agents: node.agents().map((a) => ({ type: a.type, id: a.id, node: a.node })),
      peers: node.transport.peers().map((p) => p.nodeId),
      local: node.system.localAgents().length,
      ...(dashboard !== undefined ? { dashboard } : {}),
    }
  }

  async start({ type, id, input }: Payload<typeof Admin, 'start'>) {
    const { node, classes } = this.#local()
    const cls = classes.get(type)
    if (!cls || type === Admin.name) {
      return refuse('UNKNOWN_AGENT_TYPE', `no agent type '${type}' here (there are: ${[...classes.keys()].filter((k) => k !== Admin.name).join(', ')})`)
    }
    try {
      await node.spawn(cls, { id, ...(input !== undefined ? { input } : {}) })
    } catch (e) {
      return refuse(e)
    }
    // The directory learns a remote activation a moment after it is acknowledged.
    for (let i = 0; i < 50 && node.find(id, type) === undefined; i++) await new Promise((r) => setTimeout(r, 20))
    return { node: node.find(id, type)?.node ?? 'unknown' }
  }

  async relay({ id, type, payload, ask, timeout }: Payload<typeof Admin, 'relay'>) {
    const { node, classes } = this.#local()
    const where = node.agents().filter((a) => a.id === id && a.type !== Admin.name)
    if (where.length === 0) return refuse('AGENT_NOT_FOUND', `no agent with id '${id}' in the cluster`)
    if (where.length > 1) return refuse('AMBIGUOUS_ID', `id '${id}' names agents of several types: ${where.map((a) => a.type).join(', ')}`)
    const target = where[0]!
    const p = classes.get(target.type)?.protocol
    if (!p) return refuse('UNKNOWN_AGENT_TYPE', `this node does not know the protocol '${target.type}'`)
    if (!p.types.includes(type)) return refuse('UNKNOWN_MESSAGE_TYPE', `'${target.type}' has no message type '${type}' (it has: ${p.types.join(', ')})`)
    const ref = node.ref(p, id) as unknown as {
      tell(t: string, x: unknown): void
      ask(t: string, x: unknown, o: { timeout: number }): Promise<unknown>
    }
    const agent = `${target.type}/${id}`
    try {
      if (!ask) {
        ref.tell(type, payload)
        return { delivered: true, agent }
      }
      return { delivered: true, agent, reply: await ref.ask(type, payload, { timeout }) }
    } catch (e) {
      return refuse(e)
    }
  }
}

function refuse(error: unknown, message?: string): { refused: string; code: string } {
  if (typeof error === 'string') return { code: error, refused: message ?? error }
  const code = String((error as { code?: unknown }).code ?? 'FAILED')
  const issues = (error as { details?: { issues?: Array<{ path?: unknown[]; message?: string }> } }).details?.issues
  const detail = issues?.map((i) => `${(i.path ?? []).join('.') || 'payload'}: ${i.message}`).join('; ')
  return { code, refused: `${error instanceof Error ? error.message : String(error)}${detail ? ` (${detail})` : ''}` }
}

/** Serves the CLI's requests (see `admin-endpoint.ts`) by asking this node's admin agent. */
export function serveAdmin(node: Swarm): (op: AdminOp, payload: unknown) => Promise<unknown> {
  const admin = node.ref(Admin, node.nodeId) as unknown as { ask(t: string, p: unknown, o: { timeout: number }): Promise<unknown> }
  return async (op, payload) => {
    const r = await admin.ask(op, payload, { timeout: 60_000 })
    const refused = r as { refused?: string; code?: string }
    if (typeof refused.refused === 'string') throw Object.assign(new Error(refused.refused), { code: refused.code })
    return r
  }
}

/**
 * Starts this node's admin agent (pinned here, id = node id). Call once after `Swarm.start`,
 * with the node's agent classes (`AdminAgent` among them).
 */
export async function startAdmin(node: Swarm, classes: ReadonlyArray<{ readonly protocol: AnyProtocol }>, dashboard?: number): Promise<void> {
  const byName = new Map(classes.map((c) => [c.protocol.name, c as AgentClass<any, any>]))
  locals.set(node.nodeId, { node, classes: byName, ...(dashboard !== undefined ? { dashboard } : {}) })
  await node.spawn(AdminAgent, { id: node.nodeId, placement: pinned(node.nodeId) })
}

/** Forgets a stopped node. */
export function stopAdmin(node: Swarm): void {
  locals.delete(node.nodeId)
}
