/**
 * Which failures are worth sending again, and the default schedule for sending them again.
 */
import * as Duration from "effect/Duration"
import * as Schedule from "effect/Schedule"
import { KinesisError } from "./Errors.js"

// Per-record codes and whole-request error names after which the same request may succeed.
const retriableCodes = new Set([
  "ProvisionedThroughputExceededException",
  "InternalFailure",
  "InternalFailureException",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "LimitExceededException",
  "SlowDown",
  "KMSThrottlingException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "MissingResult",
  "NetworkingError"
])

// Node's codes for a connection that broke or never answered: the request may not have arrived, so send again.
const transientNetworkCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "ERR_HTTP2_STREAM_ERROR"
])

/** Whether a Kinesis error code (of a record or of a whole request) is worth retrying. `KMS*` only when throttled. */
export const isRetriableCode = (code: string): boolean => retriableCodes.has(code)

/** Whether an HTTP status is worth retrying: 5xx, and 429. */
export const isRetriableStatus = (status: number): boolean => status >= 500 || status === 429

const describe = (error: unknown): string => {
  if (error instanceof Error) return error.message
  if (typeof error === "string") return error
  try {
    return JSON.stringify(error) ?? String(error)
  } catch {
    return String(error)
  }
}

/**
 * Turns anything an SDK call threw into a `KinesisError` that says whether to retry: throttling, internal
 * failures, 5xx, timeouts and broken connections are retriable; missing streams, bad arguments, denied access,
 * KMS errors (but `KMSThrottlingException`) and anything unknown with a 4xx status are not.
 */
export const classify = (operation: string, error: unknown): KinesisError => {
  if (error instanceof KinesisError) return error
  const fields = (typeof error === "object" && error !== null ? error : {}) as {
    readonly name?: unknown
    readonly code?: unknown
    readonly $metadata?: { readonly httpStatusCode?: unknown }
    readonly $response?: { readonly statusCode?: unknown }
  }
  const name = typeof fields.name === "string" && fields.name !== "Error" ? fields.name : undefined
  const networkCode = typeof fields.code === "string" ? fields.code : undefined
  const rawStatus = fields.$metadata?.httpStatusCode ?? fields.$response?.statusCode
  const statusCode = typeof rawStatus === "number" ? rawStatus : undefined
  const code = name ?? networkCode ?? (statusCode !== undefined ? `HTTP${statusCode}` : "UnknownError")
  const retriable = isRetriableCode(code) ||
    (networkCode !== undefined && transientNetworkCodes.has(networkCode)) ||
    (statusCode !== undefined && isRetriableStatus(statusCode) && !code.startsWith("KMS")) ||
    (statusCode === undefined && name === undefined && networkCode !== undefined && networkCode.startsWith("E"))
  return new KinesisError({ operation, code, detail: describe(error), retriable, statusCode, cause: error })
}

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
