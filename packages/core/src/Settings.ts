/**
 * The writer's options, checked: every problem named, not only the first, and every default filled in. The Effect
 * shells decode durations (with their `Duration`) and the retry `Schedule`; the rest is decided here.
 */
import * as Batch from "./Batch.js"
import * as Record from "./Record.js"
import * as Units from "./Units.js"

/** The options as the user gives them, but `retry` (the shell's): durations in any form `toMillis` reads. */
export interface Input {
  readonly stream: string
  readonly linger?: unknown
  readonly maxBatchRecords?: number | undefined
  readonly maxBatchBytes?: number | undefined
  readonly maxRecordBytes?: number | undefined
  readonly maxBufferedRecords?: number | undefined
  readonly maxBufferedBytes?: number | undefined
  readonly maxInFlight?: number | undefined
  readonly requestTimeout?: unknown
  readonly shutdownTimeout?: unknown
  readonly logBatches?: boolean | undefined
  readonly ordered?: boolean | undefined
  readonly shardAware?: boolean | undefined
  readonly shardCapacity?: number | undefined
  readonly shardMapRefresh?: unknown
  readonly aggregate?: boolean | AggregateOptions | undefined
}

/** Bounds of KPL aggregation, for `aggregate`. */
export interface AggregateOptions {
  /** The most bytes of one aggregate (default 50 KiB, as the KPL; at most `maxRecordBytes`). */
  readonly maxBytes?: number | undefined
  /** The most user records in one aggregate (default 1,000). */
  readonly maxRecords?: number | undefined
}

/** Options with every default filled in and every duration in milliseconds. */
export interface Resolved {
  readonly stream: string
  /** `StreamARN` when the stream was given as an ARN, else `StreamName`. */
  readonly target: { readonly StreamName: string } | { readonly StreamARN: string }
  /** The stream's name (the part of an ARN after the last `/`), for logs. */
  readonly streamName: string
  readonly lingerMillis: number
  readonly limits: Batch.Limits
  readonly maxRecordBytes: number
  readonly maxBufferedRecords: number
  readonly maxBufferedBytes: number
  readonly maxInFlight: number
  readonly requestTimeoutMillis: number
  readonly shutdownTimeoutMillis: number
  readonly logBatches: boolean
  readonly ordered: boolean
  readonly shardAware: boolean
  /** The fraction of each shard's write limits this writer aims for (0 < x <= 1). */
  readonly shardCapacity: number
  readonly shardMapRefreshMillis: number
  /** KPL aggregation per predicted shard; undefined when off. */
  readonly aggregation: { readonly maxBytes: number; readonly maxRecords: number } | undefined
}

/** Options that make no sense: every problem, one sentence each. */
export class Invalid {
  readonly _tag = "Invalid"
  constructor(readonly problems: ReadonlyArray<string>) {}
}

/** Whether `resolve` refused the options. */
export const isInvalid = (resolved: Resolved | Invalid): resolved is Invalid => resolved instanceof Invalid

/** The defaults, documented in the README's options table. */
export const defaults = {
  lingerMillis: 100,
  maxBatchRecords: Batch.MAX_BATCH_RECORDS,
  maxBatchBytes: Batch.DEFAULT_MAX_BATCH_BYTES,
  maxRecordBytes: Record.DEFAULT_MAX_RECORD_BYTES,
  maxBufferedRecords: 10_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  maxInFlight: 8,
  requestTimeoutMillis: 10_000,
  shutdownTimeoutMillis: 30_000,
  logBatches: false,
  ordered: false,
  shardAware: true,
  shardCapacity: 1,
  shardMapRefreshMillis: 60_000,
  aggregate: false,
  aggregateMaxBytes: 50 * 1024,
  aggregateMaxRecords: 1000
} as const

// Negative in any form a DurationInput takes: number, bigint, "-5 seconds", [-1, 0] (a Duration is never negative).
const isNegative = (value: unknown): boolean => {
  if (typeof value === "number" || typeof value === "bigint") return !(value >= 0)
  if (typeof value === "string") return /^\s*-/.test(value)
  if (Array.isArray(value)) return value.some((part) => Number(part) < 0)
  return false
}

