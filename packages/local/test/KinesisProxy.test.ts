import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
  SplitShardCommand
} from "@aws-sdk/client-kinesis"
import { KinesisProxy, LocalKinesis } from "@effect-kinesis/local"
import { Kinesis, KinesisError } from "@effect-kinesis/writer"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import kinesalite from "kinesalite"
import type { AddressInfo } from "node:net"
import { hashKeyOf, MAX_HASH_KEY, shardFor } from "../src/internal/hashKey.js"

const utf8 = new TextEncoder()

const entries = (count: number, from = 0, dataBytes = 8): Array<PutRecordsRequestEntry> =>
  Array.from({ length: count }, (_, i) => ({
    Data: utf8.encode(String(from + i).padStart(dataBytes, "0")),
    PartitionKey: `key-${from + i}`
  }))

const put = (stream: string, records: Array<PutRecordsRequestEntry>) =>
  Effect.flatMap(Kinesis, (kinesis) => kinesis.putRecords({ StreamName: stream, Records: records }))

const failure = <A, R>(effect: Effect.Effect<A, KinesisError, R>) =>
  Effect.flip(effect).pipe(Effect.filterOrDie((error) => error instanceof KinesisError, () => "not a KinesisError"))

// A clock the test moves by hand, so that token buckets fill exactly as the test says.
const manualClock = () => {
  let time = 1_000_000
  return { now: () => time, advance: (millis: number) => void (time += millis) }
}

const raw = (endpoint: string, operation: string, request: unknown) =>
  Effect.promise(async () => {
    const response = await fetch(endpoint, {
      method: "POST",
      headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `Kinesis_20131202.${operation}` },
      body: JSON.stringify(request)
    })
    const body = (await response.json()) as { readonly __type?: unknown; readonly message?: unknown }
    return { status: response.status, errorType: response.headers.get("x-amzn-errortype"), body }
  })

// kinesalite of its own that takes `updateStreamMs` to split a shard, as AWS takes a while, behind a proxy with AWS's
// limits on `now`; with a client through the proxy and one straight to kinesalite (reshapings the proxy does not see).
const slowReshaping = (now: () => number) =>
  Effect.gen(function*() {
    const server = yield* Effect.acquireRelease(
      Effect.async<ReturnType<typeof kinesalite>>((resume) => {
        const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 300, shardLimit: 100 })
        server.listen(0, "127.0.0.1", () => resume(Effect.succeed(server)))
      }),
      (server) => Effect.async<void>((resume) => void server.close(() => resume(Effect.void)))
    )
    const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
    const proxy = yield* KinesisProxy.make({ target, limits: true, now })
    const config = { region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }
    const viaProxy = yield* Kinesis.make({ ...config, endpoint: proxy.endpoint })
    const direct = yield* Kinesis.make({ ...config, endpoint: target })
    const active = (stream: string) =>
      direct.send("DescribeStreamSummary", (client, abortSignal) =>
        client.send(new DescribeStreamSummaryCommand({ StreamName: stream }), { abortSignal })).pipe(
          Effect.repeat({
            until: (summary) =>
              summary.StreamDescriptionSummary?.StreamStatus === "ACTIVE",
            schedule: Schedule.spaced("10 millis")
          })
        )
    const createStream = (stream: string) =>
      Effect.zipRight(
        direct.send("CreateStream", (client, abortSignal) =>
          client.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }), { abortSignal })),
        active(stream)
      )
    const split = (kinesis: Kinesis.Service, stream: string) =>
      kinesis.send("SplitShard", (client, abortSignal) =>
        client.send(
          new SplitShardCommand({
            StreamName: stream,
            ShardToSplit: "shardId-000000000000",
            NewStartingHashKey: HALF.toString()
          }),
          { abortSignal }
        ))
    // Which shard took each record, or "refused: <the shard the message names>".
    const outcomes = (stream: string, count: number, from: number, base: bigint) =>
      viaProxy.putRecords({
        StreamName: stream,
        Records: entries(count, from).map((entry, i) => ({
          ...entry,
          ExplicitHashKey: (base + BigInt(i) * (1n << 100n)).toString()
        }))
      }).pipe(Effect.map((response) =>
        response.Records!.map((entry) =>
          entry.ErrorCode === undefined ? entry.ShardId! : `refused: ${/shard (\S+)/.exec(entry.ErrorMessage!)?.[1]}`
        )
      ))
    return { proxy, viaProxy, direct, active, createStream, split, outcomes }
  })

