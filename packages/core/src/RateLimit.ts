/**
 * Per-shard pacing: how many records and bytes the writer may send to each shard now, so that it stays within the
 * shard's write limits, and backs off when the shard says it is over them (other writers share it).
 *
 * Each shard has two token buckets (records, bytes) filled at `rate x multiplier x capacity` per second and
 * holding one second of that (a shard takes a burst of about one second's worth), full at first. The multiplier
 * adapts, AIMD, on what each response says of the shard (`answered`):
 * - a refusal above the shard's noise cuts the multiplier, once per round, from the rate this writer actually sent
 *   at (not from a multiplier it did not use), in proportion to the share refused (`DECREASE` of what was stored,
 *   at most halved), and empties the buckets. Writers sharing a shard see about the same share, so they cut alike
 *   and keep their shares, which the additive increase then evens out (Chiu and Jain);
 * - successes add `INCREASE` per second back, up to 1.
 *
 * Refusals that do not follow the rate (fault injection, a shard refusing below its second's average) are told
 * apart by what a cut does: a share that does not fall when this writer halved a rate of half the shard or more is
 * noise. The cut is undone, the share becomes the shard's noise floor, and from then on refusals within it (by
 * sampling error) cut nothing and give their budget back (the shard did not count them). The floor follows a lower
 * share down. A writer that uses less than half a shard cannot tell: its cut moves the shard's share too little, and
 * it takes every refusal for the rate's, as before.
 *
 * Pure: no clock, no randomness, no I/O; time (milliseconds) comes in on every call. The state changes in place:
 * this is on the writer's path for every batch.
 */

/** The records per second a shard takes, as AWS documents it. */
export const DEFAULT_RECORDS_PER_SECOND = 1000

/** The bytes per second a shard takes (data + partition keys), as AWS documents it. */
export const DEFAULT_BYTES_PER_SECOND = 1024 * 1024

/**
 * What a cut leaves of the stored share of the rate: refused 10% of a round, a writer goes to 0.9 x 0.85 of the rate
 * it sent at. Under 1, so that writers that shared an overload end under the limit while the shard's bucket
 * refills, and not much under, because the shard's one-second burst absorbs an overshoot. In the simulation of
 * RateLimit.test.ts (1 to 5 ms each way), 0.85 keeps a lone writer above 97% of the shard and two writers' refusals
 * under 3% over 20 s; 0.9 refused more and left two writers further apart (34% against 27% at worst).
 */
export const DECREASE = 0.85

/** The most one cut takes: half. A lone request refused whole says little of the round's share. */
export const MAX_CUT = 0.5

/**
 * How much of the full rate a second of successes gives back. Every writer on a shard climbs this fast, so n writers
 * overshoot together n times as fast: 0.05 keeps four writers' refusals near 3%, and lets a writer whose peers
 * left take the shard back within about 10 seconds.
 */
export const INCREASE = 0.05

/**
 * The lowest multiplier: a writer is never starved on a shard, whatever its throttles said. It is also the most
 * writers (1 / 0.05 = 20) that can share one shard at their floor before they overload it together.
 */
export const MIN_MULTIPLIER = 0.05

