import { readdirSync, readFileSync } from 'node:fs'
import { createHash } from 'node:crypto'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

/** One document of the corpus. */
export interface Doc {
  readonly name: string
  readonly text: string
}

/** A unit of work: some lines of one document. Ids are stable, so a re-sent task is the same task. */
export interface Task {
  readonly taskId: string
  readonly doc: string
  readonly text: string
}

/** What a worker returns for one task: how often each word occurs in it. */
export type Counts = ReadonlyArray<readonly [word: string, count: number]>

/** The job's answer: per word, its total count and the documents it occurs in (sorted). */
export type Index = Map<string, { count: number; docs: string[] }>

/** The corpus shipped with this package (`corpus/*.txt`), sorted by name. */
export function loadCorpus(dir = fileURLToPath(new URL('../../corpus/', import.meta.url))): Doc[] {
  return readdirSync(dir)
    .filter((f) => f.endsWith('.txt'))
    .sort()
    .map((name) => ({ name, text: readFileSync(join(dir, name), 'utf8') }))
}

/** Lowercase words of letters (apostrophes inside words kept). */
export function words(text: string): string[] {
  return text.toLowerCase().match(/[a-z]+(?:'[a-z]+)*/g) ?? []
}

/** Splits every document into tasks of `linesPerTask` lines. */
export function splitIntoTasks(docs: readonly Doc[], linesPerTask: number): Task[] {
  const tasks: Task[] = []
  for (const doc of docs) {
    const lines = doc.text.split('\n')
    for (let i = 0; i < lines.length; i += linesPerTask) {
      tasks.push({ taskId: `${doc.name}#${i / linesPerTask}`, doc: doc.name, text: lines.slice(i, i + linesPerTask).join('\n') })
    }
  }
  return tasks
}

/** The worker's computation for one task. */
export function countWords(text: string): Counts {
  const m = new Map<string, number>()
  for (const w of words(text)) m.set(w, (m.get(w) ?? 0) + 1)
  return [...m]
}

/** Adds one task's counts into the index (the coordinator's merge step). */
export function mergeInto(index: Index, doc: string, counts: Counts): void {
  for (const [word, n] of counts) {
    let e = index.get(word)
    if (!e) index.set(word, (e = { count: 0, docs: [] }))
    e.count += n
    if (!e.docs.includes(doc)) e.docs.push(doc)
  }
}

/** The reference: the whole corpus indexed in one pass, in one process, without tasks. */
export function indexInOneProcess(docs: readonly Doc[]): Index {
  const index: Index = new Map()
  for (const doc of docs) {
    for (const w of words(doc.text)) {
      let e = index.get(w)
      if (!e) index.set(w, (e = { count: 0, docs: [] }))
      e.count++
      if (e.docs[e.docs.length - 1] !== doc.name) e.docs.push(doc.name)
    }
  }
  return index
}

/** A canonical form of an index (words sorted, docs sorted), to compare and to digest. */
export function canonical(index: Index): Array<[string, number, string[]]> {
  return [...index]
    .map(([w, e]): [string, number, string[]] => [w, e.count, [...e.docs].sort()])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
}

/** sha256 of the canonical form, short. */
export function digestOf(index: Index): string {
  return createHash('sha256').update(JSON.stringify(canonical(index))).digest('hex').slice(0, 16)
}

/** The `n` most frequent words, ties by word. */
export function topWords(index: Index, n: number): Array<[string, number]> {
  return [...index]
    .map(([w, e]): [string, number] => [w, e.count])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
    .slice(0, n)
}
