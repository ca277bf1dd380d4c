/**
 * What `npm run bench` measures, in its quick and full versions. Every case is run by every writer, in a
 * rotating order, `rounds` times; each run gets a fresh embedded Kinesis.
 */

/** The kinds of measurement. */
export type ScenarioId = "clean" | "throttled" | "limits" | "overload" | "core"

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
  /** Whether the server enforces AWS's per-shard write limits (1,000 records and 1 MiB per second). */
  readonly limits: boolean
  readonly rounds: number
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

const base = { recordBytes: 100, shards: 4, ratePerSecond: undefined, throttle: 0, limits: false }

/** The plan of a run: quick fits in a few minutes on 2 cores; full is the one to publish. */
export const plan = (mode: "quick" | "full"): Plan => {
  const full = mode === "full"
  const limitShards = full ? 4 : 2
  const limitSeconds = full ? 5 : 2
  const limitRate = 2 * limitShards * SHARD_RECORDS_PER_SECOND
  // The smaller load already exceeds the writer's default buffer (10,000 records): a bounded writer is full at both.
  const overload = full ? 20_000 : 10_000
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
        records: full ? 100_000 : 15_000,
        rounds: full ? 7 : 3
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
      }))
    ],
    core: { records: full ? 5_000_000 : 1_000_000, recordBytes: 100, rounds: full ? 5 : 3 }
  }
}
