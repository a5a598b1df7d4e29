/**
 * The child side of `startWorker` / `runWorker`: a worker script sets itself up (binds 127.0.0.1,
 * connects, …), then calls `serveWorker(handlers, readyData)`. The parent calls handlers by name over
 * the IPC channel and gets their return value (or their error). Every worker also answers the
 * built-in commands `cpu-mark` (start a CPU window), `cpu-read` (percent of one core since the mark)
 * and `exit`. The worker exits as soon as its parent goes away, so no orphan outlives a bench run.
 *
 * @example
 * // workers/echo.ts, run with startWorker(new URL('../workers/echo.js', import.meta.url))
 * import { serveWorker } from '../lib/serve.js'
 * const port = await listen()
 * serveWorker({ count: () => received }, { port })
 */
import { cpuMark, cpuPercent, type CpuMark } from './cpu.js'
import type { ChildMessage, ParentMessage } from './protocol.js'

/** A command handler: gets the `args` of `handle.call(cmd, args)`; its result is sent back. */
export type WorkerHandler = (args: any) => unknown

export function serveWorker(handlers: Readonly<Record<string, WorkerHandler>>, ready?: unknown): void {
  const send = process.send?.bind(process)
  if (send === undefined) throw new Error('serveWorker: not started by startWorker (no IPC channel)')
  let mark: CpuMark = cpuMark()
  const builtins: Record<string, WorkerHandler> = {
    'cpu-mark': () => {
      mark = cpuMark()
    },
    'cpu-read': () => cpuPercent(mark),
    exit: () => {
      setImmediate(() => process.exit(0))
    },
  }
  process.on('disconnect', () => process.exit(0))
  process.on('message', (raw: ParentMessage) => {
    if (raw?.t !== 'call') return
    const handler = handlers[raw.cmd] ?? builtins[raw.cmd]
    const reply = (m: ChildMessage): void => {
      if (process.connected) send(m)
    }
    if (handler === undefined) {
      reply({ t: 'reply', id: raw.id, ok: false, error: `unknown command ${raw.cmd}` })
      return
    }
    Promise.resolve()
      .then(() => handler(raw.args))
      .then(
        (value) => reply({ t: 'reply', id: raw.id, ok: true, value }),
        (err: unknown) => reply({ t: 'reply', id: raw.id, ok: false, error: err instanceof Error ? (err.stack ?? err.message) : String(err) }),
      )
  })
  send({ t: 'ready', data: ready } satisfies ChildMessage)
}
