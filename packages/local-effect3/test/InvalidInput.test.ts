import { Record } from "@effect-kinesis/core"
import { LocalKinesis } from "@effect-kinesis/local-effect3"
import { InvalidOptions, InvalidRecord, KinesisWriter } from "@effect-kinesis/writer-effect3"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"

const MiB = 1024 * 1024

const cyclic = (): unknown => {
  const node: { self?: unknown } = {}
  node.self = node
  return node
}

interface Case {
  readonly name: string
  readonly message: unknown
  readonly key?: Record.Key | undefined
}

// Each refused at enqueue and at put with InvalidRecord, before it reaches the buffer.
const refused: ReadonlyArray<Case> = [
  { name: "1 MiB + 1: a 1-byte key and 1 MiB of data", message: new Uint8Array(MiB), key: "k" },
  { name: "1 MiB + 1 with a 2-byte-per-character key", message: new Uint8Array(MiB - 199), key: "é".repeat(100) },
  { name: "1 MiB + 1 with a 4-byte-per-character key", message: new Uint8Array(MiB - 255), key: "😀".repeat(64) },
  { name: "1 MiB + 1 of multi-byte text", message: "é".repeat(MiB / 2 - 1) + "xx", key: "k" },
  { name: "an empty partition key", message: "x", key: "" },
  { name: "a 257-character partition key", message: "x", key: "k".repeat(257) },
  { name: "a 257-unit partition key of surrogate pairs", message: "x", key: "😀".repeat(128) + "k" },
  { name: "a partition key with a lone surrogate", message: "x", key: "a\uD800b" },
  { name: "a partition key that is not a string", message: "x", key: 5 as unknown as string },
  { name: "a string with a lone high surrogate", message: "a\uD800" },
  { name: "a string with a lone low surrogate", message: "\uDC00b" },
  { name: "undefined", message: undefined },
  { name: "a BigInt", message: 10n },
  { name: "a BigInt inside an object", message: { amount: 10n } },
  { name: "a cycle", message: cyclic() },
  { name: "a function", message: () => 1 },
  { name: "a symbol", message: Symbol("s") },
  { name: "NaN", message: NaN },
  { name: "NaN inside an object", message: { x: NaN } },
  { name: "Infinity inside an array", message: [1, -Infinity] },
  { name: "a Float32Array", message: new Float32Array(4) },
  { name: "an explicit hash key of 2^128", message: "x", key: { explicitHashKey: (1n << 128n).toString() } },
  { name: "a negative explicit hash key", message: "x", key: { explicitHashKey: "-1" } },
  { name: "an explicit hash key in exponent form", message: "x", key: { explicitHashKey: "1e3" } },
  { name: "a hexadecimal explicit hash key", message: "x", key: { explicitHashKey: "0x10" } },
  { name: "an explicit hash key with a leading zero", message: "x", key: { explicitHashKey: "01" } },
  { name: "an explicit hash key with a space", message: "x", key: { explicitHashKey: " 1" } },
  { name: "an empty explicit hash key", message: "x", key: { explicitHashKey: "" } },
  { name: "a fractional explicit hash key", message: "x", key: { explicitHashKey: "1.5" } },
  { name: "an explicit hash key that is a number", message: "x", key: { explicitHashKey: 7 as unknown as string } }
]

// Each exactly at a limit: taken, stored, and stored byte for byte.
const accepted: ReadonlyArray<Case & { readonly bytes: number }> = [
  { name: "exactly 1 MiB: a 1-byte key", message: new Uint8Array(MiB - 1), key: "k", bytes: MiB - 1 },
  {
    name: "exactly 1 MiB with a 2-byte-per-character key",
    message: new Uint8Array(MiB - 200),
    key: "é".repeat(100),
    bytes: MiB - 200
  },
  {
    name: "exactly 1 MiB with a 4-byte-per-character key",
    message: new Uint8Array(MiB - 256),
    key: "😀".repeat(64),
    bytes: MiB - 256
  },
  { name: "exactly 1 MiB of multi-byte text", message: "é".repeat(MiB / 2 - 1) + "x", key: "k", bytes: MiB - 1 },
  { name: "a 256-character partition key", message: "x", key: "k".repeat(256), bytes: 1 },
  { name: "a 256-unit key of surrogate pairs", message: "x", key: "😀".repeat(128), bytes: 1 },
  { name: "an explicit hash key of 0", message: "lowest", key: { partitionKey: "p", explicitHashKey: "0" }, bytes: 6 },
  {
    name: "an explicit hash key of 2^128 - 1",
    message: "highest",
    key: { partitionKey: "p", explicitHashKey: Record.MAX_EXPLICIT_HASH_KEY.toString() },
    bytes: 7
  }
]

