import { DescribeStreamSummaryCommand, type ListShardsCommandInput, SplitShardCommand } from "@aws-sdk/client-kinesis"
import { ShardMap } from "@effect-kinesis/core"
import { LocalKinesis } from "@effect-kinesis/local"
import { Kinesis, type KinesisError } from "@effect-kinesis/writer"
import { Effect, Schedule } from "effect"
import { load } from "../src/internal/shardMaps.js"
import { describe, expect, it } from "./support/line.js"

const MAX = (1n << 128n) - 1n

// Tests that cross the network talk to the embedded Kinesis over HTTP, with the real clock.
describe("loading a shard map from the embedded Kinesis", () => {
  const putOne = (kinesis: Kinesis.Service, stream: string, partitionKey: string, explicitHashKey?: string) =>
    kinesis.putRecords({
      StreamName: stream,
      Records: [{
        Data: new TextEncoder().encode(partitionKey),
        PartitionKey: partitionKey,
        ...(explicitHashKey !== undefined ? { ExplicitHashKey: explicitHashKey } : {})
      }]
    }).pipe(Effect.map((answer) => answer.Records![0].ShardId))

  // Every shard's prediction for keys spread over the space is where Kinesis stores the record.
  const expectPredictions = (kinesis: Kinesis.Service, stream: string, map: ShardMap.ShardMap) =>
    Effect.forEach(Array.from({ length: 60 }, (_, i) => i), (i) =>
      Effect.gen(function*() {
        const key = ["k", "clé", "键", "🔑"][i % 4] + i
        expect(yield* putOne(kinesis, stream, key)).toBe(ShardMap.predict(map, key, undefined))
        const explicit = ((MAX / 59n) * BigInt(i)).toString()
        expect(yield* putOne(kinesis, stream, key, explicit)).toBe(ShardMap.predict(map, key, explicit))
      }), { concurrency: 4, discard: true })

  it.scopedLive("lists a stream's open shards, by name and by ARN, and predicts where Kinesis stores each record", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const kinesis = yield* Kinesis
      const map = yield* load(kinesis, { StreamName: "five" })
      expect(ShardMap.size(map)).toBe(5)
      // The open ranges cover the key space with no gap.
      expect(map.shards[0].startingHashKey).toBe(ShardMap.MIN_HASH_KEY)
      expect(map.shards[4].endingHashKey).toBe(ShardMap.MAX_HASH_KEY)
      for (let i = 1; i < 5; i++) {
        expect(BigInt(`0x${map.shards[i].startingHashKey}`)).toBe(BigInt(`0x${map.shards[i - 1].endingHashKey}`) + 1n)
      }
      expect(ShardMap.equals(yield* load(kinesis, { StreamARN: local.streamArn("five") }), map)).toBe(true)
      yield* expectPredictions(kinesis, "five", map)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { five: 5 } }))))

  it.scopedLive("leaves out the parent a split closed, and predicts onto its children", () =>
    Effect.gen(function*() {
      const kinesis = yield* Kinesis
      const before = yield* load(kinesis, { StreamName: "split" })
      const parent = before.shards[1]
      const middle = (BigInt(`0x${parent.startingHashKey}`) + BigInt(`0x${parent.endingHashKey}`)) / 2n
      yield* kinesis.send("SplitShard", (client, abortSignal) =>
        client.send(
          new SplitShardCommand({
            StreamName: "split",
            ShardToSplit: parent.shardId,
            NewStartingHashKey: middle.toString()
          }),
          { abortSignal }
        ))
      yield* kinesis.send("DescribeStreamSummary", (client, abortSignal) =>
        client.send(new DescribeStreamSummaryCommand({ StreamName: "split" }), { abortSignal })).pipe(
          Effect.map((summary) =>
            summary.StreamDescriptionSummary?.StreamStatus
          ),
          Effect.repeat({ until: (status) => status === "ACTIVE", schedule: Schedule.spaced("10 millis") })
        )
      const after = yield* load(kinesis, { StreamName: "split" })
      expect(ShardMap.equals(before, after)).toBe(false)
      expect(ShardMap.size(after)).toBe(4)
      expect(after.shards.map((s) => s.shardId)).not.toContain(parent.shardId)
      expect(ShardMap.shardOf(after, ShardMap.toHex(middle.toString()))).not.toBe(
        ShardMap.shardOf(after, ShardMap.toHex((middle - 1n).toString()))
      )
      yield* expectPredictions(kinesis, "split", after)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { split: 3 } }))))

  it.scopedLive("follows NextToken: the first page names the stream and filters, the next ones carry the token", () =>
    Effect.gen(function*() {
      const real = yield* Kinesis
      const calls: Array<ListShardsCommandInput> = []
      // kinesalite lists every shard at once (it ignores MaxResults): this service pages its answer, two by two.
      const paged: Kinesis.Service = {
        ...real,
        listShards: (input) =>
          Effect.gen(function*() {
            calls.push(input)
            const all = (yield* real.listShards!({ StreamName: "paged" })).Shards ?? []
            const from = input.NextToken === undefined ? 0 : Number(input.NextToken)
            const next = from + 2 < all.length ? String(from + 2) : undefined
            return { Shards: all.slice(from, from + 2), ...(next ? { NextToken: next } : {}), $metadata: {} }
          })
      }
      const map = yield* load(paged, { StreamName: "paged" })
      expect(ShardMap.equals(map, yield* load(real, { StreamName: "paged" }))).toBe(true)
      expect(ShardMap.size(map)).toBe(5)
      expect(calls).toEqual([
        { StreamName: "paged", ShardFilter: { Type: "AT_LATEST" } },
        { NextToken: "2" },
        { NextToken: "4" }
      ])
      // A service without listShards (written before it) is listed through `send`.
      const older: Kinesis.Service = { client: real.client, send: real.send, putRecords: real.putRecords }
      expect(ShardMap.equals(yield* load(older, { StreamName: "paged" }), map)).toBe(true)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { paged: 5 } }))))

  it.scopedLive("fails with a KinesisError that says whether to retry: denied access, a missing stream", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const kinesis = yield* Kinesis
      const failure = (effect: Effect.Effect<unknown, KinesisError>) => Effect.flip(effect)
      yield* local.proxy.setFaults({ error: { type: "AccessDeniedException" }, operations: ["ListShards"] })
      expect(yield* failure(load(kinesis, { StreamName: "denied" }))).toMatchObject({
        _tag: "KinesisError",
        operation: "ListShards",
        code: "AccessDeniedException",
        statusCode: 400,
        retriable: false
      })
      yield* local.proxy.setFaults({})
      expect(yield* failure(load(kinesis, { StreamName: "nosuchstream" }))).toMatchObject({
        code: "ResourceNotFoundException",
        retriable: false
      })
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { denied: 1 } }))))
})
