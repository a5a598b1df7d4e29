// The rules of the codebase that a compiler does not check: no import cycles inside a package
// (type imports included), and dependencies between packages only in the designed direction.
import t from 'tap'
import { readFileSync, readdirSync, statSync } from 'node:fs'
import { join, dirname, resolve } from 'node:path'

const root = resolve(import.meta.dirname, '../../..')
const allowed: Record<string, readonly string[]> = {
  'actor-core': [],
  transport: [],
  swarm: ['actor-core', 'transport'],
  examples: ['actor-core', 'transport', 'swarm'],
  reliability: ['actor-core', 'transport', 'swarm'],
}

const walk = (dir: string): string[] =>
  readdirSync(dir).flatMap((f) => {
    const p = join(dir, f)
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : []
  })

const importsOf = (file: string): string[] =>
  [...readFileSync(file, 'utf8').matchAll(/^(?:import|export)\s[^'"]*?from\s+['"]([^'"]+)['"]/gm)].map((m) => m[1]!)

/** Every cycle in a graph of files, as paths relative to `src/`. */
function cycles(graph: Map<string, string[]>): string[] {
  const state = new Map<string, 1 | 2>()
  const found: string[] = []
  const visit = (node: string, stack: string[]): void => {
    state.set(node, 1)
    stack.push(node)
    for (const next of graph.get(node) ?? []) {
      if (state.get(next) === 1) found.push([...stack.slice(stack.indexOf(next)), next].map((x) => x.split('/src/')[1]).join(' → '))
      else if (!state.has(next)) visit(next, stack)
    }
    stack.pop()
    state.set(node, 2)
  }
  for (const node of graph.keys()) if (!state.has(node)) visit(node, [])
  return found
}

t.test('the cycle finder finds a planted cycle', async (t) => {
  t.same(cycles(new Map([['/p/src/a.ts', ['/p/src/b.ts']], ['/p/src/b.ts', ['/p/src/a.ts']]])), ['a.ts → b.ts → a.ts'])
  t.same(cycles(new Map([['/p/src/a.ts', ['/p/src/b.ts']], ['/p/src/b.ts', []]])), [])
})

for (const [pkg, deps] of Object.entries(allowed)) {
  t.test(`@murmur/${pkg}: no import cycles, and only ${deps.length ? deps.join(', ') : 'no other package'} imported`, async (t) => {
    const files = walk(join(root, 'packages', pkg, 'src'))
    t.ok(files.some((f) => f.endsWith('/src/index.ts')), 'src/index.ts is the public face')
    const graph = new Map<string, string[]>()
    const foreign = new Set<string>()
    for (const file of files) {
      const specifiers = importsOf(file)
      graph.set(file, specifiers.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s.replace(/\.js$/, '.ts'))))
      for (const s of specifiers) {
        const m = /^@murmur\/([^/]+)/.exec(s)
        if (m && !deps.includes(m[1]!)) foreign.add(`${file.split('/src/')[1]} imports ${s}`)
        if (m && s !== `@murmur/${m[1]}`) foreign.add(`${file.split('/src/')[1]} reaches into ${s} (only the package's index is public)`)
      }
    }
    t.same(cycles(graph), [], 'no cycles')
    t.same([...foreign], [], 'dependency direction')
  })
}
