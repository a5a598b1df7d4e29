/** A minimal typed emitter: one `Set` of listeners per event, a listener's throw never stops the others. */
export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<(data: never) => void>>()

  constructor(private readonly onListenerError: (error: unknown) => void = () => {}) {}

  on<E extends keyof Events>(event: E, listener: (data: Events[E]) => void): () => void {
    let set = this.#listeners.get(event)
    if (!set) this.#listeners.set(event, (set = new Set()))
    set.add(listener as (data: never) => void)
    return () => set.delete(listener as (data: never) => void)
  }

  emit<E extends keyof Events>(event: E, data: Events[E]): void {
    const set = this.#listeners.get(event)
    if (!set) return
    for (const listener of set) {
      try {
        ;(listener as (data: Events[E]) => void)(data)
      } catch (error) {
        this.onListenerError(error)
      }
    }
  }
}
