import type { AgentAddress, TraceContext } from '../envelope.js'
import type { StopReason } from '../inspection.js'
import type { Mailbox, MailboxOptions } from '../mailbox.js'
import type { MessageDef } from '../message.js'
import type { AnyProtocol } from '../protocol.js'
import type { AskOptions, Cancellable, Ref } from '../ref.js'
import type { StreamOptions } from '../stream.js'
import type { Supervision, SupervisionOptions } from '../supervision.js'

/** What the runtime needs of an agent class, without importing the Agent class (no cycle). */
export interface AgentCtor {
  new (): object
  readonly protocol: AnyProtocol
  readonly supervision?: SupervisionOptions
  readonly mailbox?: MailboxOptions
  readonly name: string
}

/** The lifecycle state of a cell; ordered so `>= STOPPING` means "takes no more messages". */
export const IDLE = 0
export const SCHEDULED = 1
export const RUNNING = 2
export const AWAITING = 3
export const SUSPENDED = 4
export const STOPPING = 5
export const STOPPED = 6

/** Options shared by every cell spawned the same way (one object per class when none are given). */
export interface CellOptions {
  readonly supervision: Supervision
  readonly capacity: number
  readonly overflow: NonNullable<MailboxOptions['overflow']>
}

/** A stop asked for while a handler runs; carried out when it returns. */
export interface StopRequest {
  readonly reason: StopReason
  readonly done: Promise<void>
  resolve(): void
}

/** The agent's side of the runtime: what `this.spawn`, `this.ref`, … call. */
export interface Runtime {
  tell(ref: RefImpl, type: string, payload: unknown): void
  ask(ref: RefImpl, type: string, payload: unknown, options: AskOptions | undefined): Promise<unknown>
  stream(ref: RefImpl, type: string, source: AsyncIterable<unknown> | Iterable<unknown>, options: StreamOptions | undefined): Promise<void>
  spawnChild(parent: Cell, cls: AgentCtor, options: object | undefined): Ref
  refFrom(from: Cell | undefined, protocol: AnyProtocol, id: string): Ref
  senderOf(cell: Cell): Ref | undefined
  traceOf(cell: Cell): TraceContext
  schedule(cell: Cell, type: string, payload: unknown, when: { after: number } | { every: number }): Cancellable
  stopSelf(cell: Cell): void
}

/**
 * The runtime's record of one agent: one small object per agent, no per-agent maps or closures;
 * the mailbox, children and timers are allocated on first use.
 */
export class Cell {
  agent: Record<string, unknown> = undefined as unknown as Record<string, unknown>
  state = IDLE
  mailbox: Mailbox | undefined = undefined
  /** Sender (Cell, remote AgentAddress or undefined) and trace of the message being handled. */
  sender: unknown = undefined
  trace: TraceContext | undefined = undefined
  children: Cell[] | undefined = undefined
  timers: Set<Cancellable> | undefined = undefined
  restarts: readonly number[] | undefined = undefined
  stopping: StopRequest | undefined = undefined
  /** Bumped on restart and stop, so late completions of an earlier run are ignored. */
  gen = 0
  /** Local messages go through the router too (see `ActorSystem.routeThrough`). */
  routed = false

  constructor(
    readonly rt: Runtime,
    readonly cls: AgentCtor,
    readonly defs: Readonly<Record<string, MessageDef>>,
    readonly address: AgentAddress,
    readonly seq: number,
    readonly input: unknown,
    readonly opts: CellOptions,
    readonly parent: Cell | undefined,
  ) {}
}

/** A Ref. `from` is the agent that sends through it; `cached` the local cell last resolved. */
export class RefImpl implements Ref {
  cached: Cell | undefined
  /** The last message type sent through this ref (to `cached`, or out when there is none), and its definition (protocol dictionaries are slow to read). */
  lastType = ''
  lastDef: MessageDef | undefined = undefined
  /** The engine's count of added cells when a lookup for this ref last found no local cell (-1: never). */
  missedAt = -1

  constructor(
    readonly rt: Runtime,
    readonly address: AgentAddress,
    readonly protocol: AnyProtocol | undefined,
    readonly from: Cell | undefined,
    cached?: Cell,
  ) {
    this.cached = cached
  }

  get id(): string {
    return this.address.id
  }

  tell(type: string, payload: unknown): void {
    this.rt.tell(this, type, payload)
  }

  ask(type: string, payload: unknown, options?: AskOptions): Promise<never> {
    return this.rt.ask(this, type, payload, options) as Promise<never>
  }

  stream(type: string, source: AsyncIterable<unknown> | Iterable<unknown>, options?: StreamOptions): Promise<void> {
    return this.rt.stream(this, type, source, options)
  }

  toJSON(): AgentAddress {
    return this.address
  }
}

let constructing: Cell | undefined

/** Builds the agent of `cell`; the Agent constructor picks the cell up through {@link takeCell}. */
export function construct(cell: Cell): Record<string, unknown> {
  constructing = cell
  try {
    return new cell.cls() as Record<string, unknown>
  } finally {
    constructing = undefined
  }
}

export function takeCell(): Cell {
  const cell = constructing
  if (cell === undefined) throw new TypeError('agents are created by system.spawn, not with new')
  constructing = undefined
  return cell
}
