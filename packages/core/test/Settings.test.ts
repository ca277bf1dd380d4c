import { Settings } from "@effect-kinesis/core"
import { describe, expect, it } from "vitest"

const MiB = 1024 * 1024

// Durations as plain milliseconds; anything else is not a duration. (The shells read theirs with Duration.)
const toMillis = (value: unknown): number | undefined => typeof value === "number" ? value : undefined

const resolved = (options: Settings.Input): Settings.Resolved => {
  const result = Settings.resolve(options, toMillis)
  if (Settings.isInvalid(result)) throw new Error(`expected options, got: ${result.problems.join("; ")}`)
  return result
}

const problems = (options: unknown, read: (value: unknown) => number | undefined = toMillis) => {
  const result = Settings.resolve(options as Settings.Input, read)
  if (!Settings.isInvalid(result)) throw new Error("expected the options to be refused")
  expect(result).toBeInstanceOf(Settings.Invalid)
  expect(result._tag).toBe("Invalid")
  return result.problems
}

describe("Settings.resolve defaults", () => {
  it("fills in every default for a stream alone", () => {
    expect(resolved({ stream: "orders" })).toEqual({
      stream: "orders",
      target: { StreamName: "orders" },
      streamName: "orders",
      lingerMillis: 100,
      limits: { maxBatchRecords: 500, maxBatchBytes: 5 * MiB },
      maxRecordBytes: MiB,
      maxBufferedRecords: 10_000,
      maxBufferedBytes: 64 * MiB,
      maxInFlight: 8,
      requestTimeoutMillis: 10_000,
      shutdownTimeoutMillis: 30_000,
      logBatches: false,
      ordered: false,
      shardAware: true,
      shardCapacity: 1,
      shardMapRefreshMillis: 60_000,
      aggregation: undefined
    })
  })

  it("keeps what is given, durations as toMillis reads them", () => {
    const seconds = (value: unknown) =>
      typeof value === "string" && /^\d+ seconds$/.test(value) ? Number.parseInt(value) * 1000 : toMillis(value)
    const result = Settings.resolve({
      stream: "orders",
      linger: "2 seconds",
      maxBatchRecords: 10,
      maxBatchBytes: 10 * MiB,
      maxRecordBytes: 10 * MiB,
      maxBufferedRecords: 5,
      maxBufferedBytes: 20 * MiB,
      maxInFlight: 1,
      requestTimeout: 250,
      shutdownTimeout: 0,
      logBatches: true,
      ordered: true,
      shardAware: false,
      shardCapacity: 0.5,
      shardMapRefresh: "5 seconds"
    }, seconds)
    expect(result).toMatchObject({
      lingerMillis: 2000,
      limits: { maxBatchRecords: 10, maxBatchBytes: 10 * MiB },
      maxRecordBytes: 10 * MiB,
      maxBufferedRecords: 5,
      maxBufferedBytes: 20 * MiB,
      maxInFlight: 1,
      requestTimeoutMillis: 250,
      shutdownTimeoutMillis: 0,
      logBatches: true,
      ordered: true,
      shardAware: false,
      shardCapacity: 0.5,
      shardMapRefreshMillis: 5000,
      aggregation: undefined
    })
  })

  it("bounds the default record size by the batch size, and the default buffer by neither", () => {
    expect(resolved({ stream: "s", maxBatchBytes: 1000 })).toMatchObject({
      limits: { maxBatchRecords: 500, maxBatchBytes: 1000 },
      maxRecordBytes: 1000,
      maxBufferedBytes: 64 * MiB
    })
    expect(resolved({ stream: "s", maxBatchBytes: 10 * MiB, maxRecordBytes: 10 * MiB }).maxBufferedBytes).toBe(64 * MiB)
  })

  it("takes the bounds themselves: 1 and 500 records, 10 MiB batches and records, a linger of zero", () => {
    expect(resolved({ stream: "s", maxBatchRecords: 1 }).limits.maxBatchRecords).toBe(1)
    expect(resolved({ stream: "s", maxBatchRecords: 500 }).limits.maxBatchRecords).toBe(500)
    expect(resolved({ stream: "s", maxBatchBytes: 10 * MiB, maxRecordBytes: 10 * MiB }).maxRecordBytes).toBe(10 * MiB)
    expect(resolved({ stream: "s", maxRecordBytes: 5 * MiB }).maxRecordBytes).toBe(5 * MiB)
    expect(resolved({ stream: "s", linger: 0 }).lingerMillis).toBe(0)
    expect(resolved({ stream: "s", shardCapacity: 1 }).shardCapacity).toBe(1)
  })
})

