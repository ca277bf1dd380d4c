/**
 * How much of a stream's write capacity a run used, from what the proxy counted per shard and second: over the
 * seconds records were being offered, for the whole stream, its hottest shard, or the new shards after a split; and
 * how soon the shards born of a split took records at their limit.
 *
 * A shard takes its limit per second plus a burst: one second's worth it saves up while idle (the proxy's buckets
 * start full, as AWS's do). Over a window of a few seconds at 1.25x the load that burst alone would show more than
 * 100%, so the most a shard could have stored counts it: its rate over the seconds measured, plus what its bucket
 * could still hold at their start.
 */
import type { KinesisProxy } from "@effect-kinesis/local"
import type { Split } from "./Harness.js"
import { type Case, SHARD_RECORDS_PER_SECOND } from "./Scenarios.js"

/** A span of wall-clock time, epoch ms. */
export interface Window {
  readonly from: number
  readonly until: number
}

/** What one shard stored and refused in one second, the second counted from the first record offered. */
export interface Second {
  readonly t: number
  readonly shard: string
  readonly stored: number
  readonly refused: number
}

/** A run's use of the stream. */
export interface Utilization {
  /** Records stored over the most the measured shards could have stored in the measured seconds; NaN when none. */
  readonly capacityShare: number
  /** Records stored per second over the shards' rate alone, burst not counted: above 1 when a burst was spent. */
  readonly rateShare: number
  /** The whole seconds measured. */
  readonly seconds: number
  /** The shard the hot-key gauge measured. */
  readonly hotShard: string | undefined
  /** Seconds from the split until both new shards were at capacity to the end of the window; undefined: never. */
  readonly splitToCapacitySeconds: number | undefined
}

/** The share of a new shard's record limit it must store to count as used at capacity. */
export const AT_CAPACITY = 0.9

/** Seconds of its rate a shard saves up while idle: the proxy's default, as AWS. */
export const BURST_SECONDS = 1

/** The whole seconds inside `window`. */
export const measuredSeconds = (window: Window): ReadonlyArray<number> => {
  const first = Math.ceil(window.from / 1000)
  const last = Math.floor(window.until / 1000) - 1
  return Array.from({ length: Math.max(0, last - first + 1) }, (_, i) => first + i)
}

/** A run's per-shard seconds, counted from the second the first record was offered in. */
export const relative = (seconds: ReadonlyArray<KinesisProxy.ShardSecond>, from: number): Array<Second> =>
  seconds.map((second) => ({
    t: second.second - Math.floor(from / 1000),
    shard: second.shardId,
    stored: second.accepted,
    refused: second.throttled + second.faulted
  }))

/** Records stored per shard and second. */
type Stored = ReadonlyMap<string, ReadonlyMap<number, number>>

const byShard = (seconds: ReadonlyArray<KinesisProxy.ShardSecond>): Stored => {
  const stored = new Map<string, Map<number, number>>()
  for (const second of seconds) {
    const shard = stored.get(second.shardId) ?? new Map<number, number>()
    shard.set(second.second, (shard.get(second.second) ?? 0) + second.accepted)
    stored.set(second.shardId, shard)
  }
  return stored
}

/**
 * What `shard`'s bucket could hold at the start of second `at`: full at its first use, refilled at its rate, less
 * what it stored before. Counted in whole seconds from the one of its first record, so it errs on the high side.
 */
export const burstLeft = (stored: ReadonlyMap<number, number> | undefined, at: number): number => {
  const rate = SHARD_RECORDS_PER_SECOND
  const burst = BURST_SECONDS * rate
  if (stored === undefined) return burst
  const before = [...stored].filter(([second]) => second < at)
  if (before.length === 0) return burst
  const first = Math.min(...before.map(([second]) => second))
  const spent = before.reduce((sum, [, records]) => sum + records, 0)
  return Math.min(burst, Math.max(0, burst + rate * (at - first) - spent))
}

/** The shard that stored the most over the seconds given. */
const hottest = (stored: Stored, which: ReadonlyArray<number>): string | undefined => {
  let best: string | undefined
  let most = -1
  for (const [shard, seconds] of stored) {
    const total = which.reduce((sum, second) => sum + (seconds.get(second) ?? 0), 0)
    if (total > most) {
      best = shard
      most = total
    }
  }
  return best
}

/**
 * How soon after the split both new shards were at capacity for good: the start of the first whole second from
 * which, in every span of two seconds up to the end of the window, each stored `AT_CAPACITY` of its limit. Two
 * seconds, not one: the proxy counts a record when the emulator has stored it, and on a busy machine its delays
 * shift records from one second into the next.
 */
export const splitToCapacity = (
  seconds: ReadonlyArray<KinesisProxy.ShardSecond>,
  split: Split,
  until: number
): number | undefined => {
  const stored = byShard(seconds)
  const threshold = 2 * AT_CAPACITY * SHARD_RECORDS_PER_SECOND
  const after = measuredSeconds({ from: split.atMs, until })
  const full = (second: number) =>
    split.children.every((child) => {
      const shard = stored.get(child)
      return (shard?.get(second) ?? 0) + (shard?.get(second + 1) ?? 0) >= threshold
    })
  let since: number | undefined
  for (const second of after.slice(0, -1)) since = full(second) ? since ?? second : undefined
  return since === undefined ? undefined : Math.max(0, (since * 1000 - split.atMs) / 1000)
}

/** What a run of `testCase` used of the stream; the window is when records were being offered. */
export const measure = (
  testCase: Case,
  seconds: ReadonlyArray<KinesisProxy.ShardSecond>,
  window: Window,
  split: Split | undefined
): Utilization => {
  const stored = byShard(seconds)
  const from = testCase.gauge === "after-split" ? split?.atMs ?? Number.NaN : window.from
  const which = Number.isFinite(from) ? measuredSeconds({ from, until: window.until }) : []
  const hotShard = testCase.gauge === "hot-shard" ? hottest(stored, which) : undefined
  const shards = testCase.gauge === "hot-shard" ?
    (hotShard === undefined ? [] : [hotShard]) :
    testCase.gauge === "after-split" ?
    split?.children ?? [] :
    [...stored.keys()]
  // Shards that stored nothing are in the stream all the same: their capacity was there, unused.
  const count = testCase.gauge === "stream" ? Math.max(testCase.shards, shards.length) : shards.length
  const total = shards.reduce(
    (sum, shard) => sum + which.reduce((inner, second) => inner + (stored.get(shard)?.get(second) ?? 0), 0),
    0
  )
  const rate = count * which.length * SHARD_RECORDS_PER_SECOND
  const first = which[0]
  const burst = first === undefined ?
    0 :
    shards.reduce((sum, shard) => sum + burstLeft(stored.get(shard), first), 0) +
    (count - shards.length) * BURST_SECONDS * SHARD_RECORDS_PER_SECOND
  return {
    capacityShare: which.length === 0 ? Number.NaN : total / (rate + burst),
    rateShare: which.length === 0 ? Number.NaN : total / rate,
    seconds: which.length,
    hotShard,
    splitToCapacitySeconds: split === undefined ? undefined : splitToCapacity(seconds, split, window.until)
  }
}
