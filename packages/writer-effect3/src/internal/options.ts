/**
 * The writer's options: the core's `Settings` checks them and fills in defaults; here, what only Effect knows: its
 * durations and the retry `Schedule`.
 */
import { Settings } from "@effect-kinesis/core"
import * as Duration from "effect/Duration"
import * as Either from "effect/Either"
import * as Schedule from "effect/Schedule"
import { InvalidOptions } from "../Errors.js"
import * as Retry from "../Retry.js"

/** The writer's options as the user gives them; every field but `stream` has a default. */
export interface Options {
  readonly stream: string
  readonly linger?: Duration.DurationInput | undefined
  readonly maxBatchRecords?: number | undefined
  readonly maxBatchBytes?: number | undefined
  readonly maxRecordBytes?: number | undefined
  readonly maxBufferedRecords?: number | undefined
  readonly maxBufferedBytes?: number | undefined
  readonly maxInFlight?: number | undefined
  readonly retry?: Schedule.Schedule<unknown, Retry.RetryInput> | undefined
  readonly requestTimeout?: Duration.DurationInput | undefined
  readonly shutdownTimeout?: Duration.DurationInput | undefined
  readonly logBatches?: boolean | undefined
  readonly ordered?: boolean | undefined
  readonly shardAware?: boolean | undefined
  readonly shardCapacity?: number | undefined
  readonly shardMapRefresh?: Duration.DurationInput | undefined
  readonly aggregate?: boolean | AggregateOptions | undefined
}

/** Bounds of KPL aggregation, for `aggregate`. */
export type AggregateOptions = Settings.AggregateOptions

/** Options with every default filled in and every duration in milliseconds. */
export interface Resolved extends Settings.Resolved {
  readonly retry: Schedule.Schedule<unknown, Retry.RetryInput>
}

const { defaults: core } = Settings

/** The defaults, documented in the README's options table. */
export const defaults = {
  linger: Duration.millis(core.lingerMillis),
  maxBatchRecords: core.maxBatchRecords,
  maxBatchBytes: core.maxBatchBytes,
  maxRecordBytes: core.maxRecordBytes,
  maxBufferedRecords: core.maxBufferedRecords,
  maxBufferedBytes: core.maxBufferedBytes,
  maxInFlight: core.maxInFlight,
  retry: Retry.defaultSchedule,
  requestTimeout: Duration.millis(core.requestTimeoutMillis),
  shutdownTimeout: Duration.millis(core.shutdownTimeoutMillis),
  logBatches: core.logBatches,
  ordered: core.ordered,
  shardAware: core.shardAware,
  shardCapacity: core.shardCapacity,
  shardMapRefresh: Duration.millis(core.shardMapRefreshMillis),
  aggregate: core.aggregate,
  aggregateMaxBytes: core.aggregateMaxBytes,
  aggregateMaxRecords: core.aggregateMaxRecords
} as const

const toMillis = (value: unknown): number | undefined => {
  const decoded = Duration.decodeUnknown(value)
  return decoded._tag === "None" ? undefined : Duration.toMillis(decoded.value)
}

/** Checks every option and fills in defaults; every problem is named, not only the first. */
export const resolve = (options: Options): Either.Either<Resolved, InvalidOptions> => {
  const resolved = Settings.resolve(options, toMillis)
  const retry = typeof options === "object" && options !== null ? options.retry ?? defaults.retry : defaults.retry
  const problems = Settings.isInvalid(resolved) ? [...resolved.problems] : []
  if (!Schedule.isSchedule(retry)) problems.push("retry must be a Schedule")
  if (problems.length > 0 || Settings.isInvalid(resolved)) return Either.left(new InvalidOptions({ problems }))
  return Either.right({ ...resolved, retry })
}