// The refusal share is measured over about this long of answers (an exponentially decayed count).
const RECENT_MILLIS = 1000
// The rate this writer sent at, over about this long.
const USED_MILLIS = 1000
// A share measured over fewer answers than this does not lower the noise floor.
const SAMPLE_RECORDS = 50
// The noise floor follows a lower share down over about this long.
const NOISE_MILLIS = 2000
// Refusals above the floor by this many standard deviations (binomial) are the rate's.
const NOISE_Z = 3
// A share under this is taken for the rate's: no probe (a lone writer's refusals from latency jitter, or from the
// burst of a shard new after a split, where a probe's deep cut costs seconds of climbing back); so are fewer
// refusals than this (a refused aggregate, of 20 a second, is 5% on its own).
const NOISE_MIN_SHARE = 0.08
const PROBE_MIN_REFUSED = 3
// The cut that probes for noise, and the least part of the shard it must take for the answer to mean anything.
const PROBE_FACTOR = 0.5
const NOISE_MIN_CUT = 0.25
// The probe looks at requests sent this many round trips after the cut (the peers' cuts have landed by then) ...
const PROBE_DELAY_TRIPS = 2
// ... until this many answers, or this long (then too few to tell: the refusals are the rate's).
const PROBE_RECORDS = 150
const PROBE_MAX_MILLIS = 1000
// The share after the cut is the same share when within this ratio of it, or within this many standard deviations.
const FELL = 0.7
const SAMPLING_Z = 2.5

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
  /** The share of records the shard refuses whatever the rate, as far as this writer could tell (0: none seen). */
  readonly noise: number
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
  createdAt: number
  sentRecords: number
  sentBytes: number
  sentAt: number
  recentAnswered: number
  recentRefused: number
  recentAt: number
  noise: number
  // While a cut probes for noise.
  probing: boolean
  probeShare: number
  probeAnswered: number
  probeRefused: number
  undoMultiplier: number
  roundTrip: number
  // The lead of the shard's clock (see payLead): the send that aligned the buckets, its round trip, the fastest since.
  alignedAt: number | undefined
  alignedTrip: number
  fastestTrip: number
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
      increasedAt: now,
      createdAt: now,
      sentRecords: 0,
      sentBytes: 0,
      sentAt: now,
      recentAnswered: 0,
      recentRefused: 0,
      recentAt: now,
      noise: 0,
      probing: false,
      probeShare: 0,
      probeAnswered: 0,
      probeRefused: 0,
      undoMultiplier: 0,
      roundTrip: 0,
      alignedAt: undefined,
      alignedTrip: 0,
      fastestTrip: Infinity
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
  // The first send aligns the buckets with the shard's (see payLead).
  if (budget.alignedAt === undefined) budget.alignedAt = now
  budget.records -= records
  budget.bytes -= bytes
  const keep = Math.exp(-Math.max(0, now - budget.sentAt) / USED_MILLIS)
  budget.sentRecords = budget.sentRecords * keep + records
  budget.sentBytes = budget.sentBytes * keep + bytes
  budget.sentAt = Math.max(budget.sentAt, now)
}

/**
 * A response's answer for the shard, for requests sent at `sentAt`: `stored` records stored, `refused` records
 * (`refusedBytes` bytes) refused as over the shard's throughput. Refusals above the shard's noise lower the rate
 * (once per round); refusals within it give their budget back (the shard did not count them); successes raise it.
 */
export const answered = (
  limit: RateLimit,
  shardId: string,
  sentAt: number,
  now: number,
  stored: number,
  refused: number,
  refusedBytes: number
): void => {
  const budget = budgetAt(limit, shardId, now)
  if (now > sentAt) {
    budget.roundTrip += (now - sentAt - budget.roundTrip) * 0.125
    payLead(limit, budget, sentAt, now - sentAt)
  }
  observe(budget, stored, refused, now)
  const current = sentAt > budget.decreasedAt
  if (budget.probing) {
    const probeFrom = budget.decreasedAt + PROBE_DELAY_TRIPS * budget.roundTrip
    if (sentAt >= probeFrom) {
      budget.probeAnswered += stored + refused
      budget.probeRefused += refused
      if (budget.probeAnswered >= PROBE_RECORDS) settleProbe(limit, budget, now)
      else if (sentAt >= probeFrom + PROBE_MAX_MILLIS) {
        // Too few answers to tell: the refusals are taken for the rate's.
        budget.probing = false
        if (refused > 0 && aboveNoise(budget)) decrease(limit, budget, now)
      }
    }
    if (budget.probing || refused === 0) {
      if (stored > 0 && refused === 0) increase(budget, now)
      return
    }
  }
  if (refused > 0) {
    if (!current) return
    if (aboveNoise(budget)) {
      decrease(limit, budget, now)
      return
    }
    // Within the noise: the shard did not count them, and says nothing of the rate.
    budget.records = Math.min(limit.recordsPerSecond * budget.multiplier, budget.records + refused)
    budget.bytes = Math.min(limit.bytesPerSecond * budget.multiplier, budget.bytes + refusedBytes)
  }
  if (stored > 0) increase(budget, now)
}

