import t from 'tap'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { suite } from '../src/suites/peers.js'
import { erlangMissing } from '../src/peers/erlang.js'
import { liveWorkers } from '../src/lib/worker.js'

const erlangOnly = (n: string): boolean => n.startsWith('peer.erlang')
// Before any test changes PATH.
const noErlang = erlangMissing()

t.test('without erl on PATH the Erlang figures are records that say skipped', async (t) => {
  const empty = mkdtempSync(join(tmpdir(), 'no-erl-'))
  const path = process.env['PATH']
  process.env['PATH'] = empty
  t.teardown(() => {
    process.env['PATH'] = path
    rmSync(empty, { recursive: true, force: true })
  })
  const records = await suite.run({ quick: true, records: [], wants: erlangOnly })
  t.same(records.map((r) => r.name), ['peer.erlang.send', 'peer.erlang.rtt-p50', 'peer.erlang.rtt-p99', 'peer.erlang.inflight'])
  for (const r of records) {
    t.ok(Number.isNaN(r.value), `${r.name} has no value`)
    t.match(r.note, /skipped: erl, erlc not on PATH/)
  }
})

t.test('two Erlang nodes on 127.0.0.1 through the bench port mapper', { skip: noErlang ?? false }, async (t) => {
  const records = await suite.run({ quick: true, records: [], wants: (n) => n === 'peer.erlang.rtt-p50' || n === 'peer.erlang.send' })
  const byName = new Map(records.map((r) => [r.name, r]))
  for (const name of ['peer.erlang.send', 'peer.erlang.rtt-p50']) {
    const r = byName.get(name)
    t.ok(r !== undefined && Number.isFinite(r.value) && r.value > 0, `${name} measured (${r?.value})`)
    t.ok(r?.cpu?.['tx node'] !== undefined && r.cpu['rx node'] !== undefined, `${name} has both nodes' CPU`)
  }
  t.same(liveWorkers(), [], 'both nodes are gone')
})

t.test('Moleculer across two processes, TCP transporter on 127.0.0.1', async (t) => {
  const records = await suite.run({ quick: true, records: [], wants: (n) => n === 'peer.moleculer.emit' || n.startsWith('peer.moleculer.rtt') })
  t.same(records.map((r) => r.name), ['peer.moleculer.emit', 'peer.moleculer.rtt-p50', 'peer.moleculer.rtt-p99'])
  for (const r of records) {
    t.ok(Number.isFinite(r.value) && r.value > 0, `${r.name} measured (${r.value})`)
    t.same(Object.keys(r.cpu ?? {}).sort(), ['receiver', 'sender'])
  }
  t.same(liveWorkers(), [], 'both nodes are gone')
})
