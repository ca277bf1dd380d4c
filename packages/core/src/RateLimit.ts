/**
 * Per-shard pacing: how many records and bytes the writer may send to each shard now, so that it stays within the
 * shard's write limits, and backs off when the shard says it is over them (other writers share it).
 *
 * Each shard has two token buckets (records, bytes) filled at `rate x multiplier x capacity` per second and
 * holding one second of that (a shard takes a burst of about one second's worth), full at first. The multiplier
 * adapts, AIMD: a throttle multiplies it by `DECREASE` (once per round of requests) and empties the buckets;
 * successes add `INCREASE` per second back, up to 1.
 *
 * Pure: no clock, no randomness, no I/O; time (milliseconds) comes in on every call. The state changes in place:
 * this is on the writer's path for every batch.
 */

/** The records per second a shard takes, as AWS documents it. */
export const DEFAULT_RECORDS_PER_SECOND = 1000

/** The bytes per second a shard takes (data + partition keys), as AWS documents it. */
export const DEFAULT_BYTES_PER_SECOND = 1024 * 1024

/**
 * What a throttle leaves of the multiplier. Mild, because the shard's one-second burst absorbs an overshoot: writers
 * that went over drop back just under the limit while the shard's bucket refills, so it never sits full and idle.
 * In the simulation of RateLimit.test.ts, 0.5 leaves a lone writer at 95% of the shard (a refusal caused by latency
 * jitter halves its rate for seconds), 0.9 refuses twice as many records as 0.8 once 3 to 10 writers share a shard,
 * and 0.8 keeps a lone writer above 99% with three writers' refusals near 1%.
 */
export const DECREASE = 0.8

/**
 * How much of the full rate a second of successes gives back. Every writer on a shard climbs this fast, so n writers
 * overshoot together n times as fast: 0.05 keeps five writers' refusals near 2.5%, and lets a writer whose peers
 * left take the shard back within about 10 seconds (0.03 takes twice as long for a third fewer refusals).
 */
export const INCREASE = 0.05

/**
 * The lowest multiplier: a writer is never starved on a shard, whatever its throttles said. It is also the most
 * writers (1 / 0.05 = 20) that can share one shard at their floor before they overload it together.
 */
export const MIN_MULTIPLIER = 0.05

// A success after a long silence is not evidence for more than a second of climbing.
const MAX_INCREASE_GAP_MILLIS = 1000

// Token counts are sums of products of floats: a bucket refilled exactly to an amount may hold a hair less.
const EPSILON = 1e-6

/** What the writer aims for; every field has a default. */
export interface Options {
  /** Records per second a shard takes (default 1,000). */
  readonly recordsPerSecond?: number | undefined
  /** Bytes per second a shard takes, data + partition keys (default 1 MiB). */
  readonly bytesPerSecond?: number | undefined
  /**
   * The fraction, over 0 and at most 1, of those limits this writer aims for (default 1: all of them). A little
   * under 1 (0.98) leaves a gap for other writers' large records (over a quarter of the byte limit each), which a
   * writer pacing exactly at the limit can otherwise keep out.
   */
  readonly capacity?: number | undefined
}

/** One shard's budget at its last update. */
export interface Budget {
  /** Records that may go now; negative while a record larger than the bucket is being paid back. */
  readonly records: number
  /** Bytes that may go now; negative while a record larger than the bucket is being paid back. */
  readonly bytes: number
  /** When the buckets were last filled. */
  readonly updatedAt: number
  /** The share of the rate this writer uses now, from `MIN_MULTIPLIER` to 1. */
  readonly multiplier: number
  /** When a throttle last lowered the multiplier (`-Infinity`: never). */
  readonly decreasedAt: number
  /** When a success last raised the multiplier, or the budget was made. */
  readonly increasedAt: number
}

/** The per-shard budgets of one writer. */
export interface RateLimit {
  /** Records per second of one shard at multiplier 1, capacity applied. */
  readonly recordsPerSecond: number
  /** Bytes per second of one shard at multiplier 1, capacity applied. */
  readonly bytesPerSecond: number
  /** Each shard's budget, by shard id, changed in place by this module's functions. */
  readonly shards: ReadonlyMap<string, Budget>
}

interface MutableBudget {
  records: number
  bytes: number
  updatedAt: number
  multiplier: number
  decreasedAt: number
  increasedAt: number
}

const positive = (name: string, value: number | undefined, fallback: number): number => {
  const chosen = value ?? fallback
  if (!(chosen > 0) || !Number.isFinite(chosen)) {
    throw new RangeError(`RateLimit: ${name} must be above 0, not ${chosen}`)
  }
  return chosen
}

/** Budgets for shards not seen yet; throws a `RangeError` for a rate or capacity that is not above 0 (or over 1). */
export const make = (options: Options = {}): RateLimit => {
  const capacity = positive("capacity", options.capacity, 1)
  if (capacity > 1) throw new RangeError(`RateLimit: capacity must be at most 1, not ${capacity}`)
  return {
    recordsPerSecond: positive("recordsPerSecond", options.recordsPerSecond, DEFAULT_RECORDS_PER_SECOND) * capacity,
    bytesPerSecond: positive("bytesPerSecond", options.bytesPerSecond, DEFAULT_BYTES_PER_SECOND) * capacity,
    shards: new Map()
  }
}

