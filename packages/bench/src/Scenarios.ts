/**
 * What `npm run bench` measures, in its quick and full versions. Every case is run by every writer, in a
 * rotating order, `rounds` times; each run gets a fresh embedded Kinesis.
 */

import type { LocalKinesis } from "@effect-kinesis/local-effect3"
import { type WriterName, writers } from "./Job.js"

/** The kinds of measurement. */
export type ScenarioId =
  | "clean"
  | "long"
  | "throttled"
  | "limits"
  | "overload"
  | "core"
  | "aws-4x1.25"
  | "hot-key"
  | "two-writers"
  | "four-writers"
  | "random-refusals"
  | "split"
  | "aggregated"

/** Every scenario, in the order a run measures them. */
export const scenarios: ReadonlyArray<ScenarioId> = [
  "clean",
  "long",
  "throttled",
  "limits",
  "overload",
  "aws-4x1.25",
  "hot-key",
  "two-writers",
  "four-writers",
  "split",
  "aggregated",
  "random-refusals",
  "core"
]

/** Names `--only` takes for several scenarios at once. */
export const groups: Readonly<Record<string, ReadonlyArray<ScenarioId>>> = {
  shards: ["aws-4x1.25", "hot-key", "two-writers", "four-writers", "split"]
}

/** The writers of the shard scenarios: shard-aware beside shard-blind beside the hand-written loop. */
export const shardWriters: ReadonlyArray<WriterName> = ["effect-kinesis", "effect-kinesis-blind", "hand-loop"]

/**
 * The fault mix of the random-refusals scenario (issue 18, item 4): records refused whatever the rate, as fault
 * injection tools (AWS FIS, LocalStack's `KINESIS_ERROR_PROBABILITY`) refuse them: 20% throttled, 2%
 * `InternalFailure`; of requests, 5% answered 500, 2% reset before they are forwarded, 1% after the records are
 * stored (their copies come back as duplicates, never as losses).
 */
export const randomRefusals = {
  throttle: 0.2,
  internalFailure: 0.02,
  serverError: 0.05,
  resetBeforeForward: 0.02,
  resetAfterForward: 0.01
} as const

/** The writers of the random-refusals scenario: shard-aware beside shard-blind. */
export const refusalWriters: ReadonlyArray<WriterName> = ["effect-kinesis", "effect-kinesis-blind"]

/** The writers of the aggregation scenario: aggregated beside plain beside the hand-written loop. */
export const aggregatedWriters: ReadonlyArray<WriterName> = ["effect-kinesis-aggregated", "effect-kinesis", "hand-loop"]

/** The writers of clean: every one but the aggregating variant, which has a scenario of its own. */
const cleanWriters: ReadonlyArray<WriterName> = writers.filter((writer) => writer !== "effect-kinesis-aggregated")

/** The writers of the long clean case: the hand loop and this library's three ways to take records. */
const longWriters: ReadonlyArray<WriterName> = [
  "hand-loop",
  "effect-kinesis",
  "effect-kinesis-sink",
  "effect-kinesis-all"
]

/**
 * The writers of the other scenarios: shard-blind is a variant for the shard scenarios and clean's CPU, sink and
 * enqueueAll variants for clean's CPU (they send as `enqueue` does: only the intake differs), and the Effect 3 line
 * is measured beside the Effect 4 line in the clean cases (CPU per record, records/s).
 */
const otherWriters: ReadonlyArray<WriterName> = cleanWriters.filter((writer) =>
  writer !== "effect-kinesis-blind" && writer !== "effect-kinesis-sink" && writer !== "effect-kinesis-all" &&
  writer !== "effect-kinesis-effect3"
)

/**
 * What "capacity used" divides by, over the seconds records were being offered: the stream's record capacity, the
 * hottest shard's alone, the stream's after the split (from the split on), or the stream's byte capacity (filled
 * with user records' bytes).
 */
export type Gauge = "stream" | "hot-shard" | "after-split" | "stream-bytes"

/** One set of conditions every writer runs under. */
export interface Case {
  readonly scenario: Exclude<ScenarioId, "core">
  /** Unique among cases: the scenario, and the load for a scenario measured at two. */
  readonly id: string
  readonly title: string
  readonly records: number
  readonly recordBytes: number
  readonly shards: number
  /** Records offered per second; undefined: as fast as each writer takes them. */
  readonly ratePerSecond: number | undefined
  /** Fraction of records the server refuses with `ProvisionedThroughputExceededException`. */
  readonly throttle: number
  /** More faults of the embedded Kinesis's proxy (records refused whatever the rate, 500s, resets). */
  readonly faults: LocalKinesis.Options["faults"]
  /** Whether the server enforces AWS's per-shard write limits (1,000 records and 1 MiB per second). */
  readonly limits: boolean
  readonly rounds: number
  /** Share of the records on one partition key; the others have distinct keys. */
  readonly hotKeyShare: number
  /** Writer processes sending to the stream at once, each offering `records` at `ratePerSecond`. */
  readonly processes: number
  /** Whether every writer uses the offer's keys (`k<index>`); otherwise this library makes its own. */
  readonly keyed: boolean
  /** Offer records for this long at most; undefined: until all `records` are offered. */
  readonly offerSeconds: number | undefined
  /** Split the first shard at the middle of its range this long after the first record is offered. */
  readonly splitAfterSeconds: number | undefined
  /** How capacity used is measured; undefined: records/s over the whole run (cases with limits). */
  readonly gauge: Gauge | undefined
  /** The writers of this case; undefined: every writer. */
  readonly writers: ReadonlyArray<WriterName> | undefined
}

