import { ShardMap } from "@effect-kinesis/core"
import { LocalKinesis } from "@effect-kinesis/local"
import { Aggregation, KinesisWriter } from "@effect-kinesis/writer"
import { Effect, Fiber } from "effect"
import { createRequire } from "node:module"
import { describe, expect, fork, it } from "./support/line.js"

// aws-kinesis-agg is CommonJS and its typings import packages this project does not install: typed here instead.
interface AwsUserRecord {
  readonly partitionKey: string
  readonly explicitPartitionKey?: string
  readonly data: string
}
interface AwsKinesisAgg {
  readonly deaggregateSync: (
    record: { data: string; partitionKey: string; sequenceNumber: string },
    computeChecksums: boolean,
    done: (error: Error | undefined, records?: Array<AwsUserRecord>) => void
  ) => void
}
const awsKinesisAgg: AwsKinesisAgg = createRequire(import.meta.url)("aws-kinesis-agg")

// What a consumer that is not ours reads from one stored Kinesis record: its user records (data and key, hex).
const awsRead = (data: Uint8Array, partitionKey: string): Array<{ readonly key: string; readonly data: string }> => {
  let out: Array<AwsUserRecord> | undefined
  awsKinesisAgg.deaggregateSync(
    { data: Buffer.from(data).toString("base64"), partitionKey, sequenceNumber: "1" },
    true,
    (error, records) => {
      if (error !== undefined && error !== null) throw error
      out = records
    }
  )
  return out!.map((record) => ({ key: record.partitionKey, data: Buffer.from(record.data, "base64").toString("hex") }))
}

const hex = (bytes: Uint8Array) => Buffer.from(bytes).toString("hex")
const utf8 = (text: string) => new TextEncoder().encode(text)

