import t from 'tap'
import { median, percentile, summarize, measureRounds, latencies } from '../src/lib/stats.js'
import { parseOnly, selects, mayMatch } from '../src/lib/select.js'
import { compareWith, fillBaselines } from '../src/lib/baseline.js'
import { formatNumber, formatTable } from '../src/lib/table.js'
import { createCollector } from '../src/lib/collect.js'
import { checkTarget, sameUnit } from '../src/targets.js'
import type { BenchRecord } from '../src/record.js'

t.test('median and percentile', async (t) => {
  t.equal(median([3, 1, 2]), 2)
  t.equal(median([4, 1, 3, 2]), 2.5)
  t.ok(Number.isNaN(median([])))
  const sorted = Float64Array.from({ length: 100 }, (_, i) => i + 1)
  t.equal(percentile(sorted, 50), 50)
  t.equal(percentile(sorted, 99), 99)
  t.equal(percentile(sorted, 100), 100)
  t.equal(percentile(sorted, 0), 1)
  t.ok(Number.isNaN(percentile([], 50)))
  const l = latencies([5, 1, 4, 2, 3])
  t.same([l.p50, l.p99, l.count], [3, 5, 5])
})

t.test('summarize leaves failed (NaN) rounds out', async (t) => {
  const s = summarize([10, NaN, 30, 20])
  t.same([s.median, s.min, s.max], [20, 10, 30])
  t.ok(Number.isNaN(summarize([NaN]).median))
})

t.test('measureRounds drops warm-up rounds and stops at maxMs', async (t) => {
  const seen: boolean[] = []
  const s = await measureRounds({ rounds: 3, warmup: 2 }, async (i, measured) => {
    seen.push(measured)
    return i
  })
  t.same(seen, [false, false, true, true, true])
  t.same(s.values, [2, 3, 4])
  let calls = 0
  const slow = await measureRounds({ rounds: 100, maxMs: 30 }, async () => {
    calls++
    await new Promise((r) => setTimeout(r, 20))
    return 1
  })
  t.ok(calls >= 1 && calls <= 4, `bounded by time (${calls} rounds)`)
  t.equal(slow.median, 1)
})

t.test('--only selection', async (t) => {
  t.equal(parseOnly(undefined), undefined)
  t.equal(parseOnly(' , '), undefined)
  const only = parseOnly('raw,peer.erlang')
  t.same(only, ['raw', 'peer.erlang'])
  t.ok(selects(only, 'raw.batched'))
  t.ok(selects(only, 'peer.erlang.send'))
  t.notOk(selects(only, 'peer.moleculer.emit'))
  t.ok(selects(undefined, 'anything'))
  t.ok(mayMatch(only, ['peer.']), 'a suite of peer.* may hold peer.erlang.*')
  t.notOk(mayMatch(only, ['local.', 'xstate.send']))
  t.ok(mayMatch(only, undefined), 'a suite that declares no names always runs')
  t.ok(mayMatch(parseOnly('xstate'), ['local.', 'xstate.send']))
})

t.test('baselines', async (t) => {
  const records: BenchRecord[] = [
    { name: 'raw.batched', value: 8, unit: 'msg/s' },
    { name: 'x', value: 4, unit: 'msg/s', baseline: 'raw.batched' },
    { name: 'y', value: 4, unit: 'msg/s', baseline: 'absent' },
  ]
  const filled = fillBaselines(records)
  t.equal(filled[1]!.baselineValue, 8)
  t.equal(filled[1]!.ratio, 0.5)
  t.equal(filled[2]!.ratio, undefined, 'no ratio without the baseline record')
  t.equal(compareWith({ name: 'z', value: 1, unit: 'µs' }, [{ name: 'b', value: NaN, unit: 'µs' }], 'b').ratio, undefined)
})

t.test('collector: median, spread and cpu per figure', async (t) => {
  const c = createCollector()
  c.add('a', 'msg/s', 3, { p: 50 })
  c.add('a', 'msg/s', 1, { p: 70 })
  c.add('a', 'msg/s', 2, { p: 60 })
  c.add('b', 'µs', 9)
  t.same(c.records(), [
    { name: 'a', value: 2, unit: 'msg/s', min: 1, max: 3, cpu: { p: 60 } },
    { name: 'b', value: 9, unit: 'µs', min: 9, max: 9 },
  ])
})

t.test('table formatting', async (t) => {
  t.equal(formatNumber(7_812_345.6), '7,812,346')
  t.equal(formatNumber(28.34), '28.3')
  t.equal(formatNumber(0.354), '0.35')
  t.equal(formatNumber(NaN), '—')
  t.equal(formatNumber(0.004), '0.0040')
  t.equal(formatNumber(0), '0.00')
  const recs: BenchRecord[] = [
    { name: 'a', value: 1000, unit: 'msg/s', baseline: 'b', ratio: 0.5, min: 900, max: 1100, cpu: { s: 99.6 } },
    { name: 'e', value: NaN, unit: 'msg/s', min: NaN, max: NaN, note: 'skipped: x | y' },
  ]
  const text = formatTable(recs).split('\n')
  t.equal(text.length, 4)
  t.match(text[2]!, /^a\s+1,000\s+msg\/s\s+b\s+0\.50×\s+900–1,100\s+s 100%$/)
  t.match(text[3]!, /^e\s+skipped\s+msg\/s\s+skipped: x \| y$/, 'no spread for a skipped figure')
  const md = formatTable(recs, { markdown: true })
  t.match(md, /\| skipped: x \\\| y \|/, 'pipes escaped in Markdown')
})

t.test('targets', async (t) => {
  const recs: BenchRecord[] = [
    { name: 'raw.rtt-p50', value: 20, unit: 'µs' },
    { name: 'remote.ask.p50', value: 30, unit: 'µs' },
    { name: 'remote.ask.p99', value: 150, unit: 'µs' },
    { name: 'local.memory-per-agent', value: 2000, unit: 'bytes' },
  ]
  t.equal(checkTarget({ figure: 'remote.ask.p50', kind: 'max', bound: 1.6, of: 'raw.rtt-p50' }, recs).verdict, 'met')
  t.equal(checkTarget({ figure: 'remote.ask.p50', kind: 'max', bound: 1.6, of: 'raw.rtt-p50' }, recs).measured, 1.5)
  t.equal(checkTarget({ figure: 'remote.ask.p50', kind: 'max', bound: 1.2, of: 'raw.rtt-p50' }, recs).verdict, 'not met')
  t.equal(checkTarget({ figure: 'remote.ask.p99', kind: 'max', bound: 200, unit: 'µs' }, recs).verdict, 'met')
  t.equal(checkTarget({ figure: 'remote.ask.p99', kind: 'max', bound: 200, unit: 'ms' }, recs).verdict, 'unit differs')
  t.equal(checkTarget({ figure: 'local.memory-per-agent', kind: 'max', bound: 1024, unit: 'B' }, recs).verdict, 'not met')
  t.equal(checkTarget({ figure: 'local.tell', kind: 'min', bound: 5, of: 'xstate.send' }, recs).verdict, 'missing')
  t.ok(sameUnit('calls/s', 'asks/s'))
  t.notOk(sameUnit('B/s', 'msg/s'))
})