describe("Settings.resolve stream", () => {
  it("targets a stream given by ARN by its ARN, and names it by the part after stream/", () => {
    const arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders-2024.v1"
    expect(resolved({ stream: arn })).toMatchObject({
      stream: arn,
      target: { StreamARN: arn },
      streamName: "orders-2024.v1"
    })
    const china = "arn:aws-cn:kinesis:cn-north-1:123456789012:stream/o_1"
    expect(resolved({ stream: china })).toMatchObject({ target: { StreamARN: china }, streamName: "o_1" })
  })

  it("takes names of 1 to 128 of a-z, A-Z, 0-9, _ . -, and refuses others and ARNs of anything else", () => {
    expect(resolved({ stream: "a" }).target).toEqual({ StreamName: "a" })
    expect(resolved({ stream: "x".repeat(128) }).streamName).toHaveLength(128)
    expect(problems({ stream: "x".repeat(129) })).toEqual([expect.stringMatching(/is not a stream name/)])
    expect(problems({ stream: "has spaces" })).toEqual([expect.stringMatching(/^stream has spaces is not a stream/)])
    expect(problems({ stream: "ключ" })).toEqual([expect.stringMatching(/is not a stream name/)])
    for (
      const arn of [
        "arn:aws:s3:::bucket",
        "arn:aws:kinesis:eu-west-1:123456789012:stream/",
        "arn:aws:kinesis:eu-west-1:123456789012:stream/has space",
        "arn:aws:kinesis:eu-west-1:123456789012:deliverystream/orders"
      ]
    ) {
      expect(problems({ stream: arn })).toEqual([
        `stream ${arn} is not a Kinesis stream ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME)`
      ])
    }
  })

  it("needs options with a stream", () => {
    expect(problems(null)).toEqual(["options must be an object with at least a stream"])
    expect(problems("orders")).toEqual(["options must be an object with at least a stream"])
    expect(problems({})).toEqual(["stream must be a stream name or a stream ARN"])
    expect(problems({ stream: 5 })).toEqual(["stream must be a stream name or a stream ARN"])
  })
})

describe("Settings.resolve problems", () => {
  it("names every problem, one sentence each, not only the first", () => {
    const found = problems({
      stream: "bad name",
      linger: -1,
      maxBatchRecords: 501,
      maxBatchBytes: 0,
      maxRecordBytes: 11 * MiB,
      maxBufferedRecords: 0,
      maxBufferedBytes: 1.5,
      maxInFlight: 10_001,
      requestTimeout: "soon",
      shutdownTimeout: -5,
      logBatches: "yes",
      ordered: 1,
      shardAware: "no",
      shardCapacity: 2,
      shardMapRefresh: 0,
      aggregate: "on"
    })
    expect(found.map((problem) => problem.split(" ")[0])).toEqual([
      "stream",
      "maxBatchRecords",
      "maxBatchBytes",
      "maxRecordBytes",
      "maxBufferedRecords",
      "maxBufferedBytes",
      "maxInFlight",
      "linger",
      "requestTimeout",
      "shutdownTimeout",
      "logBatches",
      "ordered",
      "shardAware",
      "shardCapacity",
      "shardMapRefresh",
      "aggregate"
    ])
    expect(found).toContain("maxBatchRecords must be a whole number from 1 to 500, not 501")
    expect(found).toContain(`maxRecordBytes must be a whole number from 1 to ${10 * MiB}, not ${11 * MiB}`)
    expect(found).toContain("maxBufferedBytes must be a whole number from 1 to 9007199254740991, not 1.5")
    expect(found).toContain("requestTimeout must be a duration (such as \"100 millis\" or 100), not soon")
    expect(found).toContain("shardCapacity must be a fraction above 0 and at most 1, not 2")
    expect(found).toContain("shardMapRefresh must be more than zero")
    expect(found).toContain("aggregate must be true, false or { maxBytes?, maxRecords? }")
  })

  it("names the sizes that do not fit each other", () => {
    expect(problems({ stream: "s", maxBatchBytes: 1000, maxRecordBytes: 2000 })).toEqual([
      "maxRecordBytes (2000) must not exceed maxBatchBytes (1000)"
    ])
    expect(problems({ stream: "s", maxBufferedBytes: MiB - 1 })).toEqual([
      `maxBufferedBytes (${MiB - 1}) must hold at least one record of maxRecordBytes (${MiB})`
    ])
  })

  it("names a negative duration in any form before reading it, and one toMillis can not read", () => {
    const unread = (value: unknown) => {
      throw new Error(`toMillis read ${String(value)}`)
    }
    for (const negative of [-1, -0.5, -1n, "-5 seconds", " -1 millis", [-1, 0]]) {
      expect(problems({ stream: "s", linger: negative }, unread)).toEqual(["linger must not be negative"])
    }
    expect(problems({ stream: "s", shutdownTimeout: 5 }, () => Number.NaN)).toEqual([
      "shutdownTimeout must not be negative"
    ])
    expect(problems({ stream: "s", shardMapRefresh: { minutes: 1 } })).toEqual([
      "shardMapRefresh must be a duration (such as \"100 millis\" or 100), not [object Object]"
    ])
  })

  it("refuses a request timeout and a shard map refresh of zero, but not a shutdown timeout of zero", () => {
    expect(problems({ stream: "s", requestTimeout: 0, shardMapRefresh: 0, shutdownTimeout: 0 })).toEqual([
      "requestTimeout must be more than zero",
      "shardMapRefresh must be more than zero"
    ])
  })

  it("takes a shard capacity above 0 and at most 1", () => {
    for (const capacity of [0, -0.1, 1.01, Number.NaN]) {
      expect(problems({ stream: "s", shardCapacity: capacity })).toEqual([
        `shardCapacity must be a fraction above 0 and at most 1, not ${capacity}`
      ])
    }
    expect(resolved({ stream: "s", shardCapacity: 0.01 }).shardCapacity).toBe(0.01)
  })
})

