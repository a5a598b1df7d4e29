import type { z } from 'zod'
import type { AgentAddress } from '../envelope.js'
import { AskAborted, AskTimeout, type MurmurError } from '../errors.js'
import type { Expirable } from './deadlines.js'

/** Where the result of a handled ask goes: a local promise, or a reply envelope to another node. */
export interface ReplyHandle {
  ok(value: unknown): void
  fail(error: MurmurError): void
}

/** An ask awaited in this process. Registered by correlation id while its target is remote. */
export class PendingAsk implements ReplyHandle, Expirable {
  deadline = 0
  settled = false
  correlationId: string | undefined = undefined
  replySchema: z.ZodType | undefined = undefined
  signal: AbortSignal | undefined = undefined
  onAbort: (() => void) | undefined = undefined
  readonly promise: Promise<unknown>
  #resolve!: (value: unknown) => void
  #reject!: (error: unknown) => void

  constructor(
    readonly owner: { settled(ask: PendingAsk): void },
    readonly to: AgentAddress,
    readonly type: string,
  ) {
    this.promise = new Promise((resolve, reject) => {
      this.#resolve = resolve
      this.#reject = reject
    })
  }

  ok(value: unknown): void {
    if (this.#finish()) this.#resolve(value)
  }

  fail(error: unknown): void {
    if (this.#finish()) this.#reject(error)
  }

  expire(): void {
    this.fail(new AskTimeout(`no reply to '${this.type}' from ${this.to.type}/${this.to.id} in time`, { to: this.to, type: this.type }))
  }

  /** Wires an AbortSignal (only asks that pass one pay for the listener). */
  listen(signal: AbortSignal): void {
    const abort = (): void => this.fail(new AskAborted(`ask '${this.type}' to ${this.to.type}/${this.to.id} aborted`, { to: this.to, type: this.type }))
    if (signal.aborted) return abort()
    this.signal = signal
    this.onAbort = abort
    signal.addEventListener('abort', abort, { once: true })
  }

  #finish(): boolean {
    if (this.settled) return false
    this.settled = true
    if (this.correlationId !== undefined || this.deadline !== 0) this.owner.settled(this)
    if (this.signal !== undefined) this.signal.removeEventListener('abort', this.onAbort!)
    return true
  }
}
