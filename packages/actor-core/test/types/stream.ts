// Type fixture of streams (compiled by test/stream-types.test.ts): every `@ts-expect-error` must
// be an error (tsc reports unused ones), every other line must compile.
import { z } from 'zod'
import { ActorSystem, Agent, message, protocol, type Handlers, type InboundStream, type Payload } from '../../src/index.js'

const Sink = protocol('sink', {
  chunk: message(z.object({ data: z.instanceof(Uint8Array) })),
  note: message(z.object({ text: z.string() })),
})
type S = typeof Sink

export class SinkAgent extends Agent<S> implements Handlers<S> {
  static protocol = Sink
  bytes = 0
  chunk(_: Payload<S, 'chunk'>): void {}
  note(_: Payload<S, 'note'>): void {}
  override async onStream(s: InboundStream<S>): Promise<void> {
    if (s.type === 'chunk') {
      for await (const item of s.items) this.bytes += item.data.byteLength
    } else {
      for await (const item of s.items) this.bytes += item.text.length
      // @ts-expect-error: narrowed to 'note' items, which have no data
      for await (const item of s.items) this.bytes += item.data.byteLength
    }
  }
}

const sink = new ActorSystem().spawn(SinkAgent)
async function* chunks() {
  yield { data: new Uint8Array(4) }
}
export const ok: Promise<void> = sink.stream('chunk', chunks(), { credit: 4, signal: AbortSignal.timeout(1000) })
export const fromArray: Promise<void> = sink.stream('note', [{ text: 'a' }, { text: 'b' }])
// @ts-expect-error: items of 'note' are { text: string }
export const wrongItems = sink.stream('note', chunks())
// @ts-expect-error: no such message type
export const unknownType = sink.stream('nope', [])
// @ts-expect-error: a stream source is an iterable, not one payload
export const notIterable = sink.stream('note', { text: 'a' })
// @ts-expect-error: credit is a number
export const badOption = sink.stream('note', [], { credit: 'lots' })
