import type { PutRecordsRequestEntry } from "@aws-sdk/client-kinesis"
import { Aggregation, Hash } from "@effect-kinesis/core"
import { type StoredRecord, StreamReader } from "@effect-kinesis/local-server"
import { setTimeout as sleep } from "node:timers/promises"
import { describe, expect, it } from "vitest"
import { putRecords, startLocal } from "./support/Local.js"

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

const shardsAndIds = (records: ReadonlyArray<StoredRecord>) =>
  records.map((record) => [record.shardId, text(record.data)])

describe("StreamReader", () => {
  it("reads every shard, parents before their children, and unpacks aggregates into their user records", async () => {
    const { client, server } = await startLocal({ streams: { split: 1 } })
    await putRecords(client, "split", [plain("0"), aggregated(["1", "2"]), plain("3")])
    const [lower, upper] = await server.splitShard("split", "shardId-000000000000")
    await putRecords(client, "split", [plain("5", HIGH), plain("4")])

    const all = await StreamReader.readAll(client, "split")
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

    const stored = await StreamReader.readAll(client, "split", { unpack: false })
    expect(stored).toHaveLength(5)
    expect(Aggregation.isAggregated(stored[1].data)).toBe(true)
    expect(stored[1].partitionKey).toBe(Aggregation.PARTITION_KEY)
  })

  it("gives a malformed aggregate whole and says why", async () => {
    const { client } = await startLocal({ streams: { broken: 1 } })
    // The magic number and a right digest around a message whose first field runs past its end.
    const message = Uint8Array.of(0x0a, 0x05, 0x61)
    const data = Uint8Array.from([...Aggregation.MAGIC, ...message, ...Hash.md5(message)])
    await putRecords(client, "broken", [{ Data: data, PartitionKey: "k" }])
    const [record, ...rest] = await StreamReader.readAll(client, "broken")
    expect(rest).toEqual([])
    expect(record.data).toEqual(data)
    expect(record.subSequenceNumber).toBeUndefined()
    expect(record.malformed).toMatch(/malformed/)
  })

  it("stops after `limit` user records", async () => {
    const { client } = await startLocal({ streams: { limited: 1 } })
    await putRecords(client, "limited", [plain("0"), aggregated(["1", "2", "3"]), plain("4")])
    const records = await StreamReader.readAll(client, "limited", { limit: 3 })
    expect(records.map((record) => text(record.data))).toEqual(["0", "1", "2"])
  })

  it("starts at the tip with `latest`, and at a moment with `at-timestamp` on kinesalite", async () => {
    const { client } = await startLocal({ streams: { timed: 1 } })
    await putRecords(client, "timed", [plain("0")])
    await sleep(50)
    const timestamp = new Date()
    await sleep(50)
    await putRecords(client, "timed", [plain("1")])
    expect(await StreamReader.readAll(client, "timed", { from: "latest" })).toEqual([])
    const since = await StreamReader.readAll(client, "timed", { from: "at-timestamp", timestamp, kinesalite: true })
    expect(since.map((record) => text(record.data))).toEqual(["1"])
  })

  it("follows new records until the signal aborts, then ends without an error", async () => {
    const { client } = await startLocal({ streams: { followed: 1 } })
    const stop = new AbortController()
    const pages = StreamReader.pages(client, "followed", { from: "latest", follow: true, signal: stop.signal })
    const first = pages.next()
    await sleep(300)
    await putRecords(client, "followed", [plain("0"), plain("1")])
    const page = await first
    expect(page.done === true ? [] : page.value.map((record) => text(record.data))).toEqual(["0", "1"])
    const next = pages.next()
    stop.abort()
    expect((await next).done).toBe(true)
  })

  it("fails with a ReadError naming the operation and the code", async () => {
    const { client } = await startLocal()
    const cause = await StreamReader.readAll(client, "missing").then(() => undefined, (error: unknown) => error)
    expect(cause).toBeInstanceOf(StreamReader.ReadError)
    expect(cause).toMatchObject({ operation: "ListShards", code: "ResourceNotFoundException" })
  })
})
