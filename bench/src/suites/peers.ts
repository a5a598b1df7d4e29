/**
 * The peers a TypeScript team would otherwise pick, in the same run: Moleculer (always) and
 * Distributed Erlang (when `erl` is installed; otherwise its records say skipped). Both across two
 * OS processes on 127.0.0.1 with 64-byte payloads. `xstate.send` belongs to the `local` suite.
 */
import type { BenchContext, BenchRecord, BenchSuite } from '../record.js'
import { plan, skipped } from '../lib/plan.js'
import { createCollector } from '../lib/collect.js'
import { PartialResults } from '../lib/partial.js'
import { MOLECULER_NAMES, measureMoleculer } from '../peers/moleculer.js'
import { ERLANG_FIGURES, erlangMissing, measureErlang } from '../peers/erlang.js'

export const suite: BenchSuite = {
  name: 'peers',
  names: ['peer.'],
  async run(ctx: BenchContext): Promise<BenchRecord[]> {
    const p = plan(ctx)
    const out = createCollector()
    const errors: string[] = []
    if (MOLECULER_NAMES.some((n) => ctx.wants(n))) {
      await measureMoleculer(p, ctx.wants, out).catch((err: unknown) => errors.push(`moleculer: ${String(err)}`))
    }
    const erlangNames = Object.keys(ERLANG_FIGURES) as (keyof typeof ERLANG_FIGURES)[]
    const records: BenchRecord[] = []
    if (erlangNames.some((n) => ctx.wants(n))) {
      const missing = erlangMissing()
      if (missing !== undefined) records.push(...erlangNames.filter(ctx.wants).map((n) => skipped(n, ERLANG_FIGURES[n], missing)))
      else await measureErlang(p, ctx.wants, out).catch((err: unknown) => errors.push(`erlang: ${String(err)}`))
    }
    records.unshift(...out.records())
    // One peer failing still reports the other's figures; the suite fails after that.
    if (errors.length > 0) throw new PartialResults(errors.join('\n'), records)
    return records
  },
}
