import type { AgentAddress, SerializedError, TraceContext } from './envelope.js'
import type { DeadLetter } from './dead-letters.js'

/**
 * What `system.inspect` reports, in the spirit of xstate's `inspect`.
 *
 * @example
 * const off = system.inspect((e) => { if (e.type === 'handled') histogram.observe(e.durationMs) })
 */
export type InspectionEvent =
  | { readonly type: 'spawned'; readonly agent: AgentAddress; readonly parent?: AgentAddress }
  | {
      readonly type: 'received'
      readonly agent: AgentAddress
      readonly messageType: string
      readonly kind: 'tell' | 'ask'
      readonly from?: AgentAddress
      readonly trace?: TraceContext
    }
  | { readonly type: 'handled'; readonly agent: AgentAddress; readonly messageType: string; readonly durationMs: number }
  | { readonly type: 'failed'; readonly agent: AgentAddress; readonly messageType?: string; readonly error: SerializedError }
  | { readonly type: 'restarted'; readonly agent: AgentAddress; readonly attempt: number; readonly delayMs: number }
  | { readonly type: 'stopped'; readonly agent: AgentAddress; readonly reason: StopReason }
  | { readonly type: 'dead-lettered'; readonly deadLetter: DeadLetter }

/** Why an agent stopped. */
export type StopReason = 'stopped' | 'self-stop' | 'failed' | 'max-restarts' | 'handoff' | 'parent-stopped' | 'system-stopped'

export type InspectionObserver = (event: InspectionEvent) => void
