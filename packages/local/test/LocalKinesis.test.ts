import type { PutRecordsRequestEntry, Shard } from "@aws-sdk/client-kinesis"
import { LocalKinesis } from "@effect-kinesis/local"
import { Kinesis } from "@effect-kinesis/writer"
import { describe, expect, it } from "@effect/vitest"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"
import { hashKeyOf, MAX_HASH_KEY } from "../src/internal/hashKey.js"

const utf8 = new TextEncoder()
const HALF = 1n << 127n

// Records `from` to `from + count - 1`, their ids as data, with explicit hash keys from `base` on (or MD5 keys).
const records = (count: number, from: number, base?: bigint): Array<PutRecordsRequestEntry> =>
  Array.from({ length: count }, (_, i) => ({
    Data: utf8.encode(String(from + i)),
    PartitionKey: `key-${from + i}`,
    ...(base === undefined ? {} : { ExplicitHashKey: (base + BigInt(i) * (1n << 100n)).toString() })
  }))

const put = (stream: string, entries: Array<PutRecordsRequestEntry>) =>
  Effect.flatMap(Kinesis, (kinesis) => kinesis.putRecords({ StreamName: stream, Records: entries }))

// Which shard took each record ("refused: <shard named in the message>" for a record refused by the limits).
const outcomes = (stream: string, entries: Array<PutRecordsRequestEntry>) =>
  Effect.map(put(stream, entries), (response) =>
    response.Records!.map((entry) =>
      entry.ErrorCode === undefined ?
        entry.ShardId! :
        `refused: ${/shard (\S+)/.exec(entry.ErrorMessage ?? "")?.[1]}`
    ))

const same = (count: number, value: string) => Array.from({ length: count }, () => value)

// A clock the test moves by hand, so that token buckets fill exactly as the test says.
const manualClock = () => {
  let time = 1_000_000
  return { now: () => time, advance: (millis: number) => void (time += millis) }
}

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

// The compiled package: a script of a user runs what `npx tsc -b` built, not the sources.
const distIndex = new URL("../dist/index.js", import.meta.url)

// A user's script: the embedded Kinesis, one write through the proxy, then the end of its program.
const script = `
import { Kinesis } from "@effect-kinesis/writer"
import * as Effect from "effect/Effect"
import { LocalKinesis } from ${JSON.stringify(distIndex.href)}

const program = Effect.gen(function*() {
  const kinesis = yield* Kinesis
  const data = new TextEncoder().encode("hello")
  return yield* kinesis.putRecords({ StreamName: "events", Records: [{ Data: data, PartitionKey: "k" }] })
}).pipe(Effect.provide(LocalKinesis.layer({ streams: { events: 1 }, limits: true })))

const response = await Effect.runPromise(program)
console.log(JSON.stringify({ failed: response.FailedRecordCount }))
`

