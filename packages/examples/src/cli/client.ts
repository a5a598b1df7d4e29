import { randomUUID } from 'node:crypto'
import { createUwsTransport, type Transport, type InboundMessage, type TlsInit } from '@murmur/transport'
import { MurmurError } from '@murmur/actor-core'
import type { Status } from './admin.js'
import { ADMIN_KEY, isAdminResponse, type AdminOp, type AdminRequest } from './admin-endpoint.js'

type Details = Readonly<Record<string, unknown>>

/** `murmur status/send/ask` could not reach the seed. */
export class SeedUnreachable extends MurmurError {
  static readonly code = 'SEED_UNREACHABLE'
  constructor(message: string, details?: Details) { super(SeedUnreachable.code, message, details) }
}
/** The seed refused our secret (or cluster name). */
export class SecretRejected extends MurmurError {
  static readonly code = 'SECRET_REJECTED'
  constructor(message: string, details?: Details) { super(SecretRejected.code, message, details) }
}
/** The seed answered with an error, or not in time. */
export class RemoteFailed extends MurmurError {
  static readonly code = 'REMOTE_FAILED'
  constructor(message: string, details?: Details) { super(RemoteFailed.code, message, details) }
}

export interface AdminClientOptions {
  readonly seed: string
  readonly secret: string
  readonly cluster?: string
  /** ms for connecting and for each answer; default 5000. */
  readonly timeout?: number
  /** For a cluster that runs over TLS (PEM text). */
  readonly tls?: TlsInit
}

/**
 * A terminal's line to a cluster: a bare authenticated transport session with one seed (it does
 * not join, so it moves no agents), speaking to the seed's admin agent with asks.
 *
 * @example
 * const c = await AdminClient.connect({ seed: '127.0.0.1:7000', secret })
 * console.log((await c.status()).members)
 * await c.close()
 */
export class AdminClient {
  readonly #t: Transport
  readonly #seed: string
  readonly #timeout: number
  readonly #waiting = new Map<string, { resolve: (v: unknown) => void; reject: (e: Error) => void }>()

  private constructor(t: Transport, seed: string, timeout: number) {
    this.#t = t
    this.#seed = seed
    this.#timeout = timeout
    t.onMessage((m) => this.#onMessage(m))
  }

  static async connect(options: AdminClientOptions): Promise<AdminClient> {
    const timeout = options.timeout ?? 5000
    const t = createUwsTransport({
      nodeId: `murmur-cli-${randomUUID().slice(0, 8)}`,
      cluster: options.cluster ?? 'murmur',
      secret: options.secret,
      host: '127.0.0.1',
      port: 0,
      channels: { default: { parallelism: 1 } },
      ...(options.tls !== undefined ? { uws: { tls: options.tls } } : {}),
    })
    await t.start()
    const failed = new Promise<never>((_, reject) => {
      t.on('error', ({ error }) => {
        if (/AUTH|CLUSTER/.test((error as { code?: string }).code ?? '')) reject(error)
      })
    })
    try {
      const peer = await Promise.race([t.connect(options.seed, { signal: AbortSignal.timeout(timeout) }), failed])
      return new AdminClient(t, peer.nodeId, timeout)
    } catch (error) {
      await t.stop().catch(() => {})
      throw explain(error, options.seed)
    }
  }

  /** Members, their state, and the agents on each, as the seed sees them. */
  status(): Promise<Status> {
    return this.#ask('status', {}) as Promise<Status>
  }

  /** Tells (`ask: false`) or asks agent `id` a message, through the seed. */
  /** Spawns an agent of protocol `type` with this id, where the cluster places it. */
  spawn(type: string, id: string, input: unknown): Promise<{ node: string }> {
    return this.#ask('start', { type, id, input }) as Promise<{ node: string }>
  }

  relay(id: string, type: string, payload: unknown, ask: boolean, timeout = this.#timeout): Promise<{ delivered: boolean; agent: string; reply?: unknown }> {
    return this.#ask('relay', { id, type, payload, ask, timeout }, timeout + 1000) as Promise<{ delivered: boolean; agent: string; reply?: unknown }>
  }

  async close(): Promise<void> {
    await this.#t.stop()
  }

  #ask(op: AdminOp, payload: unknown, timeout = this.#timeout): Promise<unknown> {
    const c = randomUUID()
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiting.delete(c)
        reject(new RemoteFailed(`no answer from ${this.#seed} within ${timeout} ms`))
      }, timeout)
      this.#waiting.set(c, {
        resolve: (v) => (clearTimeout(timer), resolve(v)),
        reject: (err) => (clearTimeout(timer), reject(err)),
      })
      const request: AdminRequest = { murmurAdmin: 1, c, op, payload }
      this.#t.send(this.#seed, request, { guarantee: ['reliable', 'fifo'], key: ADMIN_KEY })
    })
  }

  #onMessage(m: InboundMessage): void {
    const r = m.payload
    if (!isAdminResponse(r)) return
    const w = this.#waiting.get(r.c)
    if (!w) return
    this.#waiting.delete(r.c)
    if (r.ok) w.resolve(r.value)
    else w.reject(new RemoteFailed(r.error.message, { code: r.error.code }))
  }
}

function explain(error: unknown, seed: string): Error {
  const code = (error as { code?: string }).code ?? ''
  const text = error instanceof Error ? error.message : String(error)
  if (/AUTH/.test(code)) return new SecretRejected(`${seed} refused our secret: check --secret (or MURMUR_SECRET)`, { seed })
  if (/CLUSTER/.test(code)) return new SecretRejected(`${seed} belongs to another cluster: check --cluster`, { seed })
  return new SeedUnreachable(`cannot reach the seed ${seed}: ${text}`, { seed, cause: code || text })
}
