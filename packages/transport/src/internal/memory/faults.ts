import type { Random } from './prng.js'

/** Faults on a memory link, applied to every frame as it leaves the sender's buffer. */
export interface LinkFaults {
  /** Probability in [0, 1] that a frame is lost. */
  readonly drop?: number
  /** Extra delay per frame, uniform in [min, max] virtual ms. Order is kept (a TCP-like pipe) unless `reorder` picks the frame. */
  readonly delay?: readonly [number, number]
  /** Probability that a frame is delivered twice. */
  readonly duplicate?: number
  /** Probability that a frame leaves the FIFO order and arrives up to `reorderWindow` ms late, overtaken by later frames. */
  readonly reorder?: number
  /** How late a reordered frame may arrive, in virtual ms. Default 10. */
  readonly reorderWindow?: number
}

/** One delivery of a frame: how long after the base latency it arrives, and whether FIFO binds it. */
export interface Delivery {
  readonly delay: number
  readonly reordered: boolean
}

export type DeliveryPlan = readonly Delivery[]

const ON_TIME: DeliveryPlan = [{ delay: 0, reordered: false }]

/** Throws on values that are not probabilities or ranges, so a typo does not silently mean "no fault". */
export function validateFaults(faults: LinkFaults): LinkFaults {
  for (const key of ['drop', 'duplicate', 'reorder'] as const) {
    const p = faults[key]
    if (p !== undefined && !(p >= 0 && p <= 1)) throw new RangeError(`${key} must be a probability in [0, 1], got ${p}`)
  }
  const delay = faults.delay
  if (delay !== undefined && !(delay[0] >= 0 && delay[1] >= delay[0])) throw new RangeError(`delay must be [min, max] with 0 <= min <= max`)
  if (faults.reorderWindow !== undefined && !(faults.reorderWindow >= 0)) throw new RangeError('reorderWindow must be >= 0')
  return faults
}

function one(faults: LinkFaults, random: Random): Delivery {
  const [min, max] = faults.delay ?? [0, 0]
  const delay = min + (max - min) * random()
  if (faults.reorder !== undefined && random() < faults.reorder) {
    return { delay: delay + (faults.reorderWindow ?? 10) * random(), reordered: true }
  }
  return { delay, reordered: false }
}

/**
 * What happens to one frame: no deliveries (dropped), one, or two (duplicated). Pure given the
 * random source; draws a fixed number of values per decision so histories stay comparable.
 */
export function planDelivery(faults: LinkFaults | undefined, random: Random): DeliveryPlan {
  if (faults === undefined) return ON_TIME
  if (faults.drop !== undefined && random() < faults.drop) return []
  const first = one(faults, random)
  if (faults.duplicate !== undefined && random() < faults.duplicate) return [first, one(faults, random)]
  return [first]
}