/** The pure core's measurement. */
export interface CoreCase {
  readonly records: number
  readonly recordBytes: number
  readonly rounds: number
}

/** Everything one `npm run bench` does. */
export interface Plan {
  readonly mode: "quick" | "full"
  /** PutRecords requests at once, for every writer with such a setting (this library's default). */
  readonly concurrency: number
  readonly maxSockets: number
  readonly cases: ReadonlyArray<Case>
  readonly core: CoreCase
}

/** AWS's per-shard write limit in records per second, which binds first for records of 1 KiB or less. */
export const SHARD_RECORDS_PER_SECOND = 1000

/** AWS's per-shard write limit in bytes (data + partition keys) per second. */
export const SHARD_BYTES_PER_SECOND = 1024 * 1024

/** AWS's record capacity offered in the shard scenarios: 1.25x, over it, as the targets say. */
export const OVER_CAPACITY = 1.25

/** The fields a case added later has at their plain values: a results.json older than them meant these. */
export const laterFieldDefaults = {
  hotKeyShare: 0,
  processes: 1,
  keyed: false,
  offerSeconds: undefined,
  splitAfterSeconds: undefined,
  gauge: undefined,
  writers: undefined,
  faults: undefined
} as const

const base = {
  recordBytes: 100,
  shards: 4,
  ratePerSecond: undefined,
  throttle: 0,
  limits: false,
  ...laterFieldDefaults,
  writers: otherWriters
}

/**
 * The share of records the hot key's shard gets: the hot key's, plus its part of the distinct keys (spread evenly).
 */
export const hotShardShare = (hotKeyShare: number, shards: number): number => hotKeyShare + (1 - hotKeyShare) / shards

/** Bytes of a user record of a keyed case: its data and the key `k<index>`, of 7 bytes for most indexes. */
export const keyedRecordBytes = (testCase: Case): number => testCase.recordBytes + 7

/**
 * Records per second the stream takes when every record goes through the case's bottleneck at its limit; for the
 * byte gauge, user records whose bytes alone (no aggregation overhead) fill the shards' byte limit.
 */
export const streamCapacity = (testCase: Case): number =>
  testCase.gauge === "stream-bytes" ?
    testCase.shards * SHARD_BYTES_PER_SECOND / keyedRecordBytes(testCase) :
    testCase.gauge === "hot-shard" ?
    SHARD_RECORDS_PER_SECOND / hotShardShare(testCase.hotKeyShare, testCase.shards) :
    testCase.gauge === "after-split" ?
    (testCase.shards + 1) * SHARD_RECORDS_PER_SECOND :
    testCase.shards * SHARD_RECORDS_PER_SECOND

/** The capacity that "capacity used" divides by: the stream's, or the hot shard's alone. */
export const gaugeCapacity = (testCase: Case): number =>
  testCase.gauge === "hot-shard" ? SHARD_RECORDS_PER_SECOND : streamCapacity(testCase)