describe("bad input", () => {
  it.live("refuses each bad record with InvalidRecord at enqueue and put, and the writer goes on unharmed", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({ stream: "input", linger: "5 millis" })
      for (const { key, message, name } of refused) {
        const viaEnqueue = yield* Effect.flip(writer.enqueue(message, key))
        const viaPut = yield* Effect.flip(writer.put(message, key))
        expect(viaEnqueue, name).toBeInstanceOf(InvalidRecord)
        expect(viaPut, name).toBeInstanceOf(InvalidRecord)
        expect((viaEnqueue as InvalidRecord).reason.length, name).toBeGreaterThan(0)
      }
      expect(yield* writer.stats).toMatchObject({ accepted: 0, requests: 0, bufferedRecords: 0 })

      const results: Array<KinesisWriter.RecordResult> = []
      for (const { key, message, name } of accepted) {
        const result = yield* writer.put(message, key).pipe(
          Effect.mapError((error) => new Error(`${name}: ${error.message}`))
        )
        results.push(result)
      }
      // The extreme hash keys land on the first and the last of the four shards.
      expect(results.slice(-2).map((result) => result.shardId)).toEqual([
        "shardId-000000000000",
        "shardId-000000000003"
      ])
      yield* writer.flush
      const stored = yield* local.readAll("input")
      expect(stored.length).toBe(accepted.length)
      const bySequence = new Map(stored.map((record) => [record.sequenceNumber, record]))
      accepted.forEach(({ bytes, key, name }, i) => {
        const record = bySequence.get(results[i].sequenceNumber)!
        expect(record.data.length, name).toBe(bytes)
        expect(record.partitionKey, name).toBe(typeof key === "string" ? key : key!.partitionKey)
      })
      expect(yield* writer.stats).toMatchObject({ accepted: accepted.length, delivered: accepted.length, failed: 0 })
    }).pipe(Effect.scoped, Effect.provide(LocalKinesis.layer({ streams: { input: 4 } }))))

  it.live("counts the record limit as the writer was told: a smaller maxRecordBytes, to the byte", () =>
    Effect.gen(function*() {
      const writer = yield* KinesisWriter.make({ stream: "small", linger: 0, maxRecordBytes: 100 })
      // "é" is 2 bytes: 49 of them and a 2-byte key make 100 bytes; one more byte of data makes 101.
      yield* writer.put("é".repeat(49), "ab")
      expect(yield* Effect.flip(writer.put("é".repeat(49) + "x", "ab"))).toBeInstanceOf(InvalidRecord)
      expect(yield* Effect.flip(writer.enqueue(new Uint8Array(99), "ab"))).toBeInstanceOf(InvalidRecord)
      yield* writer.enqueue(new Uint8Array(98), "ab")
      yield* writer.flush
      expect(yield* writer.stats).toMatchObject({ accepted: 2, delivered: 2 })
    }).pipe(Effect.scoped, Effect.provide(LocalKinesis.layer({ streams: { small: 1 } }))))
})

const MAX_BATCH_BYTES = 10 * MiB

// Options that make no sense, and a word each problem's message must name.
const nonsense: ReadonlyArray<readonly [string, Partial<KinesisWriter.Options>, string]> = [
  ["maxBatchRecords of 0", { maxBatchRecords: 0 }, "maxBatchRecords"],
  ["maxBatchRecords of 501", { maxBatchRecords: 501 }, "maxBatchRecords"],
  ["a fractional maxBatchRecords", { maxBatchRecords: 1.5 }, "maxBatchRecords"],
  ["maxBatchRecords of NaN", { maxBatchRecords: NaN }, "maxBatchRecords"],
  ["maxBatchBytes of 0", { maxBatchBytes: 0 }, "maxBatchBytes"],
  ["maxBatchBytes over 10 MiB", { maxBatchBytes: MAX_BATCH_BYTES + 1 }, "maxBatchBytes"],
  ["maxRecordBytes over 10 MiB", { maxRecordBytes: MAX_BATCH_BYTES + 1 }, "maxRecordBytes"],
  ["maxRecordBytes over maxBatchBytes", { maxRecordBytes: 2 * MiB, maxBatchBytes: MiB }, "maxRecordBytes"],
  ["maxBufferedRecords of 0", { maxBufferedRecords: 0 }, "maxBufferedRecords"],
  ["maxBufferedBytes below one record", { maxBufferedBytes: 1000 }, "maxBufferedBytes"],
  ["maxInFlight of 0", { maxInFlight: 0 }, "maxInFlight"],
  ["a negative linger", { linger: -1 }, "linger"],
  ["a linger that is not a duration", { linger: "soon" as never }, "linger"],
  ["a requestTimeout of 0", { requestTimeout: 0 }, "requestTimeout"],
  ["a negative shutdownTimeout", { shutdownTimeout: -5 }, "shutdownTimeout"],
  ["a retry that is not a Schedule", { retry: "often" as never }, "retry"],
  ["logBatches that is not a boolean", { logBatches: "yes" as never }, "logBatches"],
  ["an empty stream", { stream: "" }, "stream"],
  ["a stream name with a space", { stream: "has space" }, "stream"],
  ["an ARN without a stream name", { stream: "arn:aws:kinesis:us-east-1:123456789012:stream/" }, "stream"]
]

describe("nonsensical options", () => {
  const build = (options: Partial<KinesisWriter.Options>) =>
    Layer.build(KinesisWriter.layer({ stream: "s", ...options })).pipe(Effect.scoped, Effect.exit)

  const defect = (exit: Exit.Exit<unknown, unknown>): unknown =>
    Exit.isFailure(exit) && Cause.isDie(exit.cause) ? Cause.squash(exit.cause) : undefined

  it.live("kill the layer when it is built, with an InvalidOptions defect that names the option", () =>
    Effect.gen(function*() {
      for (const [name, options, word] of nonsense) {
        const error = defect(yield* build(options))
        expect(error, name).toBeInstanceOf(InvalidOptions)
        expect((error as InvalidOptions).problems.length, name).toBe(1)
        expect((error as InvalidOptions).message, name).toContain(word)
      }
      const all = defect(yield* build({ maxBatchRecords: 0, maxInFlight: 0, linger: -1 })) as InvalidOptions
      expect(all.problems.length).toBe(3)
      // The same embedded Kinesis still serves a writer with sound options.
      const exit = yield* build({ maxBatchRecords: 500, linger: 0 })
      expect(Exit.isSuccess(exit)).toBe(true)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { s: 1 } }))))
})
