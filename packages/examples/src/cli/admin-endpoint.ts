import type { InboundMessage, Transport } from '@murmur/transport'

/**
 * The line between `murmur status/spawn/send/ask` and a running node. The CLI opens a bare,
 * authenticated transport session with the node (it does not join the cluster, so nothing is
 * placed on it) and sends requests shaped as below; the node answers on the same session.
 * The node side is a decorator over its transport: requests are taken out before the swarm sees
 * the traffic, everything else passes through untouched.
 */
export type AdminOp = 'status' | 'start' | 'relay'

export interface AdminRequest {
  readonly murmurAdmin: 1
  readonly c: string
  readonly op: AdminOp
  readonly payload: unknown
}

export type AdminResponse =
  | { readonly murmurAdmin: 1; readonly c: string; readonly ok: true; readonly value: unknown }
  | { readonly murmurAdmin: 1; readonly c: string; readonly ok: false; readonly error: { readonly code: string; readonly message: string } }

export function isAdminRequest(x: unknown): x is AdminRequest {
  const r = x as Partial<AdminRequest> | null
  return typeof r === 'object' && r !== null && r.murmurAdmin === 1 && typeof r.c === 'string' && typeof r.op === 'string' && !('ok' in r)
}

export function isAdminResponse(x: unknown): x is AdminResponse {
  const r = x as Partial<AdminResponse> | null
  return typeof r === 'object' && r !== null && r.murmurAdmin === 1 && typeof r.c === 'string' && typeof r.ok === 'boolean'
}

/** Requests go on their own lane key, so they never wait behind agent traffic. */
export const ADMIN_KEY = 'murmur-admin'

/**
 * Wraps `inner` so that admin requests reach `serve` (its answer, or its error, goes back to the
 * caller) and every other message reaches the swarm as before.
 */
export function withAdminEndpoint(inner: Transport, serve: (op: AdminOp, payload: unknown) => Promise<unknown>): Transport {
  const answer = (m: InboundMessage, r: AdminRequest) => {
    const reply = (res: AdminResponse) => {
      try {
        inner.send(m.from.nodeId, res, { guarantee: ['reliable', 'fifo'], key: ADMIN_KEY })
      } catch {
        // the CLI went away: nobody to answer
      }
    }
    serve(r.op, r.payload).then(
      (value) => reply({ murmurAdmin: 1, c: r.c, ok: true, value }),
      (e: unknown) =>
        reply({
          murmurAdmin: 1,
          c: r.c,
          ok: false,
          error: { code: String((e as { code?: unknown }).code ?? 'FAILED'), message: e instanceof Error ? e.message : String(e) },
        }),
    )
  }
  return {
    get nodeId() {
      return inner.nodeId
    },
    get incarnation() {
      return inner.incarnation
    },
    get address() {
      return inner.address
    },
    start: (o) => inner.start(o),
    stop: (o) => inner.stop(o),
    connect: (a, o) => inner.connect(a, o),
    disconnect: (id, o) => inner.disconnect(id, o),
    forget: (id) => inner.forget(id),
    send: (id, p, o) => inner.send(id, p, o),
    ready: (id, o) => inner.ready(id, o),
    capacity: (id) => inner.capacity(id),
    peers: () => inner.peers(),
    on: (e, l) => inner.on(e, l),
    metrics: () => inner.metrics(),
    onMessage(handler) {
      inner.onMessage((m) => (isAdminRequest(m.payload) ? answer(m, m.payload) : handler(m)))
    },
  }
}
