import { pathToFileURL } from 'node:url'

/**
 * Runs `main` when this module is the program (`node dist/examples/x.js`), not when a test
 * imports it; exits with its status (1 and the message on an error).
 */
export function runIfMain(moduleUrl: string, main: () => Promise<number>): void {
  if (process.argv[1] === undefined || moduleUrl !== pathToFileURL(process.argv[1]).href) return
  main().then(
    (code) => process.exit(code),
    (e: unknown) => {
      console.error(e instanceof Error ? (e.stack ?? e.message) : String(e))
      process.exit(1)
    },
  )
}

/** A bounded wait for a condition (polls every `every` ms). */
export async function waitUntil(cond: () => boolean | Promise<boolean>, what: string, ms = 20_000, every = 20): Promise<void> {
  const end = Date.now() + ms
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`)
    await new Promise((r) => setTimeout(r, every))
  }
}

/**
 * Spawns through `node` and waits until `node`'s directory knows where the agent went. (Today
 * `spawn` can resolve before the spawner's directory has the remote entry; a message sent in that
 * gap is routed by the class's default placement and may miss an agent placed elsewhere.)
 */
export async function spawnKnown<R>(node: { find(id: string, type?: string): unknown }, type: string, id: string, spawn: () => Promise<R>): Promise<R> {
  const ref = await spawn()
  await waitUntil(() => node.find(id, type) !== undefined, `the directory to know ${type}/${id}`, 10_000, 5)
  return ref
}
