/**
 * Child processes for benchmarks that need two (or more) OS processes. Every process started here
 * is tracked and killed at the latest when the bench run ends (`killAllWorkers`, also on exit and
 * on SIGINT/SIGTERM), so a failing suite never leaves one behind. Worker scripts bind and connect on
 * 127.0.0.1 only; pass them ports from `freePort()` or read the port they chose from `ready`.
 *
 * @example
 * const server = await startWorker<{ port: number }>(new URL('../workers/raw-server.js', import.meta.url))
 * try {
 *   await server.cpuMark()
 *   const n = await server.call<number>('count')
 *   const cpu = await server.cpuRead()
 * } finally {
 *   server.kill()
 * }
 */
import { fork, spawn, type ChildProcess, type SpawnOptions } from 'node:child_process'
import { existsSync } from 'node:fs'
import { createServer } from 'node:net'
import { fileURLToPath } from 'node:url'
import type { ChildMessage, ParentMessage } from './protocol.js'

export interface WorkerOptions {
  /** Extra environment for the child (merged over this process's). */
  readonly env?: Readonly<Record<string, string>>
  /** Node flags for the child (default none, e.g. `['--expose-gc']`). */
  readonly execArgv?: readonly string[]
  /** How long to wait for the worker's `ready` (default 20 s). */
  readonly readyTimeoutMs?: number
  /** Default timeout of `call` (default 120 s); a call past it kills the worker. */
  readonly callTimeoutMs?: number
}

/** A running worker. `kill()` is idempotent; calls after the worker died reject. */
export interface WorkerHandle<Ready = unknown> {
  readonly pid: number
  /** What the worker passed to `serveWorker(…, ready)`. */
  readonly ready: Ready
  /** Runs handler `cmd` in the worker and resolves with its return value (structured clone). */
  call<T = unknown>(cmd: string, args?: unknown, opts?: { timeoutMs?: number }): Promise<T>
  /** Starts a CPU window in the worker. */
  cpuMark(): Promise<void>
  /** Percent of one core the worker used since its last `cpuMark()` (or since it started). */
  cpuRead(): Promise<number>
  /** Resolves with the exit code (or signal name) once the process is gone. */
  readonly exited: Promise<number | string | null>
  kill(): void
}

const live = new Set<ChildProcess>()
let hooksInstalled = false

function track(child: ChildProcess): void {
  live.add(child)
  child.once('exit', () => live.delete(child))
  if (hooksInstalled) return
  hooksInstalled = true
  process.once('exit', () => {
    killAllWorkers()
  })
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.once(sig, () => {
      killAllWorkers()
      process.exit(130)
    })
  }
}

/** Kills every process started through this module that still runs; returns how many it killed. */
export function killAllWorkers(): number {
  let n = 0
  for (const child of live) {
    if (child.exitCode === null && child.signalCode === null) {
      if (!child.killed) n++
      // Profiled workers exit on their own when the channel goes (see `profiling`).
      if (profiling().length === 0) child.kill('SIGKILL')
      else if (child.connected) child.disconnect()
    }
    live.delete(child)
  }
  return n
}

/** Pids of tracked processes still running (the runner reports leftovers after each suite). */
export function liveWorkers(): number[] {
  return [...live].filter((c) => c.exitCode === null && c.signalCode === null).map((c) => c.pid ?? -1)
}

/** Keeps the last `max` characters a stream wrote, for error messages. */
function tail(stream: NodeJS.ReadableStream | null, max = 4000): () => string {
  let text = ''
  stream?.on('data', (chunk: Buffer) => {
    text = (text + chunk.toString()).slice(-max)
  })
  return () => text.trim()
}

const verbose = process.env['MURMUR_BENCH_VERBOSE'] === '1'

/**
 * Starts a tracked non-Node process (an Erlang node, epmd). Its stdout/stderr are piped (read them)
 * unless `MURMUR_BENCH_VERBOSE=1`, which makes every child inherit them.
 */
export function spawnTracked(cmd: string, args: readonly string[], opts: SpawnOptions = {}): ChildProcess {
  const child = spawn(cmd, args, { stdio: verbose ? 'inherit' : ['ignore', 'pipe', 'pipe'], ...opts })
  track(child)
  return child
}

function exitedPromise(child: ChildProcess): Promise<number | string | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode ?? child.signalCode)
    else child.once('exit', (code, signal) => resolve(code ?? signal))
  })
}

/**
 * The built script for `path`: itself when it exists, else its counterpart under `dist/` when the
 * caller runs from `src/` (tap runs the TypeScript sources; workers always run built, so build first).
 */
export function builtScript(path: string): string {
  if (existsSync(path)) return path
  const dist = path.replace(/\/src\/(?!.*\/src\/)/, '/dist/')
  return existsSync(dist) ? dist : path
}

/**
 * `MURMUR_BENCH_CPU_PROF=<dir>` runs every worker under `--cpu-prof`, its profile written to
 * `<dir>` when the worker ends (open it in Chrome DevTools or speedscope): how the per-message path
 * of the two-process figures is profiled.
 */
function profiling(): string[] {
  const dir = process.env.MURMUR_BENCH_CPU_PROF
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []
}

/**
 * Forks `script` (a built `.js` file, usually `new URL('../workers/x.js', import.meta.url)`) with
 * `args` as its argv, waits for its `serveWorker(…, ready)` and returns its handle.
 */
