// Type-level checks of streams: test/types/stream.ts compiles under the package's strict options,
// and each of its `@ts-expect-error` lines is an error (tsc reports an unused one).
import { execFile } from 'node:child_process'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import t from 'tap'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')

t.test('stream types: payloads typed by message type, items narrowed by type, bad calls rejected', async (t) => {
  const out = await new Promise<string>((resolve) => {
    execFile(join(root, 'node_modules/.bin/tsc'), ['-p', 'test/types/stream.tsconfig.json', '--pretty', 'false'], { cwd: root, timeout: 100_000 },
      (_err, stdout) => resolve(stdout))
  })
  t.equal(out.trim(), '', 'test/types/stream.ts compiles, and every expected error occurs')
})
