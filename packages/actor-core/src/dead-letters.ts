import type { Envelope } from './envelope.js'
import type { MurmurError } from './errors.js'

/** Why a message reached no handler. */
export type DeadLetterReason =
  | 'agent-not-found'
  | 'agent-stopped'
  | 'mailbox-full'
  | 'schema-violation'
  | 'unknown-type'
  | 'unmatched-reply'

/** A message that reached no handler, with its reason. */
export interface DeadLetter {
  readonly reason: DeadLetterReason
  readonly envelope: Envelope
  readonly error?: MurmurError
}

/**
 * The dead letters of a system: an async iterable (each iterator sees what is published after it
 * starts, keeping at most `bufferSize` unread letters, the oldest dropped first) and a listener list.
 *
 * @example
 * for await (const dl of system.deadLetters) console.log(dl.reason, dl.envelope.to)
 * const off = system.deadLetters.on((dl) => metrics.inc(dl.reason))
 */
export class DeadLetters implements AsyncIterable<DeadLetter> {
  #listeners = new Set<(letter: DeadLetter) => void>()
  #count = 0

  constructor(readonly bufferSize = 10_000) {}

  /** Dead letters published so far. */
  get count(): number {
    return this.#count
  }

  /** Calls `listener` for every dead letter; returns the function that removes it. */
  on(listener: (letter: DeadLetter) => void): () => void {
    this.#listeners.add(listener)
    return () => this.#listeners.delete(listener)
  }

  publish(letter: DeadLetter): void {
    this.#count++
    for (const listener of this.#listeners) {
      try {
        listener(letter)
      } catch {
        // a listener's failure must not stop delivery to the others
      }
    }
  }

  [Symbol.asyncIterator](): AsyncIterator<DeadLetter> {
    const buffered: DeadLetter[] = []
    let waiting: ((r: IteratorResult<DeadLetter>) => void) | undefined
    const off = this.on((letter) => {
      if (waiting !== undefined) {
        const w = waiting
        waiting = undefined
        w({ value: letter, done: false })
        return
      }
      buffered.push(letter)
      if (buffered.length > this.bufferSize) buffered.shift()
    })
    return {
      next: () => {
        const letter = buffered.shift()
        if (letter !== undefined) return Promise.resolve({ value: letter, done: false })
        return new Promise((resolve) => { waiting = resolve })
      },
      return: () => {
        off()
        waiting?.({ value: undefined, done: true })
        return Promise.resolve({ value: undefined, done: true })
      },
    }
  }
}
