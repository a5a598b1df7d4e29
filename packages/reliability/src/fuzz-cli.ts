#!/usr/bin/env node
import { parseArgs } from 'node:util'
import { fuzzDirect } from './fuzz/fuzz-direct.js'
import { fuzzUws } from './fuzz/fuzz-uws.js'
import { violations, type FuzzReport } from './fuzz/report.js'

/**
 * `node packages/reliability/dist/fuzz-cli.js [--frames N] [--seed S] [--target direct|uws|both]`:
 * the full fuzz run (1,000,000 frames by default, split over the targets), one JSON report each.
 */
const { values } = parseArgs({
  options: {
    frames: { type: 'string', default: '1000000' },
    seed: { type: 'string', default: '1' },
    target: { type: 'string', default: 'both' },
    'heap-bound': { type: 'string', default: '64' },
  },
})
const frames = Number(values.frames)
const seed = Number(values.seed)
const bound = Number(values['heap-bound'])
const targets = values.target === 'both' ? (['direct', 'uws'] as const) : ([values.target] as Array<'direct' | 'uws'>)
const share = (t: 'direct' | 'uws'): number => (targets.length === 1 ? frames : t === 'direct' ? Math.round(frames * 0.7) : Math.round(frames * 0.3))
let failed = false
for (const target of targets) {
  const run = target === 'direct' ? fuzzDirect : fuzzUws
  const progress = (r: FuzzReport): void => {
    process.stderr.write(`\r${target}: ${r.frames} frames, ${Math.round(process.memoryUsage().heapUsed / 2 ** 20)} MiB heap  `)
  }
  const report = await run({ seed, frames: share(target), onProgress: progress })
  process.stderr.write('\n')
  const bad = violations(report, bound)
  console.log(JSON.stringify({ ...report, violations: bad }, null, 2))
  if (bad.length > 0) failed = true
}
process.exit(failed ? 1 : 0)
