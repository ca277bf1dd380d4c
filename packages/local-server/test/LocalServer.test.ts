import type { KinesisClient, PutRecordsRequestEntry, Shard } from "@aws-sdk/client-kinesis"
import { LocalServer } from "@effect-kinesis/local-server"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { describe, expect, it, onTestFinished } from "vitest"
import { hashKeyOf, MAX_HASH_KEY } from "../src/internal/hashKey.js"
import { manualClock, putRecords, startLocal } from "./support/Local.js"

const utf8 = new TextEncoder()
const HALF = 1n << 127n

// Records `from` to `from + count - 1`, their ids as data, with explicit hash keys from `base` on (or MD5 keys).
const records = (count: number, from: number, base?: bigint): Array<PutRecordsRequestEntry> =>
  Array.from({ length: count }, (_, i) => ({
    Data: utf8.encode(String(from + i)),
    PartitionKey: `key-${from + i}`,
    ...(base === undefined ? {} : { ExplicitHashKey: (base + BigInt(i) * (1n << 100n)).toString() })
  }))

// Which shard took each record ("refused: <shard named in the message>" for a record refused by the limits).
const outcomes = async (client: KinesisClient, stream: string, entries: Array<PutRecordsRequestEntry>) =>
  (await putRecords(client, stream, entries)).Records!.map((entry) =>
    entry.ErrorCode === undefined ?
      entry.ShardId! :
      `refused: ${/shard (\S+)/.exec(entry.ErrorMessage ?? "")?.[1]}`
  )

const same = (count: number, value: string) => Array.from({ length: count }, () => value)

const range = (shard: Shard) => [shard.HashKeyRange!.StartingHashKey!, shard.HashKeyRange!.EndingHashKey!]

// What readAll gives, shard by shard: the shard ids in the order read, and the ids of each shard's records.
const byShard = (stored: ReadonlyArray<{ readonly shardId: string; readonly data: Uint8Array }>) => {
  const shards = new Map<string, Array<number>>()
  for (const record of stored) {
    const ids = shards.get(record.shardId) ?? []
    ids.push(Number(new TextDecoder().decode(record.data)))
    shards.set(record.shardId, ids)
  }
  return shards
}

const ids = (from: number, count: number) => Array.from({ length: count }, (_, i) => from + i)

// The failure of a call that should fail.
const rejection = (call: Promise<unknown>) => call.then(() => undefined, (error: unknown) => error)

// The compiled package: a script of a user runs what `npx tsc -b` built, not the sources.
const distIndex = new URL("../dist/index.js", import.meta.url)

// A user's script: the embedded Kinesis, one write through the proxy, then the end of its program.
const script = `
import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import { LocalServer } from ${JSON.stringify(distIndex.href)}

const server = await LocalServer.start({ streams: { events: 1 }, limits: true })
const client = new KinesisClient({ ...server.clientConfig, requestHandler: new NodeHttpHandler() })
const data = new TextEncoder().encode("hello")
const response = await client.send(new PutRecordsCommand({ StreamName: "events", Records: [{ Data: data, PartitionKey: "k" }] }))
client.destroy()
await server.close()
console.log(JSON.stringify({ failed: response.FailedRecordCount }))
`

