/**
 * Causal chat: alice asks, bob answers, carol listens. The link from alice's node to carol's is
 * slow (300 ms), so bob's answer physically reaches carol before alice's question. Declared
 * `['reliable', 'causal']`, carol's node holds the answer back until the question has arrived: no
 * one ever reads a reply before what it answers. The same chat declared `['reliable', 'fifo']`
 * shows what happens without it.
 *
 * Run: pnpm --filter @murmur/examples run example:chat
 */
import { z } from 'zod'
import { Agent, message, protocol, type Guarantee, type Handlers, type Payload } from '@murmur/actor-core'
import { pinned } from '@murmur/swarm'
import { MemoryCluster } from '../internal/memory-cluster.js'
import { runIfMain, spawnKnown, waitUntil } from '../internal/main.js'

const post = z.object({ msgId: z.string(), author: z.string(), text: z.string(), inReplyTo: z.string().optional() })
type Post = z.infer<typeof post>

/** The chat protocol, with the guarantee under test. */
function chatProtocol<const N extends string>(name: N, guarantee: readonly Guarantee[]) {
  return protocol(name, {
    post: message(post, { guarantee }),
    ask: message(z.object({ question: z.string(), to: z.array(z.string()) })),
    seen: message(z.object({}), { reply: z.array(post) }),
  })
}

export const CausalChat = chatProtocol('chat-causal', ['reliable', 'causal'])
export const FifoChat = chatProtocol('chat-fifo', ['reliable', 'fifo'])
type ChatProtocol = typeof CausalChat | typeof FifoChat

/** One participant; `input.room` lists everyone. It answers every question addressed to it. */
function participantClass<P extends ChatProtocol>(chat: P) {
  return class Participant extends Agent<ChatProtocol, { room: string[] }> implements Handlers<ChatProtocol> {
    static protocol = chat
    log: Post[] = []
    #sent = 0

    /**
     * A post is one message per reader. Those it mentions get theirs last: then every other copy
     * happened-before anything a mentioned reader answers, and causal delivery orders the answer
     * after the question at every reader. (Sent the other way round, carol's copy of the question
     * would be concurrent with bob's answer, and either order would be causal.)
     */
    #broadcast(p: Omit<Post, 'msgId' | 'author'>): void {
      const msg = { ...p, msgId: `${this.id}-${++this.#sent}`, author: this.id }
      this.log.push(msg)
      const mentioned = (who: string) => (msg.text.includes(`@${who}`) ? 1 : 0)
      const readers = this.input.room.filter((who) => who !== this.id).sort((x, y) => mentioned(x) - mentioned(y))
      for (const who of readers) this.ref(chat as ChatProtocol, who).tell('post', msg)
    }

    post(p: Payload<ChatProtocol, 'post'>): void {
      this.log.push(p)
      if (p.inReplyTo === undefined && p.author !== this.id && p.text.includes(`@${this.id}`)) {
        this.#broadcast({ text: `${p.author}: I'd say forty-two`, inReplyTo: p.msgId })
      }
    }

    ask({ question, to }: Payload<ChatProtocol, 'ask'>): void {
      this.#broadcast({ text: `${to.map((t) => `@${t}`).join(' ')} ${question}` })
    }

    seen(): Post[] {
      return this.log
    }
  }
}

export const CausalParticipant = participantClass(CausalChat)
export const FifoParticipant = participantClass(FifoChat)

/** Replies someone saw before the message they answer. */
export function outOfOrder(log: readonly Post[]): Post[] {
  const seen = new Set<string>()
  const bad: Post[] = []
  for (const p of log) {
    if (p.inReplyTo !== undefined && !seen.has(p.inReplyTo)) bad.push(p)
    seen.add(p.msgId)
  }
  return bad
}

export interface ChatOutcome {
  /** Per guarantee, per participant, what they saw in order and how many replies came before their question. */
  readonly runs: Record<'causal' | 'fifo', Record<string, { order: string[]; violations: number }>>
}

export async function run(log: (line: string) => void = console.log): Promise<ChatOutcome> {
  const room = ['alice', 'bob', 'carol']
  const cluster = new MemoryCluster(11)
  try {
    const agents = [CausalParticipant, FifoParticipant]
    for (const [i, n] of ['node-a', 'node-b', 'node-c'].entries()) await cluster.add(n, agents, i === 0 ? [] : ['node-a'])
    await cluster.converged(['node-a', 'node-b', 'node-c'])
    // alice's node → carol's node is slow; everything else is fast
    cluster.net.setLinkFaults('node-a', 'node-c', { delay: [300, 300] })
    const a = cluster.node('node-a')
    const runs = { causal: {}, fifo: {} } as ChatOutcome['runs']
    for (const [kind, cls] of [['causal', CausalParticipant], ['fifo', FifoParticipant]] as const) {
      for (const [i, who] of room.entries()) {
        await spawnKnown(a, cls.protocol.name, who, () => a.spawn(cls as typeof CausalParticipant, { id: who, input: { room }, placement: pinned(`node-${'abc'[i]}`) }))
      }
      const ref = (who: string) => a.ref(cls.protocol as ChatProtocol, who)
      ref('alice').tell('ask', { question: 'what is six times seven?', to: ['bob'] })
      await waitUntil(async () => (await ref('carol').ask('seen', {}, { timeout: 5000 })).length >= 2, `carol to see both messages (${kind})`, 20_000)
      for (const who of room) {
        const seen = await ref(who).ask('seen', {}, { timeout: 5000 })
        runs[kind][who] = { order: seen.map((p) => `${p.author}: ${p.text}`), violations: outOfOrder(seen).length }
      }
      log(`\n${kind === 'causal' ? "['reliable', 'causal']" : "['reliable', 'fifo']  (for comparison)"}`)
      for (const who of room) log(`  ${who.padEnd(6)} saw: ${runs[kind][who]!.order.join('  →  ')}${runs[kind][who]!.violations ? '   ✗ reply before its question' : ''}`)
    }
    return { runs }
  } finally {
    await cluster.close()
  }
}

runIfMain(import.meta.url, async () => {
  console.log('Causal chat on 3 nodes (simulated network; the link alice → carol is slow)')
  const { runs } = await run()
  const causalOk = Object.values(runs.causal).every((r) => r.violations === 0)
  console.log(causalOk ? '\n✓ with causal delivery nobody read a reply before its question' : '\n✗ causal delivery was violated')
  return causalOk ? 0 : 1
})
