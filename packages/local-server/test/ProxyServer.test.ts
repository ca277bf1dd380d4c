import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClient,
  PutRecordsCommand,
  type PutRecordsCommandOutput,
  type PutRecordsRequestEntry,
  SplitShardCommand
} from "@aws-sdk/client-kinesis"
import { LocalServer, ProxyServer } from "@effect-kinesis/local-server"
import kinesalite from "kinesalite"
import type { AddressInfo } from "node:net"
import { setTimeout as sleep } from "node:timers/promises"
import { describe, expect, it, onTestFinished } from "vitest"
import { hashKeyOf, MAX_HASH_KEY, shardFor } from "../src/internal/hashKey.js"
import { clientOf, failure, manualClock, putRecords, startLocal } from "./support/Local.js"

const utf8 = new TextEncoder()

const entries = (count: number, from = 0, dataBytes = 8): Array<PutRecordsRequestEntry> =>
  Array.from({ length: count }, (_, i) => ({
    Data: utf8.encode(String(from + i).padStart(dataBytes, "0")),
    PartitionKey: `key-${from + i}`
  }))

const raw = async (endpoint: string, operation: string, request: unknown) => {
  const response = await fetch(endpoint, {
    method: "POST",
    headers: { "content-type": "application/x-amz-json-1.1", "x-amz-target": `Kinesis_20131202.${operation}` },
    body: JSON.stringify(request)
  })
  const body = (await response.json()) as { readonly __type?: unknown; readonly message?: unknown }
  return { status: response.status, errorType: response.headers.get("x-amzn-errortype"), body }
}

// kinesalite of its own that takes `updateStreamMs` to split a shard, as AWS takes a while, behind a proxy with AWS's
// limits on `now`; with a client through the proxy and one straight to kinesalite (reshapings the proxy does not see).
const slowReshaping = async (now: () => number) => {
  const server = await new Promise<ReturnType<typeof kinesalite>>((resolve) => {
    const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 300, shardLimit: 100 })
    server.listen(0, "127.0.0.1", () => resolve(server))
  })
  onTestFinished(() =>
    new Promise<void>((resolve) => {
      server.closeAllConnections()
      server.close(() => resolve())
    })
  )
  const target = `http://127.0.0.1:${(server.address() as AddressInfo).port}`
  const proxy = await ProxyServer.start({ target, limits: true, now })
  onTestFinished(() => proxy.close())
  const config = { region: "us-east-1", credentials: { accessKeyId: "local", secretAccessKey: "local" } }
  const viaProxy = clientOf({ ...config, endpoint: proxy.endpoint })
  const direct = clientOf({ ...config, endpoint: target })
  const active = async (stream: string) => {
    for (;;) {
      const summary = await direct.send(new DescribeStreamSummaryCommand({ StreamName: stream }))
      if (summary.StreamDescriptionSummary?.StreamStatus === "ACTIVE") return
      await sleep(10)
    }
  }
  const createStream = async (stream: string) => {
    await direct.send(new CreateStreamCommand({ StreamName: stream, ShardCount: 1 }))
    await active(stream)
  }
  const split = (client: KinesisClient, stream: string) =>
    client.send(
      new SplitShardCommand({
        StreamName: stream,
        ShardToSplit: "shardId-000000000000",
        NewStartingHashKey: HALF.toString()
      })
    )
  // Which shard took each record, or "refused: <the shard the message names>".
  const outcomes = async (stream: string, count: number, from: number, base: bigint) => {
    const response = await putRecords(
      viaProxy,
      stream,
      entries(count, from).map((entry, i) => ({
        ...entry,
        ExplicitHashKey: (base + BigInt(i) * (1n << 100n)).toString()
      }))
    )
    return response.Records!.map((entry) =>
      entry.ErrorCode === undefined ? entry.ShardId! : `refused: ${/shard (\S+)/.exec(entry.ErrorMessage!)?.[1]}`
    )
  }
  return { proxy, viaProxy, direct, active, createStream, split, outcomes }
}