export async function startWorker<Ready = unknown>(
  script: URL | string,
  args: readonly string[] = [],
  opts: WorkerOptions = {},
): Promise<WorkerHandle<Ready>> {
  const path = builtScript(script instanceof URL ? fileURLToPath(script) : script)
  const child = fork(path, [...args], {
    execArgv: [...(opts.execArgv ?? []), ...profiling()],
    env: { ...process.env, ...opts.env },
    stdio: verbose ? ['ignore', 'inherit', 'inherit', 'ipc'] : ['ignore', 'pipe', 'pipe', 'ipc'],
    serialization: 'advanced',
  })
  track(child)
  const stderr = tail(child.stderr)
  tail(child.stdout) // drained so a chatty worker never blocks on a full pipe
  const exited = exitedPromise(child)
  const name = path.split('/').pop() ?? path
  const died = (): Error =>
    new Error(`worker ${name} (pid ${child.pid}) exited with ${child.exitCode ?? child.signalCode}${stderr() ? `:\n${stderr()}` : ''}`)

  let nextId = 1
  const pending = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void; timer: NodeJS.Timeout }>()
  let readyResolve!: (v: unknown) => void
  const readyP = new Promise<unknown>((r) => (readyResolve = r))
  child.on('message', (m: ChildMessage) => {
    if (m.t === 'ready') readyResolve(m.data)
    else if (m.t === 'reply') {
      const p = pending.get(m.id)
      if (p === undefined) return
      pending.delete(m.id)
      clearTimeout(p.timer)
      if (m.ok) p.resolve(m.value)
      else p.reject(new Error(`worker ${name}: ${m.error}`))
    }
  })
  const kill = (): void => {
    if (child.exitCode !== null || child.signalCode !== null) return
    // A profiled worker must exit by itself to write its profile: it exits when the IPC channel goes.
    if (profiling().length > 0 && child.connected) {
      child.disconnect()
      setTimeout(() => child.kill('SIGKILL'), 5000).unref()
    } else child.kill('SIGKILL')
  }
  void exited.then(() => {
    for (const p of pending.values()) {
      clearTimeout(p.timer)
      p.reject(died())
    }
    pending.clear()
  })

  const readyTimeout = opts.readyTimeoutMs ?? 20_000
  let timer: NodeJS.Timeout | undefined
  const ready = await Promise.race([
    readyP,
    exited.then(() => Promise.reject(died())),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`worker ${name}: not ready after ${readyTimeout} ms${stderr() ? `:\n${stderr()}` : ''}`)), readyTimeout)
    }),
  ]).catch((err: unknown) => {
    kill()
    throw err
  }).finally(() => clearTimeout(timer))

  const call = <T>(cmd: string, callArgs?: unknown, callOpts: { timeoutMs?: number } = {}): Promise<T> =>
    new Promise<T>((resolve, reject) => {
      if (!child.connected) return reject(died())
      const id = nextId++
      const ms = callOpts.timeoutMs ?? opts.callTimeoutMs ?? 120_000
      const t = setTimeout(() => {
        pending.delete(id)
        kill()
        reject(new Error(`worker ${name}: ${cmd} timed out after ${ms} ms (worker killed)`))
      }, ms)
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject, timer: t })
      child.send({ t: 'call', id, cmd, args: callArgs } satisfies ParentMessage)
    })

  return {
    pid: child.pid ?? -1,
    ready: ready as Ready,
    call,
    cpuMark: () => call<void>('cpu-mark'),
    cpuRead: () => call<number>('cpu-read'),
    exited,
    kill,
  }
}

/**
 * One-shot worker: starts `script`, calls its `run` handler with `runArgs`, measures the worker's
 * CPU over that call and kills it, whatever happens.
 *
 * @example
 * const { value, cpu } = await runWorker<number>(new URL('../workers/x.js', import.meta.url), ['64'])
 */
export async function runWorker<T = unknown, Ready = unknown>(
  script: URL | string,
  args: readonly string[] = [],
  runArgs?: unknown,
  opts: WorkerOptions = {},
): Promise<{ ready: Ready; value: T; cpu: number }> {
  const w = await startWorker<Ready>(script, args, opts)
  try {
    await w.cpuMark()
    const value = await w.call<T>('run', runArgs)
    const cpu = await w.cpuRead()
    return { ready: w.ready, value, cpu }
  } finally {
    w.kill()
    await w.exited
  }
}

/**
 * Runs `fn` with a `start` function like `startWorker` and kills every worker `fn` started when it
 * settles (resolve or throw).
 *
 * @example
 * await withWorkers(async (start) => {
 *   const a = await start(serverUrl); const b = await start(clientUrl, [String(a.ready.port)])
 *   return b.call('run')
 * })
 */
export async function withWorkers<T>(fn: (start: typeof startWorker) => Promise<T>): Promise<T> {
  const started: WorkerHandle<unknown>[] = []
  const start = (async (script: URL | string, args?: readonly string[], opts?: WorkerOptions) => {
    const w = await startWorker(script, args, opts)
    started.push(w)
    return w
  }) as typeof startWorker
  try {
    return await fn(start)
  } finally {
    for (const w of started) w.kill()
    await Promise.all(started.map((w) => w.exited))
  }
}

/** A TCP port free on 127.0.0.1 right now (for peers that need their ports before they start). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer()
    srv.unref()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address()
      const port = typeof addr === 'object' && addr !== null ? addr.port : 0
      srv.close(() => resolve(port))
    })
  })
}