const streamName = /^[a-zA-Z0-9_.-]{1,128}$/
const streamArn = /^arn:[a-z0-9-]+:kinesis:[a-z0-9-]*:[0-9]*:stream\/([a-zA-Z0-9_.-]{1,128})$/

/** Checks every option and fills in defaults; every problem is named, not only the first. */
export const resolve = (options: Input, toMillis: (duration: unknown) => number | undefined): Resolved | Invalid => {
  const problems: Array<string> = []
  const integer = (name: string, value: number | undefined, fallback: number, min: number, max: number): number => {
    if (value === undefined) return fallback
    if (typeof value !== "number" || !Number.isInteger(value) || value < min || value > max) {
      problems.push(`${name} must be a whole number from ${min} to ${max}, not ${String(value)}`)
      return fallback
    }
    return value
  }
  const millis = (name: string, value: unknown, fallback: number): number => {
    if (value === undefined) return fallback
    // A Duration clamps a negative value to zero without a word: a negative option is a mistake to name instead.
    if (isNegative(value)) {
      problems.push(`${name} must not be negative`)
      return fallback
    }
    const ms = toMillis(value)
    if (ms === undefined) {
      problems.push(`${name} must be a duration (such as "100 millis" or 100), not ${String(value)}`)
      return fallback
    }
    if (Number.isNaN(ms) || ms < 0) {
      problems.push(`${name} must not be negative`)
      return fallback
    }
    return ms
  }

  if (typeof options !== "object" || options === null) {
    return new Invalid(["options must be an object with at least a stream"])
  }
  const stream = options.stream
  let target: Resolved["target"] = { StreamName: "" }
  let name = ""
  if (typeof stream !== "string" || stream === "") {
    problems.push("stream must be a stream name or a stream ARN")
  } else if (stream.startsWith("arn:")) {
    const match = streamArn.exec(stream)
    if (match === null) {
      problems.push(`stream ${stream} is not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)`)
    } else {
      target = { StreamARN: stream }
      name = match[1]
    }
  } else if (!streamName.test(stream)) {
    problems.push(`stream ${stream} is not a stream name (1 to 128 of a-z, A-Z, 0-9, _ . -)`)
  } else {
    target = { StreamName: stream }
    name = stream
  }

  const maxBatchRecords = integer(
    "maxBatchRecords",
    options.maxBatchRecords,
    defaults.maxBatchRecords,
    1,
    Batch.MAX_BATCH_RECORDS
  )
  const maxBatchBytes = integer(
    "maxBatchBytes",
    options.maxBatchBytes,
    defaults.maxBatchBytes,
    1,
    Batch.MAX_BATCH_BYTES_LIMIT
  )
  const maxRecordBytes = integer(
    "maxRecordBytes",
    options.maxRecordBytes,
    Math.min(defaults.maxRecordBytes, maxBatchBytes),
    1,
    Record.MAX_RECORD_BYTES_LIMIT
  )
  if (maxRecordBytes > maxBatchBytes) {
    problems.push(`maxRecordBytes (${maxRecordBytes}) must not exceed maxBatchBytes (${maxBatchBytes})`)
  }
  const maxBufferedRecords = integer(
    "maxBufferedRecords",
    options.maxBufferedRecords,
    defaults.maxBufferedRecords,
    1,
    Number.MAX_SAFE_INTEGER
  )
  const maxBufferedBytes = integer(
    "maxBufferedBytes",
    options.maxBufferedBytes,
    Math.max(defaults.maxBufferedBytes, maxRecordBytes),
    1,
    Number.MAX_SAFE_INTEGER
  )
  if (maxBufferedBytes < maxRecordBytes) {
    problems.push(
      `maxBufferedBytes (${maxBufferedBytes}) must hold at least one record of maxRecordBytes (${maxRecordBytes})`
    )
  }
  const maxInFlight = integer("maxInFlight", options.maxInFlight, defaults.maxInFlight, 1, 10_000)
  const lingerMillis = millis("linger", options.linger, defaults.lingerMillis)
  const requestTimeoutMillis = millis("requestTimeout", options.requestTimeout, defaults.requestTimeoutMillis)
  if (requestTimeoutMillis === 0) problems.push("requestTimeout must be more than zero")
  const shutdownTimeoutMillis = millis("shutdownTimeout", options.shutdownTimeout, defaults.shutdownTimeoutMillis)
  const logBatches = options.logBatches ?? defaults.logBatches
  if (typeof logBatches !== "boolean") problems.push("logBatches must be true or false")

  const ordered = options.ordered ?? defaults.ordered
  if (typeof ordered !== "boolean") problems.push("ordered must be true or false")
  const shardAware = options.shardAware ?? defaults.shardAware
  if (typeof shardAware !== "boolean") problems.push("shardAware must be true or false")
  const shardCapacity = options.shardCapacity ?? defaults.shardCapacity
  if (typeof shardCapacity !== "number" || !(shardCapacity > 0 && shardCapacity <= 1)) {
    problems.push(`shardCapacity must be a fraction above 0 and at most 1, not ${String(shardCapacity)}`)
  }
  const shardMapRefreshMillis = millis("shardMapRefresh", options.shardMapRefresh, defaults.shardMapRefreshMillis)
  if (shardMapRefreshMillis === 0) problems.push("shardMapRefresh must be more than zero")

  const aggregate = options.aggregate ?? defaults.aggregate
  let aggregation: Resolved["aggregation"]
  if (aggregate === true || (typeof aggregate === "object" && aggregate !== null)) {
    const bounds: AggregateOptions = aggregate === true ? {} : aggregate as AggregateOptions
    aggregation = {
      maxBytes: integer(
        "aggregate.maxBytes",
        bounds.maxBytes,
        Math.min(defaults.aggregateMaxBytes, maxRecordBytes - 1),
        64,
        maxRecordBytes - 1
      ),
      maxRecords: integer("aggregate.maxRecords", bounds.maxRecords, defaults.aggregateMaxRecords, 2, 1_000_000)
    }
    if (!shardAware) problems.push("aggregate needs shardAware: aggregates are packed per predicted shard")
    if (ordered) {
      problems.push("aggregate and ordered can not be combined: ordered sends each key's records one request apart")
    }
  } else if (aggregate !== false) problems.push("aggregate must be true, false or { maxBytes?, maxRecords? }")

  if (problems.length > 0) return new Invalid(problems)
  return {
    stream,
    target,
    streamName: name,
    lingerMillis,
    limits: { maxBatchRecords, maxBatchBytes },
    maxRecordBytes,
    maxBufferedRecords,
    maxBufferedBytes,
    maxInFlight,
    requestTimeoutMillis,
    shutdownTimeoutMillis,
    logBatches,
    ordered,
    shardAware,
    shardCapacity,
    shardMapRefreshMillis,
    aggregation
  }
}

