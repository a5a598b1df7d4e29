import t from 'tap'
import { suite } from '../src/suites/raw.js'
import { liveWorkers } from '../src/lib/worker.js'

// The real two-process raw suite, reduced by --only to two figures and run --quick.
t.test('raw suite measures round trips and coalesced throughput over a native uWS server', async (t) => {
  const wanted = ['raw.rtt-p50', 'raw.rtt-p99', 'raw.batched']
  const records = await suite.run({ quick: true, records: [], wants: (n) => wanted.includes(n) })
  t.same(records.map((r) => r.name).sort(), [...wanted].sort())
  for (const r of records) {
    t.ok(Number.isFinite(r.value) && r.value > 0, `${r.name} = ${r.value} ${r.unit}`)
    t.ok(r.min! <= r.value && r.value <= r.max!, `${r.name} median within its spread`)
    t.ok(r.cpu !== undefined && Object.keys(r.cpu).length === 2, `${r.name} has the CPU of both processes`)
  }
  const p50 = records.find((r) => r.name === 'raw.rtt-p50')!.value
  const p99 = records.find((r) => r.name === 'raw.rtt-p99')!.value
  t.ok(p50 <= p99, 'p50 ≤ p99')
  t.same(liveWorkers(), [], 'both processes are gone')
})