const HALF = 1n << 127n
const PARENT = "shardId-000000000000"
const [LOWER, UPPER] = ["shardId-000000000001", "shardId-000000000002"]
const same = (count: number, value: string) => Array.from({ length: count }, () => value)

describe("ProxyServer", () => {
  it("places each record on the shard kinesalite stores it on, by MD5 or explicit hash key", async () => {
    const { client, server } = await startLocal({ streams: { placed: 4 }, limits: true })
    const shards = (await server.listShards("placed")).map((shard) => ({
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
    const response = await putRecords(client, "placed", records)
    expect(response.FailedRecordCount).toBe(0)
    const expected = records.map((record) =>
      shardFor(shards, hashKeyOf(record.PartitionKey!, record.ExplicitHashKey)!)!.shardId
    )
    expect(response.Records!.map((entry) => entry.ShardId)).toEqual(expected)
    expect(expected.slice(-3)).toEqual([shards[0].shardId, shards[3].shardId, shards[1].shardId])
    const counted = new Map<string, number>()
    for (const entry of server.proxy.counters().shards) counted.set(entry.shardId, entry.accepted)
    for (const shard of shards) {
      expect(counted.get(shard.shardId)).toBe(expected.filter((id) => id === shard.shardId).length)
    }
  })

  it("refuses records beyond 1,000 per second per shard with AWS's message, and does not store them", async () => {
    const clock = manualClock()
    const { client, server } = await startLocal({ streams: { limited: 1 }, limits: true, now: clock.now })
    const first = await putRecords(client, "limited", entries(500, 0))
    const second = await putRecords(client, "limited", entries(500, 500))
    const third = await putRecords(client, "limited", entries(500, 1000))
    expect([first.FailedRecordCount, second.FailedRecordCount, third.FailedRecordCount]).toEqual([0, 0, 500])
    expect(new Set(third.Records!.map((entry) => `${entry.ErrorCode}: ${entry.ErrorMessage}`))).toEqual(
      new Set([
        "ProvisionedThroughputExceededException: " +
        "Rate exceeded for shard shardId-000000000000 in stream limited under account 000000000000."
      ])
    )
    clock.advance(250)
    const refilled = await putRecords(client, "limited", entries(500, 1500))
    // A quarter of a second earns 250 records: the first 250 pass, the rest are refused, in order.
    expect(refilled.Records!.map((entry) => entry.ErrorCode === undefined)).toEqual(
      Array.from({ length: 500 }, (_, i) => i < 250)
    )
    expect(refilled.FailedRecordCount).toBe(250)
    const stored = await server.readAll("limited")
    expect(stored.length).toBe(1250)
    const counters = server.proxy.counters()
    expect(counters.records).toMatchObject({ offered: 2000, stored: 1250, throttled: 750, faulted: 0 })
    expect(counters.shards.map(({ accepted, second, throttled }) => ({ second, accepted, throttled }))).toEqual([
      { second: 1000, accepted: 1250, throttled: 750 }
    ])
  })

  it("saves up at most one second of capacity, and counts bytes (data + key) against 1 MiB per second", async () => {
    const clock = manualClock()
    const { client } = await startLocal({ streams: { bytes: 1 }, limits: true, now: clock.now })
    clock.advance(10_000)
    const burst = await putRecords(client, "bytes", entries(500, 0, 1))
    // 10 idle seconds still buy only one second of records: 1,000.
    expect(burst.FailedRecordCount).toBe(0)
    expect((await putRecords(client, "bytes", entries(501, 500, 1))).FailedRecordCount).toBe(1)
    clock.advance(1000)
    // Records of 102,400 data bytes and a 6-byte key: 10 fit in 1 MiB (1,024,060 bytes), the 11th does not.
    const big = await putRecords(
      client,
      "bytes",
      entries(11, 0, 102_400).map((entry, i) => ({ ...entry, PartitionKey: `big-${i}` }))
    )
    expect(big.Records!.map((entry) => entry.ErrorCode ?? "ok")).toEqual([
      ...Array.from({ length: 10 }, () => "ok"),
      "ProvisionedThroughputExceededException"
    ])
  })

  it("takes limits per stream, and changes them while running", async () => {
    const clock = manualClock()
    const { client, server } = await startLocal({
      streams: { slow: 1, free: 1 },
      limits: { streams: { slow: { recordsPerSecond: 10 }, free: false } },
      now: clock.now
    })
    const proxy = server.proxy
    expect((await putRecords(client, "slow", entries(20))).FailedRecordCount).toBe(10)
    expect((await putRecords(client, "free", entries(500))).FailedRecordCount).toBe(0)
    expect((await putRecords(client, "free", entries(500))).FailedRecordCount).toBe(0)
    proxy.setLimits(false)
    expect(proxy.limits()).toBe(false)
    expect((await putRecords(client, "slow", entries(500))).FailedRecordCount).toBe(0)
    proxy.setLimits({ recordsPerSecond: 5 })
    expect((await putRecords(client, "free", entries(8))).FailedRecordCount).toBe(3)
  })

  it("fails the same records for the same seed, and chosen indexes exactly", async () => {
    const { client, server } = await startLocal({ streams: { faults: 2 } })
    const proxy = server.proxy
    const failedIndexes = (response: PutRecordsCommandOutput) =>
      response.Records!.flatMap((entry, i) => (entry.ErrorCode === undefined ? [] : [`${i}:${entry.ErrorCode}`]))
    proxy.setFaults({ seed: 7, throttle: 0.3, internalFailure: 0.1 })
    const once = failedIndexes(await putRecords(client, "faults", entries(200)))
    proxy.setFaults({ seed: 7, throttle: 0.3, internalFailure: 0.1 })
    const again = failedIndexes(await putRecords(client, "faults", entries(200)))
    proxy.setFaults({ seed: 8, throttle: 0.3, internalFailure: 0.1 })
    const other = failedIndexes(await putRecords(client, "faults", entries(200)))
    expect(again).toEqual(once)
    expect(other).not.toEqual(once)
    // 40% of 200 records, within a wide margin: the draws are random, not a pattern.
    expect(once.length).toBeGreaterThan(50)
    expect(once.length).toBeLessThan(110)
    expect(once.some((entry) => entry.endsWith("InternalFailure"))).toBe(true)

    proxy.setFaults({ failIndexes: { indexes: [0, 3], code: "ProvisionedThroughputExceededException", times: 1 } })
    expect(failedIndexes(await putRecords(client, "faults", entries(5)))).toEqual([
      "0:ProvisionedThroughputExceededException",
      "3:ProvisionedThroughputExceededException"
    ])
    expect(failedIndexes(await putRecords(client, "faults", entries(5)))).toEqual([])
    const counters = proxy.counters()
    expect(counters.faults.failIndexes).toBe(2)
    expect(counters.records.faulted).toBe(once.length + again.length + other.length + 2)
    expect(counters.records.stored).toBe(600 - once.length - again.length - other.length + 8)
  })

  it("answers whole requests with 500 InternalFailure and 400 AWS errors, in AWS's JSON error format", async () => {
    const { client, server } = await startLocal({ streams: { errors: 1 } })
    const proxy = server.proxy
    proxy.setFaults({ serverError: 1 })
    const internal = await failure("PutRecords", putRecords(client, "errors", entries(3)))
    expect(internal).toMatchObject({ code: "InternalFailure", statusCode: 500, retriable: true })
    for (const type of ["AccessDeniedException", "ResourceNotFoundException", "KMSAccessDeniedException"]) {
      proxy.setFaults({ error: { type } })
      const denied = await failure("PutRecords", putRecords(client, "errors", entries(3)))
      expect(denied).toMatchObject({ code: type, statusCode: 400, retriable: false })
      const answer = await raw(server.endpoint, "PutRecords", { StreamName: "errors", Records: [] })
      expect(answer.status).toBe(400)
      expect(answer.errorType).toBe(type)
      expect(answer.body.__type).toBe(type)
      expect(typeof answer.body.message).toBe("string")
    }
    proxy.setFaults({ error: { type: "KMSThrottlingException", message: "slow down" } })
    expect(await failure("PutRecords", putRecords(client, "errors", entries(3)))).toMatchObject({
      code: "KMSThrottlingException",
      detail: "slow down",
      retriable: true
    })
    proxy.setFaults({})
    expect((await putRecords(client, "errors", entries(3))).FailedRecordCount).toBe(0)
    expect((await server.readAll("errors")).length).toBe(3)
    expect(proxy.counters().faults).toMatchObject({ serverError: 1, error: 7 })
  })

  it("hangs until the client gives up, then serves the next request; a delay holds a request back", async () => {
    const { client, server } = await startLocal({ streams: { hang: 1 } })
    const put = (records: Array<PutRecordsRequestEntry>, timeoutMillis?: number) =>
      client.send(
        new PutRecordsCommand({ StreamName: "hang", Records: records }),
        timeoutMillis === undefined ? {} : { abortSignal: AbortSignal.timeout(timeoutMillis) }
      )
    server.proxy.setFaults({ hang: { times: 1 }, delay: { millis: 300, times: 1 } })
    const start = Date.now()
    const hung = await put(entries(2), 700).then(() => undefined, (error: unknown) => error)
    // The client's timeout ended the call: no answer came.
    expect(hung).toMatchObject({ name: "AbortError" })
    expect(Date.now() - start).toBeGreaterThanOrEqual(690)
    expect((await put(entries(2))).FailedRecordCount).toBe(0)
    const stored = await server.readAll("hang")
    expect(stored.length).toBe(2)
    expect(server.proxy.counters().faults).toMatchObject({ hang: 1, delay: 1 })

    server.proxy.setFaults({ delay: { millis: 400 } })
    const before = Date.now()
    await put(entries(1))
    expect(Date.now() - before).toBeGreaterThanOrEqual(390)
    // A client that leaves during the delay: the request is dropped, not stored.
    await put(entries(5, 100), 100).catch(() => undefined)
    await sleep(500)
    expect((await server.readAll("hang")).length).toBe(3)
    expect(server.proxy.counters().abandoned).toBe(1)
  })

  it("resets before forwarding (nothing stored) and after forwarding (stored, never answered)", async () => {
    const { client, server } = await startLocal({ streams: { resets: 1 } })
    server.proxy.setFaults({ resetBeforeForward: 1 })
    const before = await failure("PutRecords", putRecords(client, "resets", entries(4, 0)))
    expect(before.retriable).toBe(true)
    expect((await server.readAll("resets")).length).toBe(0)
    server.proxy.setFaults({ resetAfterForward: 1 })
    const after = await failure("PutRecords", putRecords(client, "resets", entries(4, 10)))
    expect(after.retriable).toBe(true)
    expect((await server.readAll("resets")).map((record) => record.partitionKey).sort()).toEqual(
      ["key-10", "key-11", "key-12", "key-13"]
    )
    const counters = server.proxy.counters()
    expect(counters.faults).toMatchObject({ resetBeforeForward: 1, resetAfterForward: 1 })
    expect(counters.resets).toBe(2)
    expect(counters.records.unanswered).toBe(4)
  })

  it("applies a plan to its streams and operations only, and a fault with times that many times", async () => {
    const { client, server } = await startLocal({ streams: { target: 1, bystander: 1 } })
    const proxy = server.proxy
    proxy.setFaults({ serverError: { times: 2 }, streams: ["target"] })
    expect((await putRecords(client, "bystander", entries(1))).FailedRecordCount).toBe(0)
    await failure("PutRecords", putRecords(client, "target", entries(1)))
    await failure("PutRecords", putRecords(client, "target", entries(1)))
    expect((await putRecords(client, "target", entries(1))).FailedRecordCount).toBe(0)
    proxy.setFaults({ serverError: 1, operations: ["ListShards"] })
    expect((await putRecords(client, "target", entries(1))).FailedRecordCount).toBe(0)
    expect(proxy.counters().requests.PutRecords).toBe(5)
  })

  it("takes a StreamARN as AWS does, for any operation", async () => {
    const { client, server } = await startLocal({ streams: { byarn: 1 } })
    const streamArn = server.streamArn("byarn")
    const response = await client.send(new PutRecordsCommand({ StreamARN: streamArn, Records: entries(3) }))
    expect(response.FailedRecordCount).toBe(0)
    const summary = await client.send(new DescribeStreamSummaryCommand({ StreamARN: streamArn }))
    expect(summary.StreamDescriptionSummary?.StreamName).toBe("byarn")
    expect((await server.readAll("byarn")).length).toBe(3)
    expect(server.proxy.counters().requests).toMatchObject({ PutRecords: 1, DescribeStreamSummary: 1 })
  })

  it("passes the target's own validation errors through", async () => {
    const { client } = await startLocal({ streams: { valid: 1 }, limits: true })
    const missing = await failure("PutRecords", putRecords(client, "nosuchstream", entries(1)))
    expect(missing).toMatchObject({ code: "ResourceNotFoundException", retriable: false })
    const badHashKey = await failure(
      "PutRecords",
      putRecords(client, "valid", [
        { Data: utf8.encode("x"), PartitionKey: "k", ExplicitHashKey: (MAX_HASH_KEY + 1n).toString() }
      ])
    )
    expect(badHashKey).toMatchObject({ code: "InvalidArgumentException", retriable: false })
  })

  it("follows a split that passes through it: the parent while the stream is UPDATING, then the children", async () => {
    const clock = manualClock()
    const { active, createStream, outcomes, split, viaProxy } = await slowReshaping(clock.now)
    await createStream("through")
    expect(await outcomes("through", 500, 0, 0n)).toEqual(same(500, PARENT))
    expect(await outcomes("through", 500, 500, HALF)).toEqual(same(500, PARENT))
    await split(viaProxy, "through")
    // While the stream is UPDATING, the parent is still open, and its second is spent.
    expect(await outcomes("through", 1, 1000, 0n)).toEqual([`refused: ${PARENT}`])
    await active("through")
    // Once it is ACTIVE, each child has a second of its own.
    expect(await outcomes("through", 500, 2000, 0n)).toEqual(same(500, LOWER))
    expect(await outcomes("through", 500, 3000, HALF)).toEqual(same(500, UPPER))
  })

  it("reads the shards again on refreshShards after a split it did not see, once the stream is ACTIVE", async () => {
    const clock = manualClock()
    const { createStream, direct, outcomes, proxy, split } = await slowReshaping(clock.now)
    await createStream("unseen")
    expect(await outcomes("unseen", 500, 0, 0n)).toEqual(same(500, PARENT))
    expect(await outcomes("unseen", 500, 500, HALF)).toEqual(same(500, PARENT))
    await split(direct, "unseen")
    await proxy.refreshShards("unseen")
    expect(await outcomes("unseen", 500, 1000, 0n)).toEqual(same(500, LOWER))
  })

  it("answers and counts a record by the shard that stored it when the shards changed unseen", async () => {
    const clock = manualClock()
    const { active, createStream, direct, outcomes, proxy, split } = await slowReshaping(clock.now)
    await createStream("moved")
    expect(await outcomes("moved", 10, 0, 0n)).toEqual(same(10, PARENT))
    await split(direct, "moved")
    await active("moved")
    // The proxy still places these on the parent; kinesalite stores them on the lower child, and its answer says so.
    expect(await outcomes("moved", 10, 10, 0n)).toEqual(same(10, LOWER))
    // The lower child paid for those 10: 990 more this second, not 1,000.
    expect(await outcomes("moved", 500, 100, 0n)).toEqual(same(500, LOWER))
    expect(await outcomes("moved", 491, 600, 0n)).toEqual([...same(490, LOWER), `refused: ${LOWER}`])
    const accepted = new Map<string, number>()
    for (const entry of proxy.counters().shards) accepted.set(entry.shardId, entry.accepted)
    expect(Object.fromEntries(accepted)).toEqual({ [PARENT]: 10, [LOWER]: 1000 })
  })

  it("refuses a nonsensical plan or limits with an error that names each problem", async () => {
    const faults = { throttle: 2, serverError: 0.8, hang: 0.5 }
    const refused = await LocalServer.start({ faults }).then(() => undefined, (error: unknown) => error)
    expect(refused).toBeInstanceOf(Error)
    const message = (refused as Error).message
    expect(message).toContain("throttle must be a fraction from 0 to 1, not 2")
    expect(message).toContain("the rates of the request faults add up to 1.3")
    expect(ProxyServer.checkFaults({ error: { type: "" }, delay: { millis: -1 } })).toEqual([
      "error.type must name an error",
      "delay.millis must be a number of milliseconds, not -1"
    ])
    const limits = await LocalServer.start({ limits: { recordsPerSecond: 0 } }).then(
      () => undefined,
      (error: unknown) => error
    )
    expect(String(limits)).toContain("recordsPerSecond must be a positive number")
    const proxy = await ProxyServer.start({ target: "http://127.0.0.1:1", faults: { hang: 1.5 } }).then(
      () => undefined,
      (error: unknown) => error
    )
    expect(String(proxy)).toContain("invalid fault plan: hang must be a fraction from 0 to 1, not 1.5")
    expect(ProxyServer.checkLimits({ streams: { s: { burstSeconds: -1 } } })).toEqual([
      "streams.s.burstSeconds must be a positive number, not -1"
    ])
  })

  it("refuses a nonsensical plan or limits while running, and keeps the ones in force", async () => {
    const { server } = await startLocal({ faults: { throttle: 0.1 }, limits: true })
    const proxy = server.proxy
    expect(() => proxy.setFaults({ internalFailure: -1 })).toThrow(
      "invalid fault plan: internalFailure must be a fraction from 0 to 1, not -1"
    )
    expect(proxy.faults()).toEqual({ throttle: 0.1 })
    expect(() => proxy.setLimits({ bytesPerSecond: Infinity })).toThrow(
      "invalid limits: bytesPerSecond must be a positive number, not Infinity"
    )
    expect(proxy.limits()).toBe(true)
  })

  it("runs a call with a plan in force, then puts back the plan before, however the call ends", async () => {
    const { client, server } = await startLocal({ streams: { scoped: 1 }, faults: { throttle: 0.1, seed: 3 } })
    const proxy = server.proxy
    const denied = await proxy.withFaults(
      { error: { type: "AccessDeniedException" } },
      () => failure("PutRecords", putRecords(client, "scoped", entries(1)))
    )
    expect(denied).toMatchObject({ code: "AccessDeniedException" })
    expect(proxy.faults()).toEqual({ throttle: 0.1, seed: 3 })
    const thrown = await proxy.withFaults({ serverError: 1 }, () => Promise.reject(new Error("boom"))).catch(
      (error: unknown) => error
    )
    expect(thrown).toMatchObject({ message: "boom" })
    expect(proxy.faults()).toEqual({ throttle: 0.1, seed: 3 })
    await expect(proxy.withFaults({ throttle: 5 }, () => Promise.resolve(1))).rejects.toThrow("invalid fault plan")
    expect(proxy.faults()).toEqual({ throttle: 0.1, seed: 3 })
  })
})
