import { randomFillSync } from 'node:crypto'
import { urlAlphabet } from 'nanoid'

// nanoid's ids (21 characters of its URL alphabet, 126 random bits), built as one flat string:
// nanoid concatenates character by character, which leaves a chain of cons-strings (~300 bytes)
// behind every id, and agents are kept by id by the million.
const SIZE = 21
const POOL = SIZE * 1024
const pool = Buffer.alloc(POOL)
let offset = POOL
const codes: number[] = new Array<number>(SIZE).fill(0)
const alphabet = Array.from(urlAlphabet, (c) => c.charCodeAt(0))

/** A new nanoid-compatible id. */
export function newId(): string {
  if (offset + SIZE > POOL) {
    randomFillSync(pool)
    offset = 0
  }
  for (let i = 0; i < SIZE; i++) codes[i] = alphabet[pool[offset + i]! & 63]!
  offset += SIZE
  return String.fromCharCode.apply(null, codes)
}
