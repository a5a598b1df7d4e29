/** A node that reports its members (a `Swarm`, structurally, so this module needs no swarm import). */
interface HasMembers {
  members(): ReadonlyArray<{ readonly id: string; readonly status: string }>
}

/**
 * Waits until `node` sees `id` as an alive member (at most `ms`): the sending worker of a
 * two-process suite must not spawn on the receiver before it joined.
 *
 * @example
 * await untilMember(node, 'recv')
 */
export async function untilMember(node: HasMembers, id: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms
  while (!node.members().some((m) => m.id === id && m.status === 'alive')) {
    if (Date.now() > deadline) throw new Error(`${id} never became a member`)
    await new Promise((r) => setTimeout(r, 20))
  }
}