/**
 * The shard's buckets count a request when it gets there, this writer's when it leaves. Both full at first, they are
 * aligned by the first request sent: the shard runs behind this writer's clock by that request's way there. A later
 * request that gets there faster (the first one's way held a new connection, a cold start, a large batch) reaches a
 * shard whose bucket is that much emptier than this writer's: pay the difference, so that the writer does not
 * overdraw the shard when it has spent its burst (a refusal, a cut, seconds of climbing back). Round trips stand for
 * the ways there; the lead only grows (the aligned trip is the largest seen for that send, the fastest only falls),
 * so what is paid is its growth, at most the first round trip less the fastest. A cut empties this writer's buckets
 * later than the shard's emptied: from then on they are aligned on the safe side, and no lead is paid.
 */
const payLead = (limit: RateLimit, budget: MutableBudget, sentAt: number, trip: number): void => {
  if (budget.alignedAt === undefined || sentAt < budget.alignedAt) return
  const paid = Math.max(0, budget.alignedTrip - budget.fastestTrip)
  if (sentAt === budget.alignedAt) budget.alignedTrip = Math.max(budget.alignedTrip, trip)
  budget.fastestTrip = Math.min(budget.fastestTrip, trip)
  const owed = (budget.alignedTrip - budget.fastestTrip - paid) / 1000
  if (owed > 0) {
    budget.records -= limit.recordsPerSecond * budget.multiplier * owed
    budget.bytes -= limit.bytesPerSecond * budget.multiplier * owed
  }
}

const observe = (budget: MutableBudget, stored: number, refused: number, now: number): void => {
  const elapsed = Math.max(0, now - budget.recentAt)
  const keep = Math.exp(-elapsed / RECENT_MILLIS)
  budget.recentAnswered = budget.recentAnswered * keep + stored + refused
  budget.recentRefused = budget.recentRefused * keep + refused
  budget.recentAt = Math.max(budget.recentAt, now)
  // The noise estimate follows a lower share down (the noise stopped, or was over-estimated), never up: only a
  // decrease that did not lower the share raises it.
  if (budget.noise > 0 && budget.recentAnswered >= SAMPLE_RECORDS) {
    const share = budget.recentRefused / budget.recentAnswered
    if (share < budget.noise) budget.noise -= (budget.noise - share) * Math.min(1, elapsed / NOISE_MILLIS)
    // A floor under the least share a probe looks for was not found by one: it is what is left of a floor the share
    // went under, and it would only excuse refusals of the rate.
    if (budget.noise < NOISE_MIN_SHARE / 2) budget.noise = 0
  }
}

// More refused of `answered` than a floor of `noise` explains, beyond sampling error.
const exceeds = (refused: number, answered: number, noise: number): boolean =>
  refused - noise * answered > NOISE_Z * Math.sqrt(answered * noise * (1 - noise)) + 1

const aboveNoise = (budget: MutableBudget): boolean => {
  const { noise, recentAnswered, recentRefused } = budget
  if (noise === 0) return recentRefused > 0
  return exceeds(recentRefused, recentAnswered, noise)
}

const usedShare = (limit: RateLimit, budget: MutableBudget, now: number): number => {
  const age = Math.max(1, now - budget.createdAt)
  const keep = Math.exp(-Math.max(0, now - budget.sentAt) / USED_MILLIS)
  const span = USED_MILLIS * (1 - Math.exp(-age / USED_MILLIS)) / 1000
  return Math.max(
    (budget.sentRecords * keep) / span / limit.recordsPerSecond,
    (budget.sentBytes * keep) / span / limit.bytesPerSecond
  )
}