const HALF = 1n << 127n
const PARENT = "shardId-000000000000"
const [LOWER, UPPER] = ["shardId-000000000001", "shardId-000000000002"]
const same = (count: number, value: string) => Array.from({ length: count }, () => value)

describe("KinesisProxy", () => {
  it.live("places each record on the shard kinesalite stores it on, by MD5 or explicit hash key", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const shards = (yield* local.listShards("placed")).map((shard) => ({
        shardId: shard.ShardId!,
        start: BigInt(shard.HashKeyRange!.StartingHashKey!),
        end: BigInt(shard.HashKeyRange!.EndingHashKey!)
      }))
      const records: Array<PutRecordsRequestEntry> = [
        ...entries(300).map((entry, i) => ({ ...entry, PartitionKey: `é-${i}-${"x".repeat(i % 40)}` })),
        { Data: utf8.encode("lowest"), PartitionKey: "a", ExplicitHashKey: "0" },
        { Data: utf8.encode("highest"), PartitionKey: "a", ExplicitHashKey: MAX_HASH_KEY.toString() },
        { Data: utf8.encode("edge"), PartitionKey: "a", ExplicitHashKey: shards[1].start.toString() }
      ]
      const response = yield* put("placed", records)
      expect(response.FailedRecordCount).toBe(0)
      const expected = records.map((record) =>
        shardFor(shards, hashKeyOf(record.PartitionKey!, record.ExplicitHashKey)!)!.shardId
      )
      expect(response.Records!.map((entry) => entry.ShardId)).toEqual(expected)
      expect(expected.slice(-3)).toEqual([shards[0].shardId, shards[3].shardId, shards[1].shardId])
      const counted = new Map<string, number>()
      for (const entry of (yield* local.proxy.counters).shards) counted.set(entry.shardId, entry.accepted)
      for (const shard of shards) {
        expect(counted.get(shard.shardId)).toBe(expected.filter((id) => id === shard.shardId).length)
      }
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { placed: 4 }, limits: true }))))

  it.live("refuses records beyond 1,000 per second per shard with AWS's message, and does not store them", () => {
    const clock = manualClock()
    return Effect.gen(function*() {
      const local = yield* LocalKinesis
      const first = yield* put("limited", entries(500, 0))
      const second = yield* put("limited", entries(500, 500))
      const third = yield* put("limited", entries(500, 1000))
      expect([first.FailedRecordCount, second.FailedRecordCount, third.FailedRecordCount]).toEqual([0, 0, 500])
      expect(new Set(third.Records!.map((entry) => `${entry.ErrorCode}: ${entry.ErrorMessage}`))).toEqual(
        new Set([
          "ProvisionedThroughputExceededException: " +
          "Rate exceeded for shard shardId-000000000000 in stream limited under account 000000000000."
        ])
      )
      clock.advance(250)
      const refilled = yield* put("limited", entries(500, 1500))
      // A quarter of a second earns 250 records: the first 250 pass, the rest are refused, in order.
      expect(refilled.Records!.map((entry) => entry.ErrorCode === undefined)).toEqual(
        Array.from({ length: 500 }, (_, i) => i < 250)
      )
      expect(refilled.FailedRecordCount).toBe(250)
      const stored = yield* local.readAll("limited")
      expect(stored.length).toBe(1250)
      const counters = yield* local.proxy.counters
      expect(counters.records).toMatchObject({ offered: 2000, stored: 1250, throttled: 750, faulted: 0 })
      expect(counters.shards.map(({ accepted, second, throttled }) => ({ second, accepted, throttled }))).toEqual([
        { second: 1000, accepted: 1250, throttled: 750 }
      ])
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { limited: 1 }, limits: true, now: clock.now })))
  })

  it.live("saves up at most one second of capacity, and counts bytes (data + key) against 1 MiB per second", () => {
    const clock = manualClock()
    return Effect.gen(function*() {
      clock.advance(10_000)
      const burst = yield* put("bytes", entries(500, 0, 1))
      // 10 idle seconds still buy only one second of records: 1,000.
      expect(burst.FailedRecordCount).toBe(0)
      expect((yield* put("bytes", entries(501, 500, 1))).FailedRecordCount).toBe(1)
      clock.advance(1000)
      // Records of 102,400 data bytes and a 6-byte key: 10 fit in 1 MiB (1,024,060 bytes), the 11th does not.
      const big = yield* put(
        "bytes",
        entries(11, 0, 102_400).map((entry, i) => ({ ...entry, PartitionKey: `big-${i}` }))
      )
      expect(big.Records!.map((entry) => entry.ErrorCode ?? "ok")).toEqual([
        ...Array.from({ length: 10 }, () => "ok"),
        "ProvisionedThroughputExceededException"
      ])
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { bytes: 1 }, limits: true, now: clock.now })))
  })

  it.live("takes limits per stream, and changes them while running", () => {
    const clock = manualClock()
    return Effect.gen(function*() {
      const proxy = yield* KinesisProxy
      expect((yield* put("slow", entries(20))).FailedRecordCount).toBe(10)
      expect((yield* put("free", entries(500))).FailedRecordCount).toBe(0)
      expect((yield* put("free", entries(500))).FailedRecordCount).toBe(0)
      yield* proxy.setLimits(false)
      expect((yield* put("slow", entries(500))).FailedRecordCount).toBe(0)
      yield* proxy.setLimits({ recordsPerSecond: 5 })
      expect((yield* put("free", entries(8))).FailedRecordCount).toBe(3)
    }).pipe(
      Effect.provide(
        LocalKinesis.layer({
          streams: { slow: 1, free: 1 },
          limits: { streams: { slow: { recordsPerSecond: 10 }, free: false } },
          now: clock.now
        })
      )
    )
  })

  it.live("fails the same records for the same seed, and chosen indexes exactly", () =>
    Effect.gen(function*() {
      const proxy = yield* KinesisProxy
      const failedIndexes = (response: PutRecordsCommandOutput) =>
        response.Records!.flatMap((entry, i) => (entry.ErrorCode === undefined ? [] : [`${i}:${entry.ErrorCode}`]))
      yield* proxy.setFaults({ seed: 7, throttle: 0.3, internalFailure: 0.1 })
      const once = failedIndexes(yield* put("faults", entries(200)))
      yield* proxy.setFaults({ seed: 7, throttle: 0.3, internalFailure: 0.1 })
      const again = failedIndexes(yield* put("faults", entries(200)))
      yield* proxy.setFaults({ seed: 8, throttle: 0.3, internalFailure: 0.1 })
      const other = failedIndexes(yield* put("faults", entries(200)))
      expect(again).toEqual(once)
      expect(other).not.toEqual(once)
      // 40% of 200 records, within a wide margin: the draws are random, not a pattern.
      expect(once.length).toBeGreaterThan(50)
      expect(once.length).toBeLessThan(110)
      expect(once.some((entry) => entry.endsWith("InternalFailure"))).toBe(true)

      yield* proxy.setFaults({
        failIndexes: { indexes: [0, 3], code: "ProvisionedThroughputExceededException", times: 1 }
      })
      expect(failedIndexes(yield* put("faults", entries(5)))).toEqual([
        "0:ProvisionedThroughputExceededException",
        "3:ProvisionedThroughputExceededException"
      ])
      expect(failedIndexes(yield* put("faults", entries(5)))).toEqual([])
      const counters = yield* proxy.counters
      expect(counters.faults.failIndexes).toBe(2)
      expect(counters.records.faulted).toBe(once.length + again.length + other.length + 2)
      expect(counters.records.stored).toBe(600 - once.length - again.length - other.length + 8)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { faults: 2 } }))))

  it.live("answers whole requests with 500 InternalFailure and 400 AWS errors, in AWS's JSON error format", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const proxy = local.proxy
      yield* proxy.setFaults({ serverError: 1 })
      const internal = yield* failure(put("errors", entries(3)))
      expect(internal).toMatchObject({ code: "InternalFailure", statusCode: 500, retriable: true })
      for (const type of ["AccessDeniedException", "ResourceNotFoundException", "KMSAccessDeniedException"]) {
        yield* proxy.setFaults({ error: { type } })
        const denied = yield* failure(put("errors", entries(3)))
        expect(denied).toMatchObject({ code: type, statusCode: 400, retriable: false })
        const answer = yield* raw(local.endpoint, "PutRecords", { StreamName: "errors", Records: [] })
        expect(answer.status).toBe(400)
        expect(answer.errorType).toBe(type)
        expect(answer.body.__type).toBe(type)
        expect(typeof answer.body.message).toBe("string")
      }
      yield* proxy.setFaults({ error: { type: "KMSThrottlingException", message: "slow down" } })
      expect(yield* failure(put("errors", entries(3)))).toMatchObject({
        code: "KMSThrottlingException",
        detail: "slow down",
        retriable: true
      })
      yield* proxy.setFaults({})
      expect((yield* put("errors", entries(3))).FailedRecordCount).toBe(0)
      expect((yield* local.readAll("errors")).length).toBe(3)
      expect((yield* proxy.counters).faults).toMatchObject({ serverError: 1, error: 7 })
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { errors: 1 } }))))

  it.live("hangs until the client gives up, then serves the next request; a delay holds a request back", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      yield* local.proxy.setFaults({ hang: { times: 1 }, delay: { millis: 300, times: 1 } })
      const start = Date.now()
      const hung = yield* put("hang", entries(2)).pipe(Effect.timeout("700 millis"), Effect.exit)
      expect(Exit.isFailure(hung) && Cause.isFailType(hung.cause) && hung.cause.error._tag === "TimeoutException")
        .toBe(true)
      expect(Date.now() - start).toBeGreaterThanOrEqual(690)
      expect((yield* put("hang", entries(2))).FailedRecordCount).toBe(0)
      const stored = yield* local.readAll("hang")
      expect(stored.length).toBe(2)
      expect((yield* local.proxy.counters).faults).toMatchObject({ hang: 1, delay: 1 })

      yield* local.proxy.setFaults({ delay: { millis: 400 } })
      const before = Date.now()
      yield* put("hang", entries(1))
      expect(Date.now() - before).toBeGreaterThanOrEqual(390)
      // A client that leaves during the delay: the request is dropped, not stored.
      yield* put("hang", entries(5, 100)).pipe(Effect.timeout("100 millis"), Effect.exit)
      yield* Effect.sleep("500 millis")
      expect((yield* local.readAll("hang")).length).toBe(3)
      expect((yield* local.proxy.counters).abandoned).toBe(1)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { hang: 1 } }))))

  it.live("resets before forwarding (nothing stored) and after forwarding (stored, never answered)", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      yield* local.proxy.setFaults({ resetBeforeForward: 1 })
      const before = yield* failure(put("resets", entries(4, 0)))
      expect(before.retriable).toBe(true)
      expect((yield* local.readAll("resets")).length).toBe(0)
      yield* local.proxy.setFaults({ resetAfterForward: 1 })
      const after = yield* failure(put("resets", entries(4, 10)))
      expect(after.retriable).toBe(true)
      expect((yield* local.readAll("resets")).map((record) => record.partitionKey).sort()).toEqual(
        ["key-10", "key-11", "key-12", "key-13"]
      )
      const counters = yield* local.proxy.counters
      expect(counters.faults).toMatchObject({ resetBeforeForward: 1, resetAfterForward: 1 })
      expect(counters.resets).toBe(2)
      expect(counters.records.unanswered).toBe(4)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { resets: 1 } }))))

  it.live("applies a plan to its streams and operations only, and a fault with times that many times", () =>
    Effect.gen(function*() {
      const proxy = yield* KinesisProxy
      yield* proxy.setFaults({ serverError: { times: 2 }, streams: ["target"] })
      expect((yield* put("bystander", entries(1))).FailedRecordCount).toBe(0)
      yield* failure(put("target", entries(1)))
      yield* failure(put("target", entries(1)))
      expect((yield* put("target", entries(1))).FailedRecordCount).toBe(0)
      yield* proxy.setFaults({ serverError: 1, operations: ["ListShards"] })
      expect((yield* put("target", entries(1))).FailedRecordCount).toBe(0)
      expect((yield* proxy.counters).requests.PutRecords).toBe(5)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { target: 1, bystander: 1 } }))))

  it.live("takes a StreamARN as AWS does, for any operation", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const kinesis = yield* Kinesis
      const streamArn = local.streamArn("byarn")
      const response = yield* kinesis.putRecords({ StreamARN: streamArn, Records: entries(3) })
      expect(response.FailedRecordCount).toBe(0)
      const summary = yield* kinesis.send("DescribeStreamSummary", (client, abortSignal) =>
        client.send(new DescribeStreamSummaryCommand({ StreamARN: streamArn }), { abortSignal }))
      expect(summary.StreamDescriptionSummary?.StreamName).toBe("byarn")
      expect((yield* local.readAll("byarn")).length).toBe(3)
      expect((yield* local.proxy.counters).requests).toMatchObject({ PutRecords: 1, DescribeStreamSummary: 1 })
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { byarn: 1 } }))))

  it.live("passes the target's own validation errors through", () =>
    Effect.gen(function*() {
      const kinesis = yield* Kinesis
      const missing = yield* failure(kinesis.putRecords({ StreamName: "nosuchstream", Records: entries(1) }))
      expect(missing).toMatchObject({ code: "ResourceNotFoundException", retriable: false })
      const badHashKey = yield* failure(
        Effect.flatMap(Kinesis, (kinesis) =>
          kinesis.send("PutRecords", (client) =>
            client.send(
              new PutRecordsCommand({
                StreamName: "valid",
                Records: [
                  { Data: utf8.encode("x"), PartitionKey: "k", ExplicitHashKey: (MAX_HASH_KEY + 1n).toString() }
                ]
              })
            )))
      )
      expect(badHashKey).toMatchObject({ code: "InvalidArgumentException", retriable: false })
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { valid: 1 }, limits: true }))))

  it.live("follows a split that passes through it: the parent while the stream is UPDATING, then the children", () => {
    const clock = manualClock()
    return Effect.gen(function*() {
      const { active, createStream, outcomes, split, viaProxy } = yield* slowReshaping(clock.now)
      yield* createStream("through")
      expect(yield* outcomes("through", 500, 0, 0n)).toEqual(same(500, PARENT))
      expect(yield* outcomes("through", 500, 500, HALF)).toEqual(same(500, PARENT))
      yield* split(viaProxy, "through")
      // While the stream is UPDATING, the parent is still open, and its second is spent.
      expect(yield* outcomes("through", 1, 1000, 0n)).toEqual([`refused: ${PARENT}`])
      yield* active("through")
      // Once it is ACTIVE, each child has a second of its own.
      expect(yield* outcomes("through", 500, 2000, 0n)).toEqual(same(500, LOWER))
      expect(yield* outcomes("through", 500, 3000, HALF)).toEqual(same(500, UPPER))
    }).pipe(Effect.scoped)
  })

  it.live("reads the shards again on refreshShards after a split it did not see, once the stream is ACTIVE", () => {
    const clock = manualClock()
    return Effect.gen(function*() {
      const { createStream, direct, outcomes, proxy, split } = yield* slowReshaping(clock.now)
      yield* createStream("unseen")
      expect(yield* outcomes("unseen", 500, 0, 0n)).toEqual(same(500, PARENT))
      expect(yield* outcomes("unseen", 500, 500, HALF)).toEqual(same(500, PARENT))
      yield* split(direct, "unseen")
      yield* proxy.refreshShards("unseen")
      expect(yield* outcomes("unseen", 500, 1000, 0n)).toEqual(same(500, LOWER))
    }).pipe(Effect.scoped)
  })

  it.live("answers and counts a record by the shard that stored it when the shards changed unseen", () => {
    const clock = manualClock()
    return Effect.gen(function*() {
      const { active, createStream, direct, outcomes, proxy, split } = yield* slowReshaping(clock.now)
      yield* createStream("moved")
      expect(yield* outcomes("moved", 10, 0, 0n)).toEqual(same(10, PARENT))
      yield* split(direct, "moved")
      yield* active("moved")
      // The proxy still places these on the parent; kinesalite stores them on the lower child, and its answer says so.
      expect(yield* outcomes("moved", 10, 10, 0n)).toEqual(same(10, LOWER))
      // The lower child paid for those 10: 990 more this second, not 1,000.
      expect(yield* outcomes("moved", 500, 100, 0n)).toEqual(same(500, LOWER))
      expect(yield* outcomes("moved", 491, 600, 0n)).toEqual([...same(490, LOWER), `refused: ${LOWER}`])
      const accepted = new Map<string, number>()
      for (const entry of (yield* proxy.counters).shards) accepted.set(entry.shardId, entry.accepted)
      expect(Object.fromEntries(accepted)).toEqual({ [PARENT]: 10, [LOWER]: 1000 })
    }).pipe(Effect.scoped)
  })

  it.effect("refuses a nonsensical plan or limits as a defect that names each problem", () =>
    Effect.gen(function*() {
      const faults = { throttle: 2, serverError: 0.8, hang: 0.5 }
      const exit = yield* Layer.build(LocalKinesis.layer({ faults })).pipe(Effect.scoped, Effect.exit)
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      const message = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      expect(message).toContain("throttle must be a fraction from 0 to 1, not 2")
      expect(message).toContain("the rates of the request faults add up to 1.3")
      expect(KinesisProxy.checkFaults({ error: { type: "" }, delay: { millis: -1 } })).toEqual([
        "error.type must name an error",
        "delay.millis must be a number of milliseconds, not -1"
      ])
      const limits = yield* Layer.build(LocalKinesis.layer({ limits: { recordsPerSecond: 0 } })).pipe(
        Effect.scoped,
        Effect.exit
      )
      const limitsMessage = Exit.isFailure(limits) ? Cause.pretty(limits.cause) : ""
      expect(limitsMessage).toContain("recordsPerSecond must be a positive number")
    }))

  it.live("stops both servers when its scope closes", () =>
    Effect.gen(function*() {
      const endpoints = yield* Effect.scoped(
        Effect.map(LocalKinesis.make({ streams: { s: 1 } }), (local) => [local.endpoint, local.kinesaliteEndpoint])
      )
      for (const endpoint of endpoints) {
        const refused = yield* Effect.promise(() => fetch(endpoint, { method: "POST" }).then(() => false, () => true))
        expect(refused).toBe(true)
      }
    }))
})
