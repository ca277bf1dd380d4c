import type { PutRecordsResultEntry } from "@aws-sdk/client-kinesis"
import { LocalKinesis } from "@effect-kinesis/local"
import { Kinesis, KinesisWriter } from "@effect-kinesis/writer"
import { Effect, Layer, Schedule } from "effect"
import { describe, expect, it } from "./support/line.js"

// Tests that cross the network talk to the embedded Kinesis over HTTP, with the real clock.
const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")
const utf8 = (text: string) => new TextEncoder().encode(text)

// Deterministic bytes, so a failure can be reproduced.
const bytes = (seed: number, length: number) => {
  const out = new Uint8Array(length)
  let state = seed * 2654435761 >>> 0
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0
    out[i] = state >>> 24
  }
  return out
}

describe("KinesisWriter against the embedded Kinesis", () => {
  it.scopedLive("stores 10,000 mixed records over 4 shards, each byte for byte, exactly once", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const expected = new Map<string, number>() // data (hex) + key -> how many
      const remember = (data: Uint8Array, key: string | undefined) => {
        const id = `${hex(data)}/${key ?? "*"}`
        expected.set(id, (expected.get(id) ?? 0) + 1)
      }
      yield* Effect.gen(function*() {
        const writer = yield* KinesisWriter.make({ stream: "mixed" })
        for (let i = 0; i < 10_000; i++) {
          const key = i % 5 === 4 ? undefined : ["clé-é", "键", "🔑key", "plain", `k${i % 97}`][i % 5]
          let message: unknown
          let data: Uint8Array
          switch (i % 4) {
            case 0:
              message = { i, name: "ünïcødé ✓", nested: { list: [1, 2.5, null, true], emoji: "😀" } }
              data = utf8(JSON.stringify(message))
              break
            case 1:
              message = `text ${i}: 日本語のテキスト and emoji 🎉`
              data = utf8(message as string)
              break
            case 2:
              data = bytes(i, 1 + (i % 300))
              message = data
              break
            default:
              message = i
              data = utf8(String(i))
          }
          remember(data, key)
          yield* writer.enqueue(message, key)
        }
        yield* writer.flush
      }).pipe(Effect.scoped)
      const stored = yield* local.readAll("mixed")
      expect(stored).toHaveLength(10_000)
      for (const record of stored) {
        const withKey = `${hex(record.data)}/${record.partitionKey}`
        const id = expected.has(withKey) ? withKey : `${hex(record.data)}/*`
        const left = expected.get(id)
        expect(left, `unexpected record ${id}`).toBeGreaterThan(0)
        expected.set(id, left! - 1)
      }
      expect([...expected.values()].every((count) => count === 0)).toBe(true)
      expect(new Set(stored.map((record) => record.shardId)).size).toBe(4)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { mixed: 4 } }))))

  it.scopedLive("put returns the shard and sequence number the stream holds the record under", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0 })
      const results = yield* Effect.forEach(["a", "b", "c"], (name) => writer.put(name, name), { concurrency: 3 })
      const stored = yield* local.readAll("s")
      for (const [i, name] of ["a", "b", "c"].entries()) {
        const record = stored.find((r) => r.sequenceNumber === results[i].sequenceNumber)
        expect(record).toMatchObject({ shardId: results[i].shardId, partitionKey: name, data: utf8(name) })
        expect(results[i].attempts).toBe(1)
      }
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { s: 2 } }))))

  it.scopedLive("writes to a stream given by ARN", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({ stream: local.streamArn("by-arn"), linger: 0 })
      yield* writer.put("through an ARN", "k")
      const stored = yield* local.readAll("by-arn")
      expect(stored.map((record) => new TextDecoder().decode(record.data))).toEqual(["through an ARN"])
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { "by-arn": 1 } }))))

  it.scopedLive("routes a record by its explicit hash key", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const shards = yield* local.listShards("routed")
      const writer = yield* KinesisWriter.make({ stream: "routed", linger: 0 })
      for (const shard of shards) {
        const result = yield* writer.put("x", {
          partitionKey: "same key",
          explicitHashKey: shard.HashKeyRange!.StartingHashKey!
        })
        expect(result.shardId).toBe(shard.ShardId)
      }
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { routed: 3 } }))))

  it.scopedLive("stores a record of exactly maxRecordBytes, and a batch of exactly 5 MiB in one request", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const MiB = 1024 * 1024
      // Shard-blind: five MiB in one request is the batch bound under test, more than a shard takes in a second.
      const writer = yield* KinesisWriter.make({ stream: "big", linger: "1 hour", shardAware: false })
      for (let i = 0; i < 5; i++) yield* writer.enqueue(bytes(i, MiB - 2), `k${i}`) // 1 MiB each with the key
      const refused = yield* writer.enqueue(bytes(9, MiB - 1), "k9").pipe(Effect.flip)
      expect(refused._tag).toBe("InvalidRecord")
      yield* writer.flush
      expect(yield* writer.stats).toMatchObject({ requests: 1, delivered: 5, failed: 0 })
      const stored = yield* local.readAll("big")
      expect(stored.map((record) => record.data.length + record.partitionKey.length)).toEqual(Array(5).fill(MiB))
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { big: 1 } }))))

  it.scopedLive("reports a missing stream as RecordFailed at once, without retrying", () =>
    Effect.gen(function*() {
      const writer = yield* KinesisWriter.make({ stream: "no-such-stream", linger: 0 })
      const error = yield* writer.put("x", "k").pipe(Effect.flip)
      expect(error).toMatchObject({
        _tag: "RecordFailed",
        code: "ResourceNotFoundException",
        retriable: false,
        attempts: 1
      })
      expect((yield* writer.stats).requests).toBe(1)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: {} }))))

  it.scopedLive("re-sends entries that a partial failure rejected, until every record is stored once", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const real = yield* Kinesis
      const seen = new Set<string>()
      // Rejects every seventh record the first time it comes, as throttling would, and forwards the rest over HTTP.
      const flaky: Kinesis.Service = {
        ...real,
        putRecords: (input) =>
          Effect.gen(function*() {
            const records = input.Records ?? []
            const reject = records.map((record) => {
              const text = new TextDecoder().decode(record.Data)
              const first = !seen.has(text)
              seen.add(text)
              return first && Number(text) % 7 === 0
            })
            const forwarded = records.filter((_, i) => !reject[i])
            const answer = forwarded.length === 0
              ? { Records: [] }
              : yield* real.putRecords({ ...input, Records: forwarded })
            let next = 0
            const entries: Array<PutRecordsResultEntry> = reject.map((rejected) =>
              rejected ?
                { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded" } :
                answer.Records![next++]
            )
            return { $metadata: {}, FailedRecordCount: reject.filter(Boolean).length, Records: entries }
          })
      }
      yield* Effect.gen(function*() {
        const writer = yield* KinesisWriter
        for (let i = 0; i < 2_000; i++) yield* writer.enqueue(i, `k${i}`)
        yield* writer.flush
        expect((yield* writer.stats).retried).toBe(Math.ceil(2_000 / 7))
      }).pipe(
        Effect.provide(KinesisWriter.layer({ stream: "flaky", retry: Schedule.spaced("10 millis") })),
        Effect.provide(Layer.succeed(Kinesis, flaky))
      )
      const stored = (yield* local.readAll("flaky")).map((record) => Number(new TextDecoder().decode(record.data)))
      expect(stored.sort((a, b) => a - b)).toEqual(Array.from({ length: 2_000 }, (_, i) => i))
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { flaky: 2 } }))))

  it.scopedLive("releasing the writer's layer drains it before the program goes on", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      yield* Effect.gen(function*() {
        const writer = yield* KinesisWriter
        for (let i = 0; i < 1_234; i++) yield* writer.enqueue(`record ${i}`)
      }).pipe(Effect.provide(KinesisWriter.layer({ stream: "drained", linger: "1 hour" })))
      expect(yield* local.readAll("drained")).toHaveLength(1_234)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { drained: 2 } }))))
})