const decrease = (limit: RateLimit, budget: MutableBudget, now: number): void => {
  const total = budget.recentRefused / Math.max(1, budget.recentAnswered)
  const share = Math.max(0, total - budget.noise)
  let factor = Math.max(MAX_CUT, (1 - share) * DECREASE)
  const from = Math.min(budget.multiplier, usedShare(limit, budget, now))
  const sampled = budget.recentRefused >= PROBE_MIN_REFUSED
  if (sampled && total >= NOISE_MIN_SHARE && from * (1 - PROBE_FACTOR) >= NOISE_MIN_CUT) {
    // A share this large may be noise: cut deep enough that a share that follows the rate would fall, then look.
    factor = Math.min(factor, PROBE_FACTOR)
    budget.probing = true
    budget.undoMultiplier = budget.multiplier
    budget.probeShare = total
    budget.probeAnswered = 0
    budget.probeRefused = 0
  }
  budget.multiplier = Math.max(MIN_MULTIPLIER, Math.min(budget.multiplier, from * factor))
  budget.decreasedAt = now
  // The shard said its budget is spent: what this writer's buckets still hold would be refused too. Emptied after
  // the shard's, they are aligned on the safe side: no lead is paid from now on (see payLead).
  budget.records = Math.min(budget.records, 0)
  budget.bytes = Math.min(budget.bytes, 0)
  budget.alignedAt = Infinity
}

const settleProbe = (limit: RateLimit, budget: MutableBudget, now: number): void => {
  const share = budget.probeRefused / budget.probeAnswered
  budget.probing = false
  // Stable: within FELL of the share before, or within sampling error of it.
  const error = SAMPLING_Z * Math.sqrt((budget.probeShare * (1 - budget.probeShare)) / budget.probeAnswered)
  const low = Math.min(budget.probeShare * FELL, budget.probeShare - error)
  const high = Math.max(budget.probeShare / FELL, budget.probeShare + error)
  if (share > 0 && share >= low && share <= high) {
    // A lower rate did not lower the share: not the rate's refusals.
    budget.noise = Math.max(budget.noise, Math.min(share, budget.probeShare))
    budget.multiplier = Math.max(budget.multiplier, budget.undoMultiplier)
    return
  }
  if (exceeds(budget.probeRefused, budget.probeAnswered, budget.noise)) decrease(limit, budget, now)
}

const increase = (budget: MutableBudget, now: number): void => {
  const since = Math.max(budget.increasedAt, budget.decreasedAt)
  const elapsed = Math.min(Math.max(0, now - since), MAX_INCREASE_GAP_MILLIS)
  budget.multiplier = Math.min(1, budget.multiplier + (INCREASE * elapsed) / 1000)
  budget.increasedAt = Math.max(budget.increasedAt, now)
}

/** The shard refused records of a request sent at `sentAt`, count unknown: one refused, none stored. */
export const throttled = (limit: RateLimit, shardId: string, sentAt: number, now: number): void =>
  answered(limit, shardId, sentAt, now, 0, 1, 0)

/** The shard stored `records` records of a request and refused none. */
export const succeeded = (limit: RateLimit, shardId: string, records: number, now: number): void => {
  if (records > 0) answered(limit, shardId, now, now, records, 0, 0)
}

/** The share of the shard's rate this writer uses now (1 for a shard not seen yet), for stats. */
export const multiplier = (limit: RateLimit, shardId: string): number => limit.shards.get(shardId)?.multiplier ?? 1

/** Drops the budgets of shards not in `keep`: shards gone after a reshard. */
export const forget = (limit: RateLimit, keep: Iterable<string>): void => {
  const kept = new Set(keep)
  const shards = limit.shards as Map<string, MutableBudget>
  for (const shardId of shards.keys()) if (!kept.has(shardId)) shards.delete(shardId)
}