describe("KPL aggregation against the embedded Kinesis", () => {
  it.scopedLive("aws-kinesis-agg reads back every user record, byte for byte, from what the writer stored", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const expected: Array<{ readonly key: string; readonly data: string }> = []
      const writer = yield* KinesisWriter.make({ stream: "agg", aggregate: { maxBytes: 4096 } })
      const keys = ["clé-é", "键", "🔑key", "plain", ...Array.from({ length: 40 }, (_, i) => `k${i}`)]
      for (let i = 0; i < 3000; i++) {
        const key = keys[i % keys.length]
        const data = i % 97 === 0 ? new Uint8Array(0) : utf8(`record ${i} ${"x".repeat(i % 150)}`)
        expected.push({ key, data: hex(data) })
        yield* writer.enqueue(data, key)
      }
      // Explicit hash keys at the ends of the key space; one record too large to share an aggregate.
      for (const explicitHashKey of ["0", "340282366920938463463374607431768211455"]) {
        expected.push({ key: "ehk", data: hex(utf8(explicitHashKey)) })
        yield* writer.enqueue(explicitHashKey, { partitionKey: "ehk", explicitHashKey })
      }
      const large = new Uint8Array(5000).fill(7)
      expected.push({ key: "large", data: hex(large) })
      yield* writer.enqueue(large, "large")
      yield* writer.flush

      const stored = yield* local.readStored("agg")
      const read = stored.flatMap((record) => awsRead(record.data, record.partitionKey))
      const sort = (list: ReadonlyArray<{ readonly key: string; readonly data: string }>) =>
        list.map((record) => `${record.key}/${record.data}`).sort()
      expect(sort(read)).toEqual(sort(expected))
      // Packed up to the bound: far fewer Kinesis records than user records, none above the bound.
      const aggregates = stored.filter((record) => Aggregation.isAggregated(record.data))
      expect(stored.length).toBeLessThan(expected.length / 10)
      for (const record of aggregates) expect(record.data.length).toBeLessThanOrEqual(4096)
      expect(aggregates.filter((record) => record.data.length > 4096 - 200).length).toBeGreaterThan(
        aggregates.length / 2
      )
      expect(stored.find((record) => record.partitionKey === "large")?.data.length).toBe(5000)
      // readAll unpacks them as a KCL consumer does.
      expect(yield* local.readAll("agg")).toHaveLength(expected.length)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { agg: 4 } }))))

  it.scopedLive("every user record's hash key is in the range of the shard that stored its aggregate, across a split", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({ stream: "kcl", aggregate: { maxBytes: 8192 }, linger: "20 millis" })
      const writing = yield* fork(Effect.gen(function*() {
        for (let i = 0; i < 40_000; i++) yield* writer.enqueue(`r${i}`)
        yield* writer.flush
      }))
      yield* Effect.sleep("300 millis")
      const [first] = yield* local.listShards("kcl")
      yield* local.splitShard("kcl", first.ShardId!)
      yield* Fiber.join(writing)

      const shards = yield* local.listShards("kcl")
      const range = new Map(shards.map((shard) => [shard.ShardId!, {
        start: ShardMap.toHex(shard.HashKeyRange!.StartingHashKey!),
        end: ShardMap.toHex(shard.HashKeyRange!.EndingHashKey!)
      }]))
      const inRange = (shardId: string, partitionKey: string, explicitHashKey: string | undefined) => {
        const key = ShardMap.hashKeyOf(partitionKey, explicitHashKey)
        const { end, start } = range.get(shardId)!
        return key >= start && key <= end
      }
      // What a KCL 2.x consumer keeps: the user records whose hash keys the storing shard holds.
      const kept = new Set<string>()
      let misplaced = 0
      for (const record of yield* local.readAll("kcl")) {
        if (inRange(record.shardId, record.partitionKey, record.explicitHashKey)) kept.add(text(record.data))
        else misplaced++
      }
      expect(kept.size).toBe(40_000)
      // Only aggregates in flight at the split can land on a child that does not hold all their records; those
      // records were sent again, so the KCL still sees each one.
      expect(misplaced).toBeLessThan(4000)
      const children = shards.filter((shard) => shard.ParentShardId === first.ShardId)
      expect(children).toHaveLength(2)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { kcl: 2 } }))))

  it.scopedLive("put reports the sub-sequence number; a retried aggregate retries every user record in it", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      yield* local.proxy.setFaults({ failIndexes: { indexes: [0], times: 1 } })
      const writer = yield* KinesisWriter.make({ stream: "sub", aggregate: true, linger: "50 millis" })
      const results = yield* Effect.forEach(
        Array.from({ length: 20 }, (_, i) => i),
        (i) => writer.put(`p${i}`, "same-key"),
        { concurrency: "unbounded" }
      )
      expect(new Set(results.map((result) => result.sequenceNumber)).size).toBe(1)
      expect(results.map((result) => result.subSequenceNumber).sort((a, b) => a! - b!)).toEqual(
        Array.from({ length: 20 }, (_, i) => i)
      )
      const stats = yield* writer.stats
      expect(stats).toMatchObject({ delivered: 20, retried: 20, requests: 2 })
      for (const result of results) expect(result.attempts).toBe(2)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { sub: 1 } }))))

  it.scopedLive("a failed aggregate reports each of its user records, never the aggregate as one", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      yield* local.proxy.setFaults({ error: { type: "AccessDeniedException" } })
      const writer = yield* KinesisWriter.make({ stream: "denied", aggregate: true, linger: "20 millis" })
      for (let i = 0; i < 30; i++) yield* writer.enqueue(`d${i}`)
      const error = yield* writer.flush.pipe(Effect.flip)
      expect(error.failures.map((failure) => text(failure.data)).sort()).toEqual(
        Array.from({ length: 30 }, (_, i) => `d${i}`).sort()
      )
      expect(error.failures.every((failure) => failure.code === "AccessDeniedException")).toBe(true)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { denied: 1 } }))))
})

const text = (data: Uint8Array) => new TextDecoder().decode(data)