/** The plan of a run: quick fits in a few minutes on 2 cores; full is the one to publish. */
export const plan = (mode: "quick" | "full"): Plan => {
  const full = mode === "full"
  const limitShards = full ? 4 : 2
  const limitSeconds = full ? 5 : 2
  const limitRate = 2 * limitShards * SHARD_RECORDS_PER_SECOND
  // The smaller load already exceeds the writer's default buffer (10,000 records): a bounded writer is full at both.
  const overload = full ? 20_000 : 10_000
  // Seconds of offering in the shard scenarios: the 20, shortened in the quick run.
  const offerSeconds = full ? 20 : 8
  const shardRounds = full ? 3 : 1
  const shardCase = {
    ...base,
    limits: true,
    writers: shardWriters,
    rounds: shardRounds
  }
  const at = (rate: number, seconds: number) => ({ ratePerSecond: rate, records: rate * seconds })
  const hotKey = 0.5
  const hotRate = Math.round(OVER_CAPACITY * SHARD_RECORDS_PER_SECOND / hotShardShare(hotKey, 4))
  const streamRate = OVER_CAPACITY * 4 * SHARD_RECORDS_PER_SECOND
  // 1.25x the user records whose bytes fill 4 shards' byte limit: 49,000 a second, 12x the record limit.
  const aggregatedRate = Math.round(OVER_CAPACITY * 4 * SHARD_BYTES_PER_SECOND / (100 + 7) / 1000) * 1000
  const aggregatedSeconds = full ? 10 : 5
  return {
    mode,
    concurrency: 8,
    maxSockets: 16,
    cases: [
      {
        ...base,
        scenario: "clean",
        id: "clean",
        title: "Clean",
        writers: cleanWriters,
        records: full ? 100_000 : 15_000,
        rounds: full ? 5 : 3
      },
      {
        ...base,
        scenario: "clean",
        id: "clean-32",
        // 4 shards take 4,000 records/s under AWS's limits, less than the emulator without them: a shard-aware
        // writer paces itself there, so every writer is measured here too, where only the writer itself limits it.
        title: "Clean, 32 shards (more than the records/s need: shard pacing does not bind)",
        shards: 32,
        records: full ? 100_000 : 15_000,
        writers: cleanWriters,
        rounds: full ? 5 : 3
      },
      {
        ...base,
        scenario: "long",
        id: "clean-32-long",
        // Four times the records of clean-32: what a process pays once (loading, compiling the code hot paths
        // run) weighs a quarter as much per record, so the two cases together tell it from what each record costs.
        title: "Clean, 32 shards, four times the records",
        shards: 32,
        records: full ? 400_000 : 60_000,
        writers: longWriters,
        rounds: full ? 3 : 1
      },
      {
        ...base,
        scenario: "throttled",
        id: "throttled",
        title: "10% of records throttled",
        records: full ? 100_000 : 10_000,
        throttle: 0.1,
        rounds: full ? 3 : 1
      },
      {
        ...base,
        scenario: "limits",
        id: "limits",
        title: `AWS limits, ${limitShards} shards, offered at twice capacity`,
        records: limitRate * limitSeconds,
        shards: limitShards,
        ratePerSecond: limitRate,
        limits: true,
        rounds: full ? 3 : 1
      },
      ...[1, 10].map((times): Case => ({
        ...base,
        scenario: "overload",
        id: `overload-${times}x`,
        title: `Overload, ${times}x the load`,
        records: overload * times,
        rounds: full ? 3 : 1
      })),
      {
        ...shardCase,
        scenario: "aws-4x1.25",
        id: "aws-4x1.25",
        title: `AWS limits, 4 shards, offered ${OVER_CAPACITY}x the capacity`,
        ...at(streamRate, offerSeconds),
        gauge: "stream"
      },
      {
        ...shardCase,
        scenario: "hot-key",
        id: "hot-key",
        title: `Hot key: ${hotKey * 100}% of the records on one partition key, 4 shards, ${OVER_CAPACITY}x what the ` +
          "hot shard allows",
        ...at(hotRate, full ? 20 : 6),
        hotKeyShare: hotKey,
        gauge: "hot-shard"
      },
      {
        ...shardCase,
        scenario: "two-writers",
        id: "two-writers",
        title: `Two writer processes on 4 shards, each offering ${OVER_CAPACITY}x the capacity`,
        // Together they offer 2.5x: each one's buffer fills in about 3 s, then backpressure sets their pace.
        ...at(streamRate, full ? 20 : 4),
        processes: 2,
        gauge: "stream"
      },
      {
        ...shardCase,
        scenario: "four-writers",
        id: "four-writers",
        title: `Four writer processes on 4 shards, each offered a quarter of ${OVER_CAPACITY}x the capacity`,
        // Each is offered 1,250 records/s, 1.25x its equal share; together 1.25x the stream's capacity.
        ...at(streamRate / 4, full ? 20 : 8),
        processes: 4,
        gauge: "stream"
      },
      {
        ...shardCase,
        scenario: "split",
        id: "split",
        title: `A shard split while writing: 1 shard, then 2, offered ${OVER_CAPACITY}x the capacity after the split`,
        shards: 1,
        ...at(OVER_CAPACITY * 2 * SHARD_RECORDS_PER_SECOND, full ? 20 : 10),
        splitAfterSeconds: full ? 5 : 3,
        gauge: "after-split"
      },
      {
        ...shardCase,
        scenario: "aggregated",
        id: "aggregated",
        title: `KPL aggregation: 4 shards, offered ${OVER_CAPACITY}x their byte capacity in 100-byte user records`,
        // The offer ends with its time: a writer held to 1,000 records a shard takes an eighth of what it could.
        ...at(aggregatedRate, aggregatedSeconds),
        offerSeconds: aggregatedSeconds,
        keyed: true,
        writers: aggregatedWriters,
        rounds: full ? 3 : 1,
        gauge: "stream-bytes"
      },
      {
        ...base,
        scenario: "random-refusals",
        id: "random-refusals",
        title: "Refusals that do not follow the rate: 20% of records refused at random, 2% InternalFailure, " +
          "5% of requests 500, 3% reset",
        records: full ? 100_000 : 10_000,
        faults: randomRefusals,
        writers: refusalWriters,
        rounds: full ? 3 : 1
      }
    ],
    core: { records: full ? 5_000_000 : 1_000_000, recordBytes: 100, rounds: full ? 5 : 3 }
  }
}