describe("LocalKinesis", () => {
  it.live("splits a shard: each child takes its half's records under a budget of its own, the parent none", () => {
    const clock = manualClock()
    return Effect.gen(function*() {
      const local = yield* LocalKinesis
      const [parent] = yield* local.listShards("split")
      const parentId = parent.ShardId!
      // The parent spends its whole second's budget before the split.
      expect(yield* outcomes("split", records(500, 0))).toEqual(same(500, parentId))
      expect(yield* outcomes("split", records(500, 500))).toEqual(same(500, parentId))
      expect(yield* outcomes("split", records(1, 1000))).toEqual([`refused: ${parentId}`])

      const [lower, upper] = yield* local.splitShard("split", parentId)
      expect([range(lower), range(upper)]).toEqual([
        ["0", (HALF - 1n).toString()],
        [HALF.toString(), MAX_HASH_KEY.toString()]
      ])
      expect([lower.ParentShardId, upper.ParentShardId]).toEqual([parentId, parentId])
      const [lowerId, upperId] = [lower.ShardId!, upper.ShardId!]
      // Each child: a full second of its own, by the hash keys of its half; the answer names the child.
      expect(yield* outcomes("split", records(500, 2000, 0n))).toEqual(same(500, lowerId))
      expect(yield* outcomes("split", records(500, 2500, 1n << 110n))).toEqual(same(500, lowerId))
      expect(yield* outcomes("split", records(1, 3000, 1n))).toEqual([`refused: ${lowerId}`])
      expect(yield* outcomes("split", records(500, 4000, HALF))).toEqual(same(500, upperId))
      expect(yield* outcomes("split", records(500, 4500, HALF + (1n << 110n)))).toEqual(same(500, upperId))
      expect(yield* outcomes("split", records(1, 5000, MAX_HASH_KEY))).toEqual([`refused: ${upperId}`])
      clock.advance(100)
      // A tenth of a second later, each child has earned 100 records back: no more.
      expect(yield* outcomes("split", records(101, 6000, 0n))).toEqual([...same(100, lowerId), `refused: ${lowerId}`])
      expect(yield* outcomes("split", records(101, 7000, HALF))).toEqual([...same(100, upperId), `refused: ${upperId}`])

      const counted = new Map<string, number>()
      for (const entry of (yield* local.proxy.counters).shards) {
        counted.set(entry.shardId, (counted.get(entry.shardId) ?? 0) + entry.accepted)
      }
      expect(counted.get(parentId)).toBe(1000)
      // Closed parents first, then the children, each shard in order.
      const stored = byShard(yield* local.readAll("split"))
      expect([...stored.keys()]).toEqual([parentId, lowerId, upperId])
      expect(stored.get(parentId)).toEqual(ids(0, 1000))
      expect(stored.get(lowerId)).toEqual([...ids(2000, 1000), ...ids(6000, 100)])
      expect(stored.get(upperId)).toEqual([...ids(4000, 1000), ...ids(7000, 100)])
      expect([counted.get(lowerId), counted.get(upperId)]).toEqual([1100, 1100])

      const closed = yield* Effect.flip(local.splitShard("split", parentId))
      expect(closed).toMatchObject({ code: "InvalidArgumentException", retriable: false })
      const missing = yield* Effect.flip(local.splitShard("split", "shardId-000000000099"))
      expect(missing).toMatchObject({ code: "ResourceNotFoundException" })
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { split: 1 }, limits: true, now: clock.now })))
  })

  it.live("merges adjacent shards given in either order: records land in the merged shard, under its budget", () => {
    const clock = manualClock()
    return Effect.gen(function*() {
      const local = yield* LocalKinesis
      const [a, b] = yield* local.listShards("merge")
      expect(yield* outcomes("merge", records(1, 0, 0n))).toEqual([a.ShardId])
      expect(yield* outcomes("merge", records(1, 1, MAX_HASH_KEY))).toEqual([b.ShardId])
      const merged = yield* local.mergeShards("merge", b.ShardId!, a.ShardId!)
      expect(range(merged)).toEqual(["0", MAX_HASH_KEY.toString()])
      expect([merged.ParentShardId, merged.AdjacentParentShardId]).toEqual([a.ShardId, b.ShardId])
      const mergedId = merged.ShardId!
      expect(yield* outcomes("merge", records(500, 100))).toEqual(same(500, mergedId))
      expect(yield* outcomes("merge", records(500, 600))).toEqual(same(500, mergedId))
      // One shard's budget now, not the two of its parents.
      expect(yield* outcomes("merge", records(1, 1100))).toEqual([`refused: ${mergedId}`])
      const stored = byShard(yield* local.readAll("merge"))
      expect([...stored.entries()]).toEqual([[a.ShardId, [0]], [b.ShardId, [1]], [mergedId, ids(100, 1000)]])
      const again = yield* Effect.flip(local.mergeShards("merge", a.ShardId!, b.ShardId!))
      expect(again).toMatchObject({ code: "InvalidArgumentException" })
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { merge: 2 }, limits: true, now: clock.now })))
  })

  it.live("loses nothing when shards split while PutRecords requests are running", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const answered = new Map<string, string>() // sequence number -> shard named in the answer
      const sent = new Set<number>()
      let requests = 0
      let resharded = false
      const startSplitting = yield* Deferred.make<void>()
      const worker = (w: number) =>
        Effect.gen(function*() {
          let after = 0
          for (let batch = 0; after < 5 && batch < 200; batch++) {
            const entries = records(100, (w * 200 + batch) * 100)
            const response = yield* put("busy", entries)
            // Limits far above this load: the proxy places every record, and refuses none.
            expect(response.FailedRecordCount).toBe(0)
            response.Records!.forEach((entry, i) => {
              answered.set(entry.SequenceNumber!, entry.ShardId!)
              sent.add((w * 200 + batch) * 100 + i)
            })
            if (++requests === 8) yield* Deferred.succeed(startSplitting, undefined)
            if (resharded) after++
          }
        })
      const reshard = Effect.gen(function*() {
        yield* Deferred.await(startSplitting)
        const [first, second] = yield* local.listShards("busy")
        yield* local.splitShard("busy", first.ShardId!)
        yield* local.splitShard("busy", second.ShardId!)
        resharded = true
      })
      yield* Effect.all([reshard, ...[0, 1, 2, 3].map(worker)], { concurrency: "unbounded" })

      const shards = yield* local.listShards("busy")
      expect(shards.length).toBe(6)
      const stored = yield* local.readAll("busy")
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
    }).pipe(
      Effect.provide(
        LocalKinesis.layer({ streams: { busy: 2 }, limits: { recordsPerSecond: 1e6, bytesPerSecond: 1e9 } })
      )
    ))

  it.live("lets a script that used LocalKinesis.layer exit as soon as its program ends", () =>
    Effect.gen(function*() {
      expect(existsSync(distIndex), `${fileURLToPath(distIndex)} is missing: build first (npx tsc -b)`).toBe(true)
      const child = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawn(process.execPath, ["--input-type=module", "--eval", script], {
            // From the package's folder, so that the script finds its dependencies as a user's would.
            cwd: fileURLToPath(new URL("..", import.meta.url)),
            stdio: ["ignore", "pipe", "inherit"]
          })
        ),
        (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
      )
      const ended = yield* Effect.promise(() =>
        new Promise<{ readonly line: string; readonly at: number }>((resolve, reject) => {
          createInterface({ input: child.stdout }).once("line", (line) => resolve({ line, at: Date.now() }))
          child.once("exit", (code) => reject(new Error(`the script ended without its line: ${code}`)))
        })
      )
      expect(JSON.parse(ended.line)).toEqual({ failed: 0 })
      const code = yield* Effect.promise(() =>
        new Promise<number | null>((resolve) => {
          if (child.exitCode !== null) resolve(child.exitCode)
          else child.once("exit", (code) => resolve(code))
        })
      )
      expect(code).toBe(0)
      expect(Date.now() - ended.at).toBeLessThan(2_500)
    }).pipe(Effect.scoped))
})
