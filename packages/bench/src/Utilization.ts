/**
 * How much of a stream's write capacity a run used, from what the proxy counted per shard and second: over the
 * time records were being offered, for the whole stream, its hottest shard, or the new shards after a split; and
 * how soon the shards born of a split took records at their limit.
 *
 * A shard takes its limit per second plus a burst: one second's worth it saves up while idle; the proxy's buckets
 * start full, as AWS's do. Each run starts on a fresh stream (and a split's shards are new), so the most the
 * measured shards could store from the first record on is their limit over the time measured plus one burst each:
 * that is what capacity used divides by. At 1.25x the load the burst alone takes four seconds to spend, and would
 * show a short window above 100% otherwise. The proxy counts a record when the emulator has stored it, a little
 * after it was let in; the time measured starts at the first record, and ends at the last whole second in which
 * records were being offered.
 *
 * The byte gauge (KPL aggregation) counts bytes the same way, the shards' byte limit in place of the record limit.
 * The proxy counts the bytes of the Kinesis records stored, aggregation overhead included; the user records' share
 * of them comes from the read-back (user bytes over Kinesis bytes, over the whole run), and capacity used is the
 * bytes counted in the time measured times that share.
 */
import { Aggregation } from "@effect-kinesis/core"
import type { KinesisProxy } from "@effect-kinesis/local-effect3"
import type { Split } from "./Harness.js"
import { type Case, SHARD_BYTES_PER_SECOND, SHARD_RECORDS_PER_SECOND } from "./Scenarios.js"

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
  /** Bytes (data + partition keys) of the Kinesis records stored. */
  readonly bytes: number
  readonly refused: number
}

/** A run's use of the stream. */
export interface Utilization {
  /** Records stored over the most the measured shards could have stored in the time measured; NaN when none. */
  readonly capacityShare: number
  /** Records stored per second over the shards' limit alone, burst not counted: above 1 when a burst was spent. */
  readonly rateShare: number
  /**
   * What the proxy counted stored over the same capacity: for the byte gauge, the Kinesis records' bytes,
   * aggregation overhead included (capacity used counts the user records' bytes); otherwise capacity used.
   */
  readonly storedShare: number
  /** The seconds measured. */
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
    bytes: second.acceptedBytes,
    refused: second.throttled + second.faulted
  }))

/** Records (or bytes) stored per shard and second. */
type Stored = ReadonlyMap<string, ReadonlyMap<number, number>>

const records = (second: KinesisProxy.ShardSecond) => second.accepted

