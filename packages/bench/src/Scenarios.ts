/**
 * What `npm run bench` measures, in its quick and full versions: the cases, each run by its writers in a rotating
 * order, `rounds` times, each run on a fresh embedded Kinesis. The quick plan measures every target with fewer
 * records, rounds and writers; the long variants are the full plan's alone.
 */
import type { LocalKinesis } from "@effect-kinesis/local-effect3"
import type { WriterName } from "./Job.js"

/** The kinds of measurement, in the order a run measures them. */
export const scenarios = [
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
] as const

export type ScenarioId = typeof scenarios[number]

/** Names `--only` takes for several scenarios at once. */
export const groups: Readonly<Record<string, ReadonlyArray<ScenarioId>>> = {
  shards: ["aws-4x1.25", "hot-key", "two-writers", "four-writers", "split"]
}

/**
 * What "capacity used" divides by, over the seconds records were offered: the stream's record capacity, the hottest
 * shard's, the new shards' after a split, or the stream's byte capacity (filled with user records' bytes).
 */
export type Gauge = "stream" | "hot-shard" | "after-split" | "stream-bytes"

/** One set of conditions its writers run under. */
export interface Case {
  readonly scenario: Exclude<ScenarioId, "core">
  /** Unique among cases: the scenario, and the load for a scenario measured at two. */
  readonly id: string
  readonly title: string
  /** Records each process offers (the most, when `offerSeconds` ends the offer first). */
  readonly records: number
  readonly recordBytes: number
  readonly shards: number
  /** Records offered per second by each process; undefined: as fast as each writer takes them. */
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
  /** Writer processes at once on the stream, each offering `records` of its own. */
  readonly processes: number
  /** Offer records for this long at most; undefined: until all `records` are offered. */
  readonly offerSeconds: number | undefined
  /** Split the first shard at the middle of its range this long after the first record is offered. */
  readonly splitAfterSeconds: number | undefined
  readonly gauge: Gauge | undefined
  /** The writers of this case, in every round. */
  readonly writers: ReadonlyArray<WriterName>
  /** Writers run in the first round only, beside the others: context with no target on it (quick plan). */
  readonly onceWriters?: ReadonlyArray<WriterName> | undefined
}

/** The pure core's measurement, and the stages'. */
export interface CoreCase {
  readonly records: number
  readonly recordBytes: number
  readonly rounds: number
  readonly stageRecords: number
  readonly stageRounds: number
}

/** Everything one `npm run bench` does. */
export interface Plan {
  readonly mode: "quick" | "full"
  /** PutRecords requests at once, for every writer with such a setting but the hand loop (this library's default). */
  readonly concurrency: number
  readonly maxSockets: number
  readonly cases: ReadonlyArray<Case>
  readonly core: CoreCase
}

/** AWS's per-shard write limit in records per second, which binds first for records of 1 KiB or less. */
export const SHARD_RECORDS_PER_SECOND = 1000

/** AWS's per-shard write limit in bytes (data + partition keys) per second. */
export const SHARD_BYTES_PER_SECOND = 1024 * 1024

/** What the shard scenarios offer over the stream's capacity, as the issues' targets say. */
export const OVER_CAPACITY = 1.25

/**
 * The fault mix of random-refusals (issue 18, item 4): records refused whatever the rate, as fault injection tools
 * (AWS FIS, LocalStack's `KINESIS_ERROR_PROBABILITY`) refuse them: 20% throttled, 2% `InternalFailure`; of
 * requests, 5% answered 500, 2% reset before they are forwarded, 1% after the records are stored (their copies
 * come back as duplicates, never as losses).
 */
export const randomRefusals = {
  throttle: 0.2,
  internalFailure: 0.02,
  serverError: 0.05,
  resetBeforeForward: 0.02,
  resetAfterForward: 0.01
} as const

/** The fields a later case has at their plain values: a results.json older than them meant these. */
export const laterFieldDefaults = {
  hotKeyShare: 0,
  processes: 1,
  offerSeconds: undefined,
  splitAfterSeconds: undefined,
  gauge: undefined,
  faults: undefined
} as const

/** The share of records the hot key's shard gets: the hot key's, plus its part of the distinct keys. */
export const hotShardShare = (hotKeyShare: number, shards: number): number => hotKeyShare + (1 - hotKeyShare) / shards

/** Bytes of a user record: its data and its key `k<index>`, of 7 bytes for most indexes of a run. */
export const userRecordBytes = (testCase: Case): number => testCase.recordBytes + 7

/** Records per second the stream takes at the case's bottleneck; for the byte gauge, user records filling it. */
export const streamCapacity = (testCase: Case): number =>
  testCase.gauge === "stream-bytes" ?
    testCase.shards * SHARD_BYTES_PER_SECOND / userRecordBytes(testCase) :
    testCase.gauge === "hot-shard" ?
    SHARD_RECORDS_PER_SECOND / hotShardShare(testCase.hotKeyShare, testCase.shards) :
    testCase.gauge === "after-split" ?
    (testCase.shards + 1) * SHARD_RECORDS_PER_SECOND :
    testCase.shards * SHARD_RECORDS_PER_SECOND

const handLoop: WriterName = "hand-loop"
const enqueue: WriterName = "effect-kinesis"
const blind: WriterName = "effect-kinesis-blind"
const intakes: ReadonlyArray<WriterName> = ["effect-kinesis-sink", "effect-kinesis-all"]
const others: ReadonlyArray<WriterName> = ["shutterstock", "aws-kinesis-writable", "naive-port"]

