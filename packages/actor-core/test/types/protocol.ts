// Shared by the type fixtures: a protocol with a plain type, an async one and a request/response one.
import { z } from 'zod'
import { message, protocol } from '../../src/index.js'

export const Worker = protocol('worker', {
  assign: message(z.object({ taskId: z.string(), input: z.string() })),
  status: message(z.object({ progress: z.number() }), { guarantee: ['best-effort'] }),
  report: message(z.object({}), { reply: z.object({ done: z.number() }) }),
})
export type W = typeof Worker
