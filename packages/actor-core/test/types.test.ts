// Type-level checks: each fixture under test/types/ is compiled with the package's strict options;
// `good.ts` must compile, and each bad fixture must fail exactly on the lines marked `// @error`.
import { execFile } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const tsc = join(root, 'node_modules/.bin/tsc')
const base = JSON.parse(readFileSync(join(root, '../../tsconfig.base.json'), 'utf8')) as { compilerOptions: Record<string, unknown> }

function flags(): string[] {
  const o = base.compilerOptions
  const out = ['--noEmit', '--pretty', 'false', '--skipLibCheck']
  for (const key of ['strict', 'exactOptionalPropertyTypes', 'noUncheckedIndexedAccess', 'noImplicitOverride', 'verbatimModuleSyntax', 'isolatedModules']) {
    if (o[key] === true) out.push(`--${key}`)
  }
  out.push('--module', String(o['module']), '--moduleResolution', String(o['moduleResolution']), '--target', String(o['target']))
  out.push('--lib', (o['lib'] as string[]).join(','), '--types', (o['types'] as string[]).join(','))
  return out
}

function compile(files: string[]): Promise<string> {
  return new Promise((resolve) => {
    execFile(tsc, [...flags(), ...files], { cwd: root, timeout: 100_000 }, (_err, stdout) => resolve(stdout))
  })
}

/** error lines per fixture file, from tsc's `file(line,col): error TSxxxx` output */
function errorLines(output: string): Map<string, Set<number>> {
  const out = new Map<string, Set<number>>()
  for (const m of output.matchAll(/^(test\/types\/[\w-]+\.ts)\((\d+),\d+\): error TS\d+/gm)) {
    const set = out.get(m[1]!) ?? new Set<number>()
    set.add(Number(m[2]))
    out.set(m[1]!, set)
  }
  return out
}

function expectedLines(file: string): Set<number> {
  const lines = readFileSync(join(root, file), 'utf8').split('\n')
  return new Set(lines.flatMap((line, i) => (line.includes('// @error') ? [i + 1] : [])))
}

const bad = ['bad-missing-handler', 'bad-wrong-payload', 'bad-wrong-reply', 'bad-tell', 'bad-unknown-type', 'bad-machine']

t.test('the strict options are on', async (t) => {
  t.ok(flags().includes('--strict'))
  t.ok(flags().includes('--exactOptionalPropertyTypes'))
})

t.test('good.ts compiles; each bad fixture fails exactly at its marked lines', async (t) => {
  // one tsc run over every fixture: errors are reported per file
  const out = await compile(['test/types/good.ts', ...bad.map((f) => `test/types/${f}.ts`)])
  const got = errorLines(out)
  t.notOk(got.has('test/types/good.ts'), `good.ts has no error${got.has('test/types/good.ts') ? `:\n${out}` : ''}`)
  t.ok(out.includes('error TS'), 'tsc ran and reported errors')
  for (const name of bad) {
    const file = `test/types/${name}.ts`
    const expected = expectedLines(file)
    t.ok(expected.size > 0, `${name} marks its errors`)
    t.same([...(got.get(file) ?? [])].sort((a, b) => a - b), [...expected].sort((a, b) => a - b), `${name}: errors at ${[...expected].join(', ')}`)
  }
})
