import type { KinesisClient, PutRecordsRequestEntry } from "@aws-sdk/client-kinesis"
import { Aggregation, Hash } from "@effect-kinesis/core"
import { LocalKinesis, type StoredRecord, StreamReader } from "@effect-kinesis/local"
import { Kinesis } from "@effect-kinesis/writer"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"

const utf8 = new TextEncoder()
const text = (data: Uint8Array) => new TextDecoder().decode(data)
const LOW = "0"
const HIGH = ((1n << 128n) - 1n).toString()

const plain = (id: string, explicitHashKey = LOW): PutRecordsRequestEntry => ({
  Data: utf8.encode(id),
  PartitionKey: `key-${id}`,
  ExplicitHashKey: explicitHashKey
})

// One KPL aggregate of the ids, each with its own partition key, all at `explicitHashKey`.
const aggregated = (ids: ReadonlyArray<string>, explicitHashKey = LOW): PutRecordsRequestEntry => {
  const aggregate = Aggregation.make()
  for (const id of ids) {
    Aggregation.add(aggregate, { partitionKey: `key-${id}`, explicitHashKey, data: utf8.encode(id) })
  }
  return {
    Data: Aggregation.encode(aggregate),
    PartitionKey: Aggregation.PARTITION_KEY,
    ExplicitHashKey: explicitHashKey
  }
}

const put = (stream: string, entries: Array<PutRecordsRequestEntry>) =>
  Effect.flatMap(Kinesis, (kinesis) => kinesis.putRecords({ StreamName: stream, Records: entries }))

const client = Effect.map(Kinesis, (kinesis): KinesisClient => kinesis.client)

const readAll = (stream: string, options?: Omit<StreamReader.Options, "follow">) =>
  Effect.flatMap(client, (client) => Effect.promise(() => StreamReader.readAll(client, stream, options)))

const shardsAndIds = (records: ReadonlyArray<StoredRecord>) =>
  records.map((record) => [record.shardId, text(record.data)])

describe("StreamReader", () => {
  it.live("reads every shard, parents before their children, and unpacks aggregates into their user records", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      yield* put("split", [plain("0"), aggregated(["1", "2"]), plain("3")])
      const [lower, upper] = yield* local.splitShard("split", "shardId-000000000000")
      yield* put("split", [plain("5", HIGH), plain("4")])

      const all = yield* readAll("split")
      expect(shardsAndIds(all)).toEqual([
        ["shardId-000000000000", "0"],
        ["shardId-000000000000", "1"],
        ["shardId-000000000000", "2"],
        ["shardId-000000000000", "3"],
        [lower.ShardId, "4"],
        [upper.ShardId, "5"]
      ])
      const [one, two] = all.filter((record) => record.subSequenceNumber !== undefined)
      expect([one.subSequenceNumber, one.partitionKey, one.explicitHashKey]).toEqual([0, "key-1", LOW])
      expect([two.subSequenceNumber, two.sequenceNumber]).toEqual([1, one.sequenceNumber])
      expect(one.arrivalTime).toBeInstanceOf(Date)

      const stored = yield* readAll("split", { unpack: false })
      expect(stored).toHaveLength(5)
      expect(Aggregation.isAggregated(stored[1].data)).toBe(true)
      expect(stored[1].partitionKey).toBe(Aggregation.PARTITION_KEY)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { split: 1 } }))))

  it.live("gives a malformed aggregate whole and says why", () =>
    Effect.gen(function*() {
      // The magic number and a right digest around a message whose first field runs past its end.
      const message = Uint8Array.of(0x0a, 0x05, 0x61)
      const data = Uint8Array.from([...Aggregation.MAGIC, ...message, ...Hash.md5(message)])
      yield* put("broken", [{ Data: data, PartitionKey: "k" }])
      const [record, ...rest] = yield* readAll("broken")
      expect(rest).toEqual([])
      expect(record.data).toEqual(data)
      expect(record.subSequenceNumber).toBeUndefined()
      expect(record.malformed).toMatch(/malformed/)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { broken: 1 } }))))

  it.live("stops after `limit` user records", () =>
    Effect.gen(function*() {
      yield* put("limited", [plain("0"), aggregated(["1", "2", "3"]), plain("4")])
      expect((yield* readAll("limited", { limit: 3 })).map((record) => text(record.data))).toEqual(["0", "1", "2"])
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { limited: 1 } }))))

  it.live("starts at the tip with `latest`, and at a moment with `at-timestamp` on kinesalite", () =>
    Effect.gen(function*() {
      yield* put("timed", [plain("0")])
      yield* Effect.sleep("50 millis")
      const timestamp = new Date()
      yield* Effect.sleep("50 millis")
      yield* put("timed", [plain("1")])
      expect(yield* readAll("timed", { from: "latest" })).toEqual([])
      const since = yield* readAll("timed", { from: "at-timestamp", timestamp, kinesalite: true })
      expect(since.map((record) => text(record.data))).toEqual(["1"])
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { timed: 1 } }))))

  it.live("follows new records until the signal aborts, then ends without an error", () =>
    Effect.gen(function*() {
      const stop = new AbortController()
      const pages = StreamReader.pages(yield* client, "followed", { from: "latest", follow: true, signal: stop.signal })
      const first = Effect.promise(() => pages.next())
      const [, page] = yield* Effect.all([
        Effect.delay(put("followed", [plain("0"), plain("1")]), "300 millis"),
        first
      ], { concurrency: 2 })
      expect(page.done === true ? [] : page.value.map((record) => text(record.data))).toEqual(["0", "1"])
      const next = Effect.promise(() => pages.next())
      stop.abort()
      expect((yield* next).done).toBe(true)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { followed: 1 } }))))

  it.live("fails with a ReadError naming the operation and the code", () =>
    Effect.gen(function*() {
      const kinesisClient = yield* client
      const error = yield* Effect.flip(Effect.tryPromise(() => StreamReader.readAll(kinesisClient, "missing")))
      const cause = error.error
      expect(cause).toBeInstanceOf(StreamReader.ReadError)
      expect(cause).toMatchObject({ operation: "ListShards", code: "ResourceNotFoundException" })
    }).pipe(Effect.provide(LocalKinesis.layer())))
})
