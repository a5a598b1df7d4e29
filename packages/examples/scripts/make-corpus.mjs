// Writes corpus/*.txt: plain English-like prose made from a fixed word stock by a seeded generator,
// so the demo ships its own data (nothing downloaded) and the files are the same on every run.
// Run: node scripts/make-corpus.mjs   (the output is committed; the demo only reads it)
import { mkdirSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const out = join(dirname(fileURLToPath(import.meta.url)), '..', 'corpus')
let seed = 0x2545f491
const rand = () => ((seed = (Math.imul(seed ^ (seed >>> 15), 0x2c1b3c6d) + 0x6d2b79f5) >>> 0) / 2 ** 32)
const pick = (list) => list[Math.floor(rand() * list.length)]

const nouns = `starling flock river meadow harbour lantern village orchard miller shepherd stone bridge
sparrow weather evening morning winter summer garden letter window kettle candle captain sailor
island forest valley mountain traveller stranger cottage market bell chapel tower field hedge road
carriage coachman horse mare colt orchard fisherman net boat shore tide gull heron wren owl fox hare
badger kitchen hearth supper bread cheese apple cider lamp book ledger clerk merchant ship cargo wind
storm cloud rain snow frost ice sun moon star lighthouse keeper daughter son mother father uncle aunt
widow parson doctor schoolmaster child friend neighbour door gate wall path lane well mill wheel
chimney roof thatch barn hay cart plough seed harvest song fiddle dance festival fair clock hour
minute letter promise secret story rumour journey voyage map compass anchor rope sail mast deck
cabin harbourmaster inn innkeeper ale pie soup stew fire smoke ash coal mine lantern tunnel`.split(/\s+/)
const adjectives = `old young quiet bright dark cold warm grey green golden silver narrow broad long
short tall small great little patient restless weary cheerful solemn gentle bold shy clever foolish
honest proud humble distant near early late sudden slow swift careful careless kind stern merry
sorrowful faithful stubborn curious silent noisy heavy light empty crowded ancient new steep shallow
deep wild tame sweet bitter salt fresh ragged neat humble wealthy poor lonely busy idle`.split(/\s+/)
const verbs = `walked waited watched carried followed remembered answered called opened closed
gathered mended counted crossed climbed wandered listened whispered laughed sang wrote read kept
lost found built broke turned lifted pulled pushed shared sold bought baked boiled lit sailed rowed
rode drove ploughed sowed reaped weighed measured noticed forgot forgave promised warned thanked
greeted visited left reached passed entered`.split(/\s+/)
const adverbs = `slowly quickly quietly gladly sadly often seldom always never softly loudly
carefully gravely kindly plainly early late again together alone`.split(/\s+/)
const preps = `across along beside beyond behind under over near toward through past into upon`.split(/\s+/)
const openers = ['In the', 'At', 'Before', 'After', 'When', 'Long after', 'Once', 'Every']
const syll = ['an', 'bel', 'cor', 'dun', 'el', 'far', 'gil', 'hal', 'is', 'jor', 'kel', 'lan', 'mor', 'nor', 'os', 'per', 'quin', 'ros', 'sel', 'tam', 'ul', 'ver', 'wyn']
const names = Array.from({ length: 160 }, () => {
  const n = pick(syll) + pick(syll) + (rand() < 0.5 ? pick(syll) : '')
  return n[0].toUpperCase() + n.slice(1)
})

const sentence = () => {
  const who = rand() < 0.4 ? pick(names) : `the ${pick(adjectives)} ${pick(nouns)}`
  const what = `the ${rand() < 0.5 ? pick(adjectives) + ' ' : ''}${pick(nouns)}`
  const where = `${pick(preps)} the ${pick(nouns)}`
  const forms = [
    () => `${who} ${pick(verbs)} ${what} ${where}.`,
    () => `${pick(openers)} ${pick(nouns)}, ${who} ${pick(adverbs)} ${pick(verbs)} ${what}.`,
    () => `${who} and ${pick(names)} ${pick(verbs)} ${what}, and ${pick(verbs)} ${where} ${pick(adverbs)}.`,
    () => `"${pick(names)}," said ${who}, "the ${pick(nouns)} is ${pick(adjectives)} tonight."`,
    () => `No one ${pick(verbs)} ${what} ${where}, for ${who} was ${pick(adjectives)}.`,
  ]
  const s = pick(forms)()
  return s[0].toUpperCase() + s.slice(1)
}

mkdirSync(out, { recursive: true })
let total = 0
for (let d = 1; d <= 40; d++) {
  const title = `Chapter ${d}: The ${pick(adjectives)} ${pick(nouns)}`.replace(/: The (\w)/, (_, c) => `: The ${c.toUpperCase()}`)
  const paragraphs = []
  while (paragraphs.join('\n\n').length < 7500) {
    const n = 3 + Math.floor(rand() * 5)
    paragraphs.push(Array.from({ length: n }, sentence).join(' '))
  }
  // Wrap at ~76 columns like an old plain-text edition.
  const wrapped = paragraphs.map((p) => p.replace(/(.{1,76})(\s+|$)/g, '$1\n').trim())
  const text = `${title}\n\n${wrapped.join('\n\n')}\n`
  total += text.length
  writeFileSync(join(out, `chapter-${String(d).padStart(2, '0')}.txt`), text)
}
console.log(`wrote 40 chapters, ${Math.round(total / 1024)} KB, to ${out}`)
