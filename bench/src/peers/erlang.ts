/**
 * Distributed Erlang across two local nodes, when `erl` and `erlc` are on PATH (Debian:
 * `apt-get install erlang-base`). Everything stays on 127.0.0.1: a port mapper of our own
 * (`epmd.ts`, on a free port; `-start_epmd false` so no system epmd starts), nodes named
 * `…@127.0.0.1` with `inet_dist_use_interface {127,0,0,1}`. The measuring code is
 * `bench/erlang/murmur_bench.erl`, compiled into a temporary directory.
 */
import { spawnSync } from 'node:child_process'
import { accessSync, constants, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { delimiter, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import type { Plan } from '../lib/plan.js'
import type { Collector } from '../lib/collect.js'
import { spawnTracked } from '../lib/worker.js'
import { startEpmd } from './epmd.js'

export const ERLANG_FIGURES = {
  'peer.erlang.send': 'msg/s',
  'peer.erlang.rtt-p50': 'µs',
  'peer.erlang.rtt-p99': 'µs',
  'peer.erlang.inflight': 'round trips/s',
} as const

const SOURCE = fileURLToPath(new URL('../../erlang/murmur_bench.erl', import.meta.url))

/** The path of executable `cmd` on PATH, or undefined. */
export function onPath(cmd: string): string | undefined {
  for (const dir of (process.env['PATH'] ?? '').split(delimiter)) {
    const p = join(dir, cmd)
    try {
      accessSync(p, constants.X_OK)
      return p
    } catch {
      // not here
    }
  }
  return undefined
}

/** Why Erlang cannot be measured here, or undefined when it can. */
export function erlangMissing(): string | undefined {
  const missing = ['erl', 'erlc'].filter((c) => onPath(c) === undefined)
  return missing.length === 0 ? undefined : `skipped: ${missing.join(', ')} not on PATH (Debian: apt-get install erlang-base)`
}

/** The tests of `murmur_bench:tx` that produce the figures `wants` selects. */
function testsFor(wants: (name: string) => boolean): string[] {
  const tests: Record<string, readonly string[]> = {
    send: ['peer.erlang.send'],
    rtt: ['peer.erlang.rtt-p50', 'peer.erlang.rtt-p99'],
    inflight: ['peer.erlang.inflight'],
  }
  return Object.keys(tests).filter((t) => tests[t]!.some(wants))
}

/** Runs both nodes; adds every `RESULT` line of the sender (figures `wants` selects) to `out`. */
export async function measureErlang(p: Plan, wants: (name: string) => boolean, out: Collector): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'murmur-bench-erl-'))
  try {
    const compiled = spawnSync('erlc', ['-o', dir, SOURCE], { encoding: 'utf8', timeout: 60_000 })
    if (compiled.status !== 0) throw new Error(`erlc failed: ${compiled.stderr || compiled.stdout}`)
    const epmd = await startEpmd()
    const env = { ...process.env, ERL_EPMD_PORT: String(epmd.port) }
    const tag = `${process.pid}`
    const rxName = `murmur_rx_${tag}@127.0.0.1`
    const common = ['-noshell', '-start_epmd', 'false', '-setcookie', 'murmurbench', '-kernel', 'inet_dist_use_interface', '{127,0,0,1}', '-pa', dir]
    const nodes = []
    try {
      nodes.push(spawnTracked('erl', ['-name', rxName, ...common, '-eval', 'murmur_bench:rx(), halt().'], { env }))
      const args = `['${rxName}', ${p.rounds}, ${p.warmup}, ${p.roundMs}, ${p.rttSamples}, 1000, [${testsFor(wants).join(', ')}]]`
      const tx = spawnTracked('erl', ['-name', `murmur_tx_${tag}@127.0.0.1`, ...common, '-eval', `murmur_bench:tx(${args}), halt().`], { env })
      nodes.push(tx)
      const budgetMs = (p.warmup + p.rounds) * (3 * Math.max(p.roundMs, 1000) + 2000) + 30_000
      const text = await collectStdout(tx, budgetMs)
      for (const line of text.split('\n')) {
        const m = /^RESULT (\S+) (\S+) (\S+) (\S+)$/.exec(line.trim())
        if (m === null) continue
        const name = m[1] as keyof typeof ERLANG_FIGURES
        if (!wants(name)) continue
        out.add(name, ERLANG_FIGURES[name] ?? '', Number(m[2]), { 'tx node': Number(m[3]), 'rx node': Number(m[4]) })
      }
      if (!text.includes('DONE')) throw new Error(`Erlang sender did not finish:\n${text.slice(-2000)}`)
    } finally {
      await Promise.all(nodes.map(stopNode))
      await epmd.close()
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

/** Gives a node that was told to stop a moment to halt, then kills it; resolves once it is gone. */
function stopNode(node: ReturnType<typeof spawnTracked>): Promise<void> {
  if (node.exitCode !== null || node.signalCode !== null) return Promise.resolve()
  return new Promise((resolve) => {
    const t = setTimeout(() => node.kill('SIGKILL'), 2000)
    node.once('exit', () => {
      clearTimeout(t)
      resolve()
    })
  })
}

/** Everything `child` writes to stdout until it exits (killed after `timeoutMs`), stderr appended. */
function collectStdout(child: ReturnType<typeof spawnTracked>, timeoutMs: number): Promise<string> {
  let text = ''
  child.stdout?.on('data', (d: Buffer) => (text += d.toString()))
  child.stderr?.on('data', (d: Buffer) => (text += d.toString()))
  return new Promise((resolve) => {
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs)
    child.once('exit', () => {
      clearTimeout(t)
      resolve(text)
    })
  })
}