describe("LocalServer", () => {
  it("splits a shard: each child takes its half's records under a budget of its own, the parent none", async () => {
    const clock = manualClock()
    const { client, server } = await startLocal({ streams: { split: 1 }, limits: true, now: clock.now })
    const [parent] = await server.listShards("split")
    const parentId = parent.ShardId!
    // The parent spends its whole second's budget before the split.
    expect(await outcomes(client, "split", records(500, 0))).toEqual(same(500, parentId))
    expect(await outcomes(client, "split", records(500, 500))).toEqual(same(500, parentId))
    expect(await outcomes(client, "split", records(1, 1000))).toEqual([`refused: ${parentId}`])

    const [lower, upper] = await server.splitShard("split", parentId)
    expect([range(lower), range(upper)]).toEqual([
      ["0", (HALF - 1n).toString()],
      [HALF.toString(), MAX_HASH_KEY.toString()]
    ])
    expect([lower.ParentShardId, upper.ParentShardId]).toEqual([parentId, parentId])
    const [lowerId, upperId] = [lower.ShardId!, upper.ShardId!]
    // Each child: a full second of its own, by the hash keys of its half; the answer names the child.
    expect(await outcomes(client, "split", records(500, 2000, 0n))).toEqual(same(500, lowerId))
    expect(await outcomes(client, "split", records(500, 2500, 1n << 110n))).toEqual(same(500, lowerId))
    expect(await outcomes(client, "split", records(1, 3000, 1n))).toEqual([`refused: ${lowerId}`])
    expect(await outcomes(client, "split", records(500, 4000, HALF))).toEqual(same(500, upperId))
    expect(await outcomes(client, "split", records(500, 4500, HALF + (1n << 110n)))).toEqual(same(500, upperId))
    expect(await outcomes(client, "split", records(1, 5000, MAX_HASH_KEY))).toEqual([`refused: ${upperId}`])
    clock.advance(100)
    // A tenth of a second later, each child has earned 100 records back: no more.
    expect(await outcomes(client, "split", records(101, 6000, 0n))).toEqual([
      ...same(100, lowerId),
      `refused: ${lowerId}`
    ])
    expect(await outcomes(client, "split", records(101, 7000, HALF))).toEqual([
      ...same(100, upperId),
      `refused: ${upperId}`
    ])

    const counted = new Map<string, number>()
    for (const entry of server.proxy.counters().shards) {
      counted.set(entry.shardId, (counted.get(entry.shardId) ?? 0) + entry.accepted)
    }
    expect(counted.get(parentId)).toBe(1000)
    // Closed parents first, then the children, each shard in order.
    const stored = byShard(await server.readAll("split"))
    expect([...stored.keys()]).toEqual([parentId, lowerId, upperId])
    expect(stored.get(parentId)).toEqual(ids(0, 1000))
    expect(stored.get(lowerId)).toEqual([...ids(2000, 1000), ...ids(6000, 100)])
    expect(stored.get(upperId)).toEqual([...ids(4000, 1000), ...ids(7000, 100)])
    expect([counted.get(lowerId), counted.get(upperId)]).toEqual([1100, 1100])

    const closed = await rejection(server.splitShard("split", parentId))
    expect(closed).toBeInstanceOf(LocalServer.CallError)
    expect(closed).toMatchObject({ operation: "SplitShard", code: "InvalidArgumentException", retriable: false })
    const missing = await rejection(server.splitShard("split", "shardId-000000000099"))
    expect(missing).toMatchObject({ code: "ResourceNotFoundException" })
  })

  it("merges adjacent shards given in either order: records land in the merged shard, under its budget", async () => {
    const clock = manualClock()
    const { client, server } = await startLocal({ streams: { merge: 2 }, limits: true, now: clock.now })
    const [a, b] = await server.listShards("merge")
    expect(await outcomes(client, "merge", records(1, 0, 0n))).toEqual([a.ShardId])
    expect(await outcomes(client, "merge", records(1, 1, MAX_HASH_KEY))).toEqual([b.ShardId])
    const merged = await server.mergeShards("merge", b.ShardId!, a.ShardId!)
    expect(range(merged)).toEqual(["0", MAX_HASH_KEY.toString()])
    expect([merged.ParentShardId, merged.AdjacentParentShardId]).toEqual([a.ShardId, b.ShardId])
    const mergedId = merged.ShardId!
    expect(await outcomes(client, "merge", records(500, 100))).toEqual(same(500, mergedId))
    expect(await outcomes(client, "merge", records(500, 600))).toEqual(same(500, mergedId))
    // One shard's budget now, not the two of its parents.
    expect(await outcomes(client, "merge", records(1, 1100))).toEqual([`refused: ${mergedId}`])
    const stored = byShard(await server.readAll("merge"))
    expect([...stored.entries()]).toEqual([[a.ShardId, [0]], [b.ShardId, [1]], [mergedId, ids(100, 1000)]])
    const again = await rejection(server.mergeShards("merge", a.ShardId!, b.ShardId!))
    expect(again).toMatchObject({ code: "InvalidArgumentException" })
  })

  it("loses nothing when shards split while PutRecords requests are running", async () => {
    const { client, server } = await startLocal({
      streams: { busy: 2 },
      limits: { recordsPerSecond: 1e6, bytesPerSecond: 1e9 }
    })
    const answered = new Map<string, string>() // sequence number -> shard named in the answer
    const sent = new Set<number>()
    let requests = 0
    let resharded = false
    let startSplitting = () => {}
    const splitting = new Promise<void>((resolve) => {
      startSplitting = resolve
    })
    const worker = async (w: number) => {
      let after = 0
      for (let batch = 0; after < 5 && batch < 200; batch++) {
        const entries = records(100, (w * 200 + batch) * 100)
        const response = await putRecords(client, "busy", entries)
        // Limits far above this load: the proxy places every record, and refuses none.
        expect(response.FailedRecordCount).toBe(0)
        response.Records!.forEach((entry, i) => {
          answered.set(entry.SequenceNumber!, entry.ShardId!)
          sent.add((w * 200 + batch) * 100 + i)
        })
        if (++requests === 8) startSplitting()
        if (resharded) after++
      }
    }
    const reshard = async () => {
      await splitting
      const [first, second] = await server.listShards("busy")
      await server.splitShard("busy", first.ShardId!)
      await server.splitShard("busy", second.ShardId!)
      resharded = true
    }
    await Promise.all([reshard(), ...[0, 1, 2, 3].map(worker)])

    const shards = await server.listShards("busy")
    expect(shards.length).toBe(6)
    const stored = await server.readAll("busy")
    const storedIds = stored.map((record) => Number(new TextDecoder().decode(record.data)))
    expect(storedIds.length).toBe(sent.size)
    expect(new Set(storedIds)).toEqual(sent)
    const ranges = new Map(shards.map((shard) => [shard.ShardId!, range(shard).map(BigInt)]))
    for (const record of stored) {
      // The answer named the shard that stored it, and that shard's range holds the record's hash key.
      expect(answered.get(record.sequenceNumber)).toBe(record.shardId)
      const [start, end] = ranges.get(record.shardId)!
      const hashKey = hashKeyOf(record.partitionKey, undefined)!
      expect(hashKey >= start && hashKey <= end).toBe(true)
    }
    const parents = new Set([shards[0].ShardId, shards[1].ShardId])
    const inParents = stored.filter((record) => parents.has(record.shardId))
    expect(inParents.length).toBeGreaterThan(0)
    expect(inParents.length).toBeLessThan(stored.length)
  })

  it("reads the records as stored with readStored, and refuses what kinesalite refuses with a CallError", async () => {
    const { client, server } = await startLocal({ streams: { kept: 1 } })
    await putRecords(client, "kept", records(3, 0))
    const stored = await server.readStored("kept")
    expect(stored.map((record) => Number(new TextDecoder().decode(record.data)))).toEqual([0, 1, 2])
    expect(server.streamArn("kept")).toBe("arn:aws:kinesis:us-east-1:000000000000:stream/kept")
    const taken = await rejection(server.createStream("kept", 1))
    expect(taken).toBeInstanceOf(LocalServer.CallError)
    expect(taken).toMatchObject({ operation: "CreateStream", code: "ResourceInUseException", retriable: false })
    expect(String((taken as Error).message)).toMatch(/^CreateStream failed: ResourceInUseException: /)
    const unlisted = await rejection(server.listShards("nosuch"))
    expect(unlisted).toMatchObject({ operation: "ListShards", code: "ResourceNotFoundException" })
  })

  it("stops both servers on close, and again without harm", async () => {
    const server = await LocalServer.start({ streams: { s: 1 } })
    await server.close()
    await server.close()
    for (const endpoint of [server.endpoint, server.kinesaliteEndpoint]) {
      const refused = await fetch(endpoint, { method: "POST" }).then(() => false, () => true)
      expect(refused).toBe(true)
    }
  })

  it("rejects with a CallError when a stream of its options cannot be created", async () => {
    const refused = await rejection(LocalServer.start({ streams: { "not a name!": 1 } }))
    expect(refused).toMatchObject({ operation: "CreateStream", code: "ValidationException" })
  })

  it("lets a script that started and closed a LocalServer exit as soon as its program ends", async () => {
    expect(existsSync(distIndex), `${fileURLToPath(distIndex)} is missing: build first (npx tsc -b)`).toBe(true)
    const child = spawn(process.execPath, ["--input-type=module", "--eval", script], {
      // From the package's folder, so that the script finds its dependencies as a user's would.
      cwd: fileURLToPath(new URL("..", import.meta.url)),
      stdio: ["ignore", "pipe", "inherit"]
    })
    onTestFinished(() => void (child.exitCode === null && child.kill("SIGKILL")))
    const ended = await new Promise<{ readonly line: string; readonly at: number }>((resolve, reject) => {
      createInterface({ input: child.stdout }).once("line", (line) => resolve({ line, at: Date.now() }))
      child.once("exit", (code) => reject(new Error(`the script ended without its line: ${code}`)))
    })
    expect(JSON.parse(ended.line)).toEqual({ failed: 0 })
    const code = await new Promise<number | null>((resolve) => {
      if (child.exitCode !== null) resolve(child.exitCode)
      else child.once("exit", (code) => resolve(code))
    })
    expect(code).toBe(0)
    expect(Date.now() - ended.at).toBeLessThan(2_500)
  })
})
