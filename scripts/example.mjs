// `pnpm example <name> [args…]`: runs one of the examples in packages/examples (after the build).
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'

const dir = new URL('../packages/examples/dist/examples/', import.meta.url)
const names = readdirSync(dir).filter((f) => f.endsWith('.js') && !f.endsWith('-node.js')).map((f) => f.slice(0, -3)).sort()
const [name, ...rest] = process.argv.slice(2)
if (name === undefined || !names.includes(name)) {
  console.error(`usage: pnpm example <name> [args…]\nexamples: ${names.join(', ')}`)
  process.exit(2)
}
const run = spawnSync(process.execPath, [new URL(`${name}.js`, dir).pathname, ...rest], { stdio: 'inherit' })
process.exit(run.status ?? 1)
