import type { Scheduler } from './scheduler.js'

/** Lets every promise continuation run: all microtasks drain before a macrotask (`setImmediate`). */
export function settle(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

/**
 * Drives a scheduler: by hand (`step`, `runFor`, `runUntilIdle`), or in the background (`autoRun`)
 * one event per real `setImmediate` turn, so that between two events every promise continuation
 * has run and async code interleaves the same way each time.
 */
export class Runner {
  private auto = false
  private turnQueued = false

  constructor(private readonly scheduler: Scheduler) {
    scheduler.onSchedule = () => this.wake()
  }

  get running(): boolean {
    return this.auto
  }

  async step(): Promise<boolean> {
    this.assertManual('step')
    await settle()
    const ran = this.scheduler.runNext()
    await settle()
    return ran
  }

  async runFor(ms: number): Promise<number> {
    this.assertManual('runFor')
    const end = this.scheduler.now + ms
    let steps = 0
    await settle()
    for (;;) {
      const next = this.scheduler.peek()
      if (next === undefined || next > end) break
      if (this.scheduler.runNext()) steps++
      await settle()
    }
    this.scheduler.advanceTo(end)
    return steps
  }

  async runUntilIdle(maxSteps = 1_000_000): Promise<number> {
    this.assertManual('runUntilIdle')
    let steps = 0
    await settle()
    while (steps < maxSteps && this.scheduler.runNext()) {
      steps++
      await settle()
    }
    return steps
  }

  autoRun(): void {
    this.auto = true
    this.wake()
  }

  stop(): void {
    this.auto = false
  }

  private assertManual(what: string): void {
    if (this.auto) throw new Error(`${what}() while autoRun() drives the network; call stop() first`)
  }

  private wake(): void {
    if (!this.auto || this.turnQueued || this.scheduler.pending === 0) return
    this.turnQueued = true
    setImmediate(this.turn)
  }

  private readonly turn = (): void => {
    this.turnQueued = false
    if (!this.auto) return
    this.scheduler.runNext()
    this.wake()
  }
}