const byShard = (
  seconds: ReadonlyArray<KinesisProxy.ShardSecond>,
  count: (second: KinesisProxy.ShardSecond) => number = records
): Stored => {
  const stored = new Map<string, Map<number, number>>()
  for (const second of seconds) {
    const shard = stored.get(second.shardId) ?? new Map<number, number>()
    shard.set(second.second, (shard.get(second.second) ?? 0) + count(second))
    stored.set(second.shardId, shard)
  }
  return stored
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

/** Records stored in `shards` in the seconds given. */
const storedIn = (stored: Stored, shards: ReadonlyArray<string>, which: ReadonlyArray<number>): number =>
  shards.reduce(
    (sum, shard) => sum + which.reduce((inner, second) => inner + (stored.get(shard)?.get(second) ?? 0), 0),
    0
  )

/** Bytes of the Kinesis records the proxy counted stored, over the whole run. */
export const storedBytes = (seconds: ReadonlyArray<KinesisProxy.ShardSecond>): number =>
  seconds.reduce((sum, second) => sum + second.acceptedBytes, 0)

/** Kinesis records the proxy counted stored, over the whole run (an aggregate is one). */
export const storedRecords = (seconds: ReadonlyArray<KinesisProxy.ShardSecond>): number =>
  seconds.reduce((sum, second) => sum + second.accepted, 0)

/**
 * What a run of `testCase` used of the stream; the window is when records were being offered. `userBytes`, the
 * bytes of the user records read back, is what the byte gauge counts.
 */
export const measure = (
  testCase: Case,
  seconds: ReadonlyArray<KinesisProxy.ShardSecond>,
  window: Window,
  split: Split | undefined,
  userBytes = 0
): Utilization => {
  const bytes = testCase.gauge === "stream-bytes"
  const stored = bytes ? byShard(seconds, (second) => second.acceptedBytes) : byShard(seconds)
  const kinesisBytes = bytes ? storedBytes(seconds) : 0
  const userShare = bytes ? (kinesisBytes === 0 ? 0 : userBytes / kinesisBytes) : 1
  const limit = bytes ? SHARD_BYTES_PER_SECOND : SHARD_RECORDS_PER_SECOND
  const from = testCase.gauge === "after-split" ? split?.atMs ?? Number.NaN : window.from
  const end = Math.floor(window.until / 1000) * 1000
  const span = Number.isFinite(from) ? Math.max(0, (end - from) / 1000) : 0
  // The second of the first record, whole: nothing was stored in it before, on a fresh stream or a new shard.
  const which = span === 0 ? [] : measuredSeconds({ from: Math.floor(from / 1000) * 1000, until: end })
  const hotShard = testCase.gauge === "hot-shard" ? hottest(stored, which) : undefined
  const shards = testCase.gauge === "hot-shard" ?
    (hotShard === undefined ? [] : [hotShard]) :
    testCase.gauge === "after-split" ?
    split?.children ?? [] :
    [...stored.keys()]
  // Shards that stored nothing are in the stream all the same: their capacity was there, unused.
  const count = testCase.gauge === "stream" || bytes ? Math.max(testCase.shards, shards.length) : shards.length
  const total = storedIn(stored, shards, which)
  const rate = count * span * limit
  const burst = count * BURST_SECONDS * limit
  return {
    capacityShare: span === 0 ? Number.NaN : total * userShare / (rate + burst),
    rateShare: span === 0 ? Number.NaN : total * userShare / rate,
    storedShare: span === 0 ? Number.NaN : total / (rate + burst),
    seconds: span,
    hotShard,
    splitToCapacitySeconds: split === undefined ? undefined : splitToCapacity(seconds, split, window.until)
  }
}

/**
 * Records stored per second over the limit of `shards` shards, in the whole seconds of a window that starts
 * mid-run: no burst counted, since the shards may have spent theirs before.
 */
export const rateShare = (
  seconds: ReadonlyArray<KinesisProxy.ShardSecond>,
  window: Window,
  shards: number
): number => {
  const stored = byShard(seconds)
  const which = measuredSeconds(window)
  return which.length === 0 ?
    Number.NaN :
    storedIn(stored, [...stored.keys()], which) / (shards * which.length * SHARD_RECORDS_PER_SECOND)
}

/** The writer's default bounds of an aggregate: 50 KiB (the aggregate's partition key included) and 1,000 records. */
const AGGREGATE_MAX_BYTES = 50 * 1024
const AGGREGATE_MAX_RECORDS = 1000

/**
 * The most of a stream's byte capacity user records can fill when packed into full aggregates of the writer's
 * default bounds: their bytes (data + partition key) over the aggregates' (magic number, protobuf, digest, key).
 * The records are those of a keyed case: `recordBytes` of data, keys `k` and six digits.
 */
export const aggregationCeiling = (recordBytes: number): number => {
  const data = new Uint8Array(recordBytes)
  let userBytes = 0
  let kinesisBytes = 0
  let open = Aggregation.make()
  const close = () => {
    kinesisBytes += Aggregation.kinesisSize(open, Aggregation.PARTITION_KEY)
    open = Aggregation.make()
  }
  for (let i = 0; i < 20 * AGGREGATE_MAX_RECORDS; i++) {
    const record = { partitionKey: `k${100_000 + i}`, data }
    const full = Aggregation.count(open) >= AGGREGATE_MAX_RECORDS ||
      Aggregation.sizeWith(open, record) + Aggregation.PARTITION_KEY.length > AGGREGATE_MAX_BYTES
    if (full) close()
    Aggregation.add(open, record)
    userBytes += recordBytes + record.partitionKey.length
  }
  close()
  return userBytes / kinesisBytes
}
