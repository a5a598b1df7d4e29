import { randomBytes } from 'node:crypto'
import type { TraceContext } from '../envelope.js'

// Ids are a random per-process prefix plus a counter: unique across nodes without paying for
// randomness on every message.
const prefix = randomBytes(8).toString('hex')
const spanPrefix = randomBytes(4).toString('hex')
let counter = 0

function next(): string {
  counter = (counter + 1) % 0x1_0000_0000
  return counter.toString(16).padStart(8, '0')
}

/** A new trace, for a message that enters the system from outside any agent. */
export function newTrace(): TraceContext {
  const n = next()
  return { traceId: prefix + '00000000' + n, spanId: spanPrefix + n }
}

/** A child span of `parent` (the message being handled), or a new trace when there is none. */
export function childTrace(parent: TraceContext | undefined): TraceContext {
  if (parent === undefined) return newTrace()
  return { traceId: parent.traceId, spanId: spanPrefix + next(), parentSpanId: parent.spanId }
}