// The shard's budget, filled up to `now`; a shard seen for the first time starts full.
const budgetAt = (limit: RateLimit, shardId: string, now: number): MutableBudget => {
  const shards = limit.shards as Map<string, MutableBudget>
  const budget = shards.get(shardId)
  if (budget === undefined) {
    const fresh: MutableBudget = {
      records: limit.recordsPerSecond,
      bytes: limit.bytesPerSecond,
      updatedAt: now,
      multiplier: 1,
      decreasedAt: -Infinity,
      increasedAt: now
    }
    shards.set(shardId, fresh)
    return fresh
  }
  // A clock that steps back earns nothing rather than taking tokens away.
  if (now > budget.updatedAt) {
    // Capacity is one second of the rate, so `elapsed` seconds fill the capacity times `elapsed`.
    const elapsed = (now - budget.updatedAt) / 1000
    const records = limit.recordsPerSecond * budget.multiplier
    const bytes = limit.bytesPerSecond * budget.multiplier
    budget.records = Math.min(records, budget.records + records * elapsed)
    budget.bytes = Math.min(bytes, budget.bytes + bytes * elapsed)
    budget.updatedAt = now
  }
  return budget
}

/**
 * Whole records and bytes the shard may take now: fill a batch up to both. A single record larger than a full
 * bucket may go too: ask `readyAt` for it.
 */
export const available = (
  limit: RateLimit,
  shardId: string,
  now: number
): { readonly records: number; readonly bytes: number } => {
  const budget = budgetAt(limit, shardId, now)
  return {
    records: Math.max(0, Math.floor(budget.records + EPSILON)),
    bytes: Math.max(0, Math.floor(budget.bytes + EPSILON))
  }
}

// How long until a bucket holding `tokens`, filling at `rate` per second (its capacity too: one second's worth), can
// give `amount`. A full bucket lends past its capacity, so an item larger than a second's worth still goes.
const waitMillis = (tokens: number, amount: number, rate: number): number => {
  const needed = Math.min(amount, rate)
  return tokens + EPSILON >= needed ? 0 : ((needed - tokens) * 1000) / rate
}

/** The earliest time the shard can take `records` records of `bytes` bytes in all: `now` when it can already. */
export const readyAt = (limit: RateLimit, shardId: string, records: number, bytes: number, now: number): number => {
  const budget = budgetAt(limit, shardId, now)
  const wait = Math.max(
    waitMillis(budget.records, records, limit.recordsPerSecond * budget.multiplier),
    waitMillis(budget.bytes, bytes, limit.bytesPerSecond * budget.multiplier)
  )
  return wait === 0 ? now : now + wait
}

/** Takes what a request sent to the shard now carries from its budget (which may go below 0: see `readyAt`). */
export const spend = (limit: RateLimit, shardId: string, records: number, bytes: number, now: number): void => {
  const budget = budgetAt(limit, shardId, now)
  budget.records -= records
  budget.bytes -= bytes
}

/**
 * The shard refused records of a request sent at `sentAt` as over its limit: lowers its rate and empties its
 * buckets, once per round (a throttle of a request sent before the last decrease changes nothing: it was sent
 * at the rate that decrease already corrected).
 */
export const throttled = (limit: RateLimit, shardId: string, sentAt: number, now: number): void => {
  const budget = budgetAt(limit, shardId, now)
  if (sentAt <= budget.decreasedAt) return
  budget.multiplier = Math.max(MIN_MULTIPLIER, budget.multiplier * DECREASE)
  budget.decreasedAt = now
  // The shard said its budget is spent: what this writer's buckets still hold would be refused too.
  budget.records = Math.min(budget.records, 0)
  budget.bytes = Math.min(budget.bytes, 0)
}

/** The shard stored `records` records of a request and refused none: raises its rate, additively, up to 1. */
export const succeeded = (limit: RateLimit, shardId: string, records: number, now: number): void => {
  if (records <= 0) return
  const budget = budgetAt(limit, shardId, now)
  const since = Math.max(budget.increasedAt, budget.decreasedAt)
  const elapsed = Math.min(Math.max(0, now - since), MAX_INCREASE_GAP_MILLIS)
  budget.multiplier = Math.min(1, budget.multiplier + (INCREASE * elapsed) / 1000)
  budget.increasedAt = Math.max(budget.increasedAt, now)
}

/** The share of the shard's rate this writer uses now (1 for a shard not seen yet), for stats. */
export const multiplier = (limit: RateLimit, shardId: string): number => limit.shards.get(shardId)?.multiplier ?? 1

/** Drops the budgets of shards not in `keep`: shards gone after a reshard. */
export const forget = (limit: RateLimit, keep: Iterable<string>): void => {
  const kept = new Set(keep)
  const shards = limit.shards as Map<string, MutableBudget>
  for (const shardId of shards.keys()) if (!kept.has(shardId)) shards.delete(shardId)
}