describe("Settings.resolve aggregate", () => {
  it("is off by default and with false, and fills in the KPL's bounds when on", () => {
    expect(resolved({ stream: "s", aggregate: false }).aggregation).toBeUndefined()
    expect(resolved({ stream: "s", aggregate: true }).aggregation).toEqual({ maxBytes: 50 * 1024, maxRecords: 1000 })
    expect(resolved({ stream: "s", aggregate: {} }).aggregation).toEqual({ maxBytes: 50 * 1024, maxRecords: 1000 })
    expect(resolved({ stream: "s", aggregate: { maxBytes: 64, maxRecords: 2 } }).aggregation).toEqual({
      maxBytes: 64,
      maxRecords: 2
    })
  })

  it("keeps an aggregate below the record size, as it travels as one record", () => {
    expect(resolved({ stream: "s", maxBatchBytes: 1000, aggregate: true }).aggregation).toEqual({
      maxBytes: 999,
      maxRecords: 1000
    })
    expect(resolved({ stream: "s", aggregate: { maxBytes: MiB - 1 } }).aggregation?.maxBytes).toBe(MiB - 1)
    expect(problems({ stream: "s", aggregate: { maxBytes: MiB, maxRecords: 1 } })).toEqual([
      `aggregate.maxBytes must be a whole number from 64 to ${MiB - 1}, not ${MiB}`,
      "aggregate.maxRecords must be a whole number from 2 to 1000000, not 1"
    ])
    expect(problems({ stream: "s", aggregate: { maxBytes: 63 } })).toEqual([
      `aggregate.maxBytes must be a whole number from 64 to ${MiB - 1}, not 63`
    ])
  })

  it("needs shardAware, and does not go with ordered", () => {
    expect(problems({ stream: "s", aggregate: true, shardAware: false })).toEqual([
      "aggregate needs shardAware: aggregates are packed per predicted shard"
    ])
    expect(problems({ stream: "s", aggregate: { maxRecords: 10 }, ordered: true })).toEqual([
      "aggregate and ordered can not be combined: ordered sends each key's records one request apart"
    ])
    expect(problems({ stream: "s", aggregate: true, shardAware: false, ordered: true })).toHaveLength(2)
    // Without aggregate, both are fine.
    expect(resolved({ stream: "s", shardAware: false, ordered: true })).toMatchObject({
      shardAware: false,
      ordered: true,
      aggregation: undefined
    })
  })
})