/** The environment variable each option is read from by the shells' `KinesisWriter.config`. */
export const variables = {
  stream: "KINESIS_STREAM",
  linger: "KINESIS_LINGER",
  maxBatchRecords: "KINESIS_MAX_BATCH_RECORDS",
  maxBatchBytes: "KINESIS_MAX_BATCH_BYTES",
  maxRecordBytes: "KINESIS_MAX_RECORD_BYTES",
  maxBufferedRecords: "KINESIS_MAX_BUFFERED_RECORDS",
  maxBufferedBytes: "KINESIS_MAX_BUFFERED_BYTES",
  maxInFlight: "KINESIS_MAX_IN_FLIGHT",
  requestTimeout: "KINESIS_REQUEST_TIMEOUT",
  shutdownTimeout: "KINESIS_SHUTDOWN_TIMEOUT",
  logBatches: "KINESIS_LOG_BATCHES",
  ordered: "KINESIS_ORDERED",
  shardAware: "KINESIS_SHARD_AWARE",
  shardCapacity: "KINESIS_SHARD_CAPACITY",
  shardMapRefresh: "KINESIS_SHARD_MAP_REFRESH",
  aggregate: "KINESIS_AGGREGATE"
} as const satisfies { readonly [Option in keyof Input]-?: string }

