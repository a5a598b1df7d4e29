/** Polls `cond` on real timers until it holds; fails with `what` after `timeout` ms. */
export async function waitFor(cond: () => boolean, what: string, timeout = 15_000): Promise<void> {
  const deadline = Date.now() + timeout
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`)
    await new Promise((r) => setTimeout(r, 2))
  }
}

export function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i)
}
