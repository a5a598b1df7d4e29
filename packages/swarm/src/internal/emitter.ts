/** A minimal typed event emitter; a throwing listener never stops the others. */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(data: never) => void>>()

  on<E extends keyof Events>(event: E, listener: (data: Events[E]) => void): () => void {
    let set = this.#listeners.get(event)
    if (!set) this.#listeners.set(event, (set = new Set()))
    set.add(listener as (data: never) => void)
    return () => set.delete(listener as (data: never) => void)
  }

  emit<E extends keyof Events>(event: E, data: Events[E]): void {
    for (const l of this.#listeners.get(event) ?? []) {
      try {
        ;(l as (data: Events[E]) => void)(data)
      } catch {
        // a listener's failure is its own
      }
    }
  }
}