/** An option read from variables. */
export type Variable = keyof typeof variables

/** A problem with one variable's value, for a person. */
export interface Problem {
  /** The option: its variable is `variables[option]`. */
  readonly option: Variable
  readonly message: string
}

/** The options read from variables, or every problem, each with its variable. */
export type FromVariables = { readonly _tag: "Read"; readonly input: Input } | {
  readonly _tag: "Problems"
  readonly problems: ReadonlyArray<Problem>
}

const kinds: { readonly [Option in Variable]: "text" | "duration" | "size" | "integer" | "number" | "boolean" } = {
  stream: "text",
  linger: "duration",
  maxBatchRecords: "integer",
  maxBatchBytes: "size",
  maxRecordBytes: "size",
  maxBufferedRecords: "integer",
  maxBufferedBytes: "size",
  maxInFlight: "integer",
  requestTimeout: "duration",
  shutdownTimeout: "duration",
  logBatches: "boolean",
  ordered: "boolean",
  shardAware: "boolean",
  shardCapacity: "number",
  shardMapRefresh: "duration",
  aggregate: "boolean"
}

const booleans: Readonly<Record<string, boolean>> = {
  true: true,
  yes: true,
  on: true,
  "1": true,
  false: false,
  no: false,
  off: false,
  "0": false
}

const decodeValue = (option: Variable, text: string): unknown | Units.Unreadable => {
  const name = variables[option]
  switch (kinds[option]) {
    case "text":
      return text
    case "duration":
      return Units.parseDuration(text)
    case "size":
      return Units.parseSize(text)
    case "integer":
    case "number": {
      const value = Number(text.trim())
      if (text.trim() === "" || !Number.isFinite(value) || (kinds[option] === "integer" && !Number.isInteger(value))) {
        return new Units.Unreadable(
          `${name} must be ${kinds[option] === "integer" ? "a whole number" : "a number"}, not "${text}"`
        )
      }
      return value
    }
    case "boolean": {
      const value = booleans[text.trim().toLowerCase()]
      return value ?? new Units.Unreadable(`${name} must be true or false, not "${text}"`)
    }
  }
}

/**
 * Reads the options from the variables' texts (`read` gives undefined for a variable that is not set): durations
 * as `50ms`, `2s` or `100 millis`, sizes as `5MiB` or bytes; then checks them as `resolve` does. Every problem is
 * named with its option, so a caller can name every variable at fault, not only the first.
 */
export const fromVariables = (read: (option: Variable) => string | undefined): FromVariables => {
  const problems: Array<Problem> = []
  const input: Record<string, unknown> = {}
  for (const option of Object.keys(variables) as Array<Variable>) {
    const text = read(option)
    if (text === undefined) {
      if (option === "stream") problems.push({ option, message: `${variables.stream} is not set: name the stream` })
      continue
    }
    const value = decodeValue(option, text)
    if (value instanceof Units.Unreadable) problems.push({ option, message: `${variables[option]}: ${value.reason}` })
    else input[option] = value
  }
  // The values that were read are checked too, so that one pass names every variable at fault.
  const resolved = resolve(
    { stream: "unset", ...input } as Input,
    (millis) => (typeof millis === "number" ? millis : undefined)
  )
  if (isInvalid(resolved)) {
    const unreadable = new Set(problems.map((problem) => problem.option))
    for (const message of resolved.problems) {
      // Each problem starts with the option it names.
      const option = /^[A-Za-z]+/.exec(message)?.[0]
      const known = option !== undefined && Object.hasOwn(variables, option) ? option as Variable : "stream"
      if (!unreadable.has(known)) problems.push({ option: known, message })
    }
  }
  return problems.length === 0 ? { _tag: "Read", input: input as unknown as Input } : { _tag: "Problems", problems }
}
