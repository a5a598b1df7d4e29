/**
 * uWebSockets.js 20.30 mishandles a message of 16 KiB or more that its server writes while the
 * kernel send buffer is full: its direct-write path (taken when nothing is buffered in uWS and
 * nothing is corked) either corrupts the stream (the `ws` client closes with 1002 "RSV2 and RSV3
 * must be clear") or leaves the unwritten rest in uWS's buffer with nothing to flush it (the link
 * stalls). Fixed upstream after 20.30 (uWebSockets PR #1662). These tests drive that path: large
 * frames from the accepted (uWS) side to a `ws` client in another process (in this process it could
 * not read while the server writes, which hides the bug), and check that every frame arrives whole,
 * in order, on a link that stays up.
 */
import t, { type Test } from 'tap'
import { spawn } from 'node:child_process'
import { once } from 'node:events'
import { fileURLToPath } from 'node:url'
import { systemClock } from '../src/clock.js'
import type { Link } from '../src/connector.js'
import { uwsConnector } from '../src/uws-connector.js'
import { recorder, type Recorder } from './compliance/connector.js'
import { BIG, SIZES, makeFrame } from './fixtures/large-frames.mjs'
import { waitFor } from './helpers/wait.js'

const reader = fileURLToPath(new URL('./fixtures/frame-reader.mjs', import.meta.url))

interface Report {
  frames: number
  bad: number
  close: { code: number; reason: string } | null
  error: string
}

interface WaterMarks {
  highWaterMark: number
  lowWaterMark: number
}

const DEFAULT_MARKS: WaterMarks = { highWaterMark: 4 * 1024 * 1024, lowWaterMark: 1024 * 1024 }

interface Setup {
  /** The accepted (uWS) side. */
  link: Link
  serverSide: Recorder
  /** What the reader saw: every frame, or a close; `undefined` if it did neither in time (a stall). */
  report: Promise<Report | undefined>
}

/**
 * A connector listening on 127.0.0.1 and a reader process dialling it that expects `count` frames;
 * `pausedMs` > 0 makes it stop reading that long, then read `readingMs`, and so on.
 */
async function setup(t: Test, count: number, shape: 'mixed' | 'big', marks: WaterMarks, pausedMs = 0, readingMs = 0): Promise<Setup> {
  const server = uwsConnector(marks)({ clock: systemClock })
  t.teardown(() => server.close())
  const serverSide = recorder()
  let accepted: Link | undefined
  const address = await server.listen({ host: '127.0.0.1', port: 0 }, (link) => {
    accepted = link
    return serverSide
  })
  const child = spawn(process.execPath, [reader, address, String(count), String(pausedMs), String(readingMs), shape], { stdio: ['ignore', 'pipe', 'inherit'] })
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
  })
  let out = ''
  child.stdout.on('data', (d: Buffer) => (out += d.toString()))
  // The first line is the reader's report; it stays connected afterwards, so a close seen by the
  // server side before then is the link's failure, not the reader leaving.
  const line = new Promise<Report>((resolve, reject) => {
    child.stdout.on('data', () => {
      const end = out.indexOf('\n')
      if (end >= 0) resolve(JSON.parse(out.slice(0, end)) as Report)
    })
    void once(child, 'exit').then(() => reject(new Error('the reader exited without a report')))
  })
  const deadline = new Promise<undefined>((resolve) => setTimeout(resolve, 15_000).unref())
  await waitFor(() => accepted !== undefined, 'the server accepts the reader')
  return { link: accepted as Link, serverSide, report: Promise.race([line, deadline]) }
}

/** A pump that sends frames until send() says stop and is called again on drain; call it to start. */
function sendWithFlowControl(s: Setup, count: number, sizes: number[]): () => void {
  let seq = 0
  const pump = (): void => {
    while (seq < count && s.serverSide.closes.length === 0) if (!s.link.send(makeFrame(seq++, sizes))) return
  }
  s.serverSide.drain = pump
  return pump
}

async function checkAll(t: Test, s: Setup, count: number): Promise<void> {
  const report = await s.report
  t.ok(report !== undefined, 'the reader got every frame or a close within 15 s (no stall)')
  t.same(report?.close ?? null, null, 'the reader never saw the link close')
  t.equal(report?.frames, count, 'every frame arrived')
  t.equal(report?.bad, 0, 'every frame arrived whole and in order')
  t.same(s.serverSide.closes, [], 'the server side never saw the link close')
}

t.test('64 KiB frames written back to back whenever uWS has nothing buffered arrive intact', async (t) => {
  // uWS takes its faulty direct path only with nothing buffered and nothing corked. With both water
  // marks at 0, send() says stop as soon as anything is buffered and drain comes once uWS has
  // flushed everything: every write of a round but the last takes the direct path, and the last
  // meets a full kernel buffer. Nothing else keeps the event loop busy (no polling): that is the
  // shape that stalls uWS 20.30 every time.
  const count = 1500
  const s = await setup(t, count, 'big', { highWaterMark: 0, lowWaterMark: 0 })
  setImmediate(sendWithFlowControl(s, count, BIG))
  await checkAll(t, s, count)
})

t.test('frames sent until send() says stop, resumed on drain, to a reader that pauses, arrive intact', async (t) => {
  const count = 1000
  const s = await setup(t, count, 'mixed', DEFAULT_MARKS, 30, 10)
  sendWithFlowControl(s, count, SIZES)()
  await checkAll(t, s, count)
})

t.test('large frames corked ten at a time arrive intact', async (t) => {
  const count = 600
  const s = await setup(t, count, 'mixed', DEFAULT_MARKS, 20, 5)
  let seq = 0
  const burst = (): void => {
    if (s.serverSide.closes.length > 0 || seq >= count) return
    s.link.cork?.(() => {
      for (let i = 0; i < 10 && seq < count; i++) s.link.send(makeFrame(seq++, SIZES))
    })
    setTimeout(burst, 2)
  }
  burst()
  await checkAll(t, s, count)
})
