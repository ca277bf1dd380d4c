/**
 * Which failures are worth sending again, and the default schedule for sending them again.
 */
import { Fault } from "@effect-kinesis/core"
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"
import { KinesisError } from "./Errors.js"

/** Whether a Kinesis error code (of a record or of a whole request) is worth retrying. `KMS*` only when throttled. */
export const isRetriableCode = Fault.isRetriableCode

/** Whether an HTTP status is worth retrying: 5xx, and 429. */
export const isRetriableStatus = Fault.isRetriableStatus

/**
 * Turns anything an SDK call threw into a `KinesisError` that says whether to retry: throttling, internal
 * failures, 5xx, timeouts and broken connections are retriable; missing streams, bad arguments, denied access,
 * KMS errors (but `KMSThrottlingException`), refused certificates and anything unknown with a 4xx status are
 * not. A failure without an answer is named by its root cause (`ENOTFOUND`, `ECONNREFUSED`...).
 */
export const classify = (operation: string, error: unknown): KinesisError =>
  error instanceof KinesisError ? error : new KinesisError(Fault.classify(operation, error))

/**
 * Whether the request that failed with `error` may have been processed, so that its records may be stored:
 * false when it certainly never reached Kinesis or was answered with a 4xx; true when it was sent and no answer
 * says what became of it (timeouts, resets after connecting, 5xx, anything unknown).
 */
export const mayHaveStored = (error: KinesisError): boolean => Fault.mayHaveStored(error)

/** The error of a call with no answer within `millis`: retriable, and the request may have been processed. */
export const timedOut = (operation: string, millis: number): KinesisError =>
  new KinesisError(Fault.timedOut(operation, millis))

/** What the retry schedule is stepped with: the error that made a record (or its whole request) fail. */
export type RetryInput = KinesisError

/**
 * The default retry schedule: exponential from 100 ms, doubling, each delay capped at 1 second and jittered
 * (so writers that failed together do not retry together), for up to 30 seconds after a record's first failure.
 * The cap is short because throttling passes within a second (the limits are per second): a longer wait leaves
 * the stream's capacity idle.
 */
export const defaultSchedule: Schedule.Schedule<unknown, RetryInput> = Schedule.exponential("100 millis", 2).pipe(
  Schedule.modifyDelay((delay) => Duration.min(delay, Duration.seconds(1))),
  Schedule.jittered,
  Schedule.upTo("30 seconds")
)
