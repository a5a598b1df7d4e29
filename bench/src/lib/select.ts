/**
 * `--only` selection: a comma-separated list of name prefixes (`--only raw,peer.moleculer`).
 * A record is selected when its name starts with one of them.
 */
export type Selection = readonly string[] | undefined

export function parseOnly(arg: string | undefined): Selection {
  if (arg === undefined) return undefined
  const prefixes = arg.split(',').map((s) => s.trim()).filter((s) => s.length > 0)
  return prefixes.length === 0 ? undefined : prefixes
}

/** Whether the record `name` is selected. */
export function selects(only: Selection, name: string): boolean {
  return only === undefined || only.some((p) => name.startsWith(p))
}

/**
 * Whether a suite producing records under `names` (prefixes) may produce a selected record: true
 * when some selected prefix and some suite prefix are one a prefix of the other.
 */
export function mayMatch(only: Selection, names: readonly string[] | undefined): boolean {
  if (only === undefined || names === undefined) return true
  return only.some((p) => names.some((n) => n.startsWith(p) || p.startsWith(n)))
}
