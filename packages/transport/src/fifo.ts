/**
 * FIFO per sender → receiver and key. A key always maps to the same lane of its channel (so
 * `parallelism` > 1 keeps each key's order), a message without a key to lane 0. On a lane,
 * reliable messages are delivered in sequence order by the reliable stream's hold-back
 * (`reliable.ts`), across reconnects because sequence numbers belong to the session, not the link.
 * Best-effort fifo messages cannot wait for a gap that may never fill, so a late one is dropped:
 * {@link acceptNewer}.
 */

/** FNV-1a: stable across processes and versions, which lane choice must be. */
export function hashKey(key: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < key.length; i++) {
    h ^= key.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

export function laneFor(key: string | undefined, parallelism: number): number {
  return key === undefined || parallelism === 1 ? 0 : hashKey(key) % parallelism
}

/** Best-effort fifo: accept `seq` only if it is newer than the last one delivered. */
export function acceptNewer(last: number, seq: number): boolean {
  return seq > last
}