/** The plan of a run: quick, at most 5 minutes on 2 cores, measures every target; full is the one to publish. */
export const plan = (mode: "quick" | "full"): Plan => {
  const full = mode === "full"
  const base = {
    recordBytes: 100,
    shards: 4,
    ratePerSecond: undefined,
    throttle: 0,
    limits: false,
    ...laterFieldDefaults,
    rounds: full ? 3 : 1
  }
  // The shard scenarios: the writer's defaults, beside shard-blind and the hand loop in the full run.
  const shardCase = {
    ...base,
    limits: true,
    writers: full ? [enqueue, blind, handLoop] : [enqueue]
  }
  const at = (rate: number, seconds: number) => ({ ratePerSecond: rate, records: rate * seconds })
  const hotKey = 0.5
  const streamRate = OVER_CAPACITY * 4 * SHARD_RECORDS_PER_SECOND
  const hotRate = Math.round(OVER_CAPACITY * SHARD_RECORDS_PER_SECOND / hotShardShare(hotKey, 4))
  // 1.25x the user records whose bytes fill 4 shards' byte limit: 49,000 a second, 12x the record limit.
  const aggregatedRate = Math.round(OVER_CAPACITY * 4 * SHARD_BYTES_PER_SECOND / (100 + 7) / 1000) * 1000
  const aggregatedSeconds = full ? 10 : 5
  const cleanRecords = full ? 100_000 : 50_000
  const limitShards = full ? 4 : 2
  const overload = full ? 20_000 : 10_000
  const cases: Array<Case> = [
    {
      ...base,
      scenario: "clean",
      id: "clean",
      // 4 shards, whose 4,000 records/s a shard-aware writer keeps to: its paced CPU per record.
      title: "Clean, 4 shards (the shard-aware writer paces itself to their 4,000 records/s)",
      records: cleanRecords,
      writers: full ? [handLoop, enqueue, "effect-kinesis-effect3", blind, ...intakes] : [handLoop, enqueue, blind],
      rounds: full ? 5 : 2
    },
    {
      ...base,
      scenario: "clean",
      id: "clean-32",
      title: "Clean, 32 shards (more than the records/s need: shard pacing does not bind)",
      shards: 32,
      records: cleanRecords,
      writers: full ?
        [handLoop, enqueue, "effect-kinesis-effect3", blind, ...intakes, "effect-kinesis-tuned", ...others] :
        [handLoop, enqueue, "effect-kinesis-effect3", ...intakes],
      onceWriters: full ? undefined : others,
      rounds: full ? 5 : 3
    },
    ...(full ?
      [
        {
          ...base,
          scenario: "long",
          id: "clean-32-long",
          // Four times clean-32's records: what a process pays once weighs a quarter as much per record.
          title: "Clean, 32 shards, four times the records",
          shards: 32,
          records: 4 * cleanRecords,
          writers: [handLoop, enqueue, ...intakes]
        } satisfies Case,
        {
          ...base,
          scenario: "throttled",
          id: "throttled",
          title: "10% of records throttled",
          records: cleanRecords,
          throttle: 0.1,
          writers: [handLoop, enqueue, ...intakes, ...others]
        } satisfies Case,
        {
          ...base,
          scenario: "limits",
          id: "limits",
          title: `AWS limits, ${limitShards} shards, offered at twice capacity`,
          ...at(2 * limitShards * SHARD_RECORDS_PER_SECOND, 5),
          shards: limitShards,
          limits: true,
          writers: [handLoop, enqueue, "effect-kinesis-tuned", ...others]
        } satisfies Case
      ] :
      []),
    ...[1, 10].map((times): Case => ({
      ...base,
      scenario: "overload",
      id: `overload-${times}x`,
      // The smaller load already fills the writer's default buffer (10,000 records): a bounded writer is full at both.
      title: `Overload, ${times}x the load, offered at once`,
      records: overload * times,
      writers: full ? [handLoop, enqueue, ...others] : [enqueue]
    })),
    {
      ...shardCase,
      scenario: "aws-4x1.25",
      id: "aws-4x1.25",
      title: `AWS limits, 4 shards, offered ${OVER_CAPACITY}x the capacity`,
      ...at(streamRate, full ? 20 : 6),
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
      title: `Two writer processes on 4 shards, each offered ${OVER_CAPACITY}x the capacity`,
      ...at(streamRate, full ? 20 : 6),
      processes: 2,
      gauge: "stream"
    },
    {
      ...shardCase,
      scenario: "four-writers",
      id: "four-writers",
      // Each one 1,250 records/s, 1.25x its equal share; together 1.25x the stream's capacity.
      title: `Four writer processes on 4 shards, each offered a quarter of ${OVER_CAPACITY}x the capacity`,
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
      ...at(OVER_CAPACITY * 2 * SHARD_RECORDS_PER_SECOND, full ? 20 : 8),
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
      gauge: "stream-bytes",
      writers: full ? ["effect-kinesis-aggregated", enqueue, handLoop] : ["effect-kinesis-aggregated"]
    },
    {
      ...base,
      scenario: "random-refusals",
      id: "random-refusals",
      title: "Refusals that do not follow the rate: 20% of records throttled at random, 2% InternalFailure, " +
        "5% of requests 500, 3% reset",
      records: full ? 100_000 : 5_000,
      faults: randomRefusals,
      writers: [enqueue, blind]
    }
  ]
  return {
    mode,
    concurrency: 8,
    maxSockets: 16,
    cases,
    core: {
      records: full ? 5_000_000 : 1_000_000,
      recordBytes: 100,
      rounds: full ? 5 : 3,
      stageRecords: full ? 100_000 : 30_000,
      stageRounds: full ? 3 : 1
    }
  }
}
