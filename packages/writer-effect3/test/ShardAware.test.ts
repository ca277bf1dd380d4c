import { LocalKinesis } from "@effect-kinesis/local-effect3"
import { KinesisWriter } from "@effect-kinesis/writer-effect3"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Logger, LogLevel, Schedule } from "effect"

// Tests that cross the network talk to the embedded Kinesis over HTTP, through its AWS-limits proxy, on the real
// clock. A loaded machine delays requests past their turn, so the bounds on refusals here sit far from what a
// paced writer and a shard-blind one get; the tight figures are in `npm run test:reliability` and the benchmark.

const utf8 = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

// Enqueues records `from` to `to` - 1 keyed by `keyOf`, each data "<index>".
const enqueueRange = (
  writer: KinesisWriter.Service,
  from: number,
  to: number,
  keyOf: (i: number) => string | undefined = () => undefined
) =>
  Effect.gen(function*() {
    for (let i = from; i < to; i++) yield* writer.enqueue(utf8(String(i)), keyOf(i))
  })

// Writes `count` records keyed by `keyOf`, each data "<index>", then flushes; returns the writer's stats.
const writeAll = (options: KinesisWriter.Options, count: number, keyOf: (i: number) => string | undefined) =>
  Effect.gen(function*() {
    const writer = yield* KinesisWriter.make(options)
    yield* enqueueRange(writer, 0, count, keyOf)
    yield* writer.flush
    return yield* writer.stats
  }).pipe(Effect.scoped)

// Waits until the proxy has stored at least `count` records.
const untilStored = (local: LocalKinesis.Service, count: number) =>
  local.proxy.counters.pipe(
    Effect.repeat({ schedule: Schedule.spaced("20 millis"), until: (counters) => counters.records.stored >= count })
  )

// Every index from 0 to count - 1 read back at least once.
const expectAllStored = (stored: ReadonlyArray<{ readonly data: Uint8Array }>, count: number) => {
  const seen = new Set(stored.map((record) => Number(text(record.data))))
  expect(seen.size).toBe(count)
}

describe("shard-aware sending against AWS's per-shard limits", () => {
  // 6,000 records at once on 2 shards of 1,000 records a second (and a second of burst): 3 s of capacity.
  it.scopedLive("paces 2 shards: few of the records sent are refused", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const stats = yield* writeAll({ stream: "paced" }, 6000, () => undefined)
      const counters = yield* local.proxy.counters
      expect(stats.delivered).toBe(6000)
      // Paced, a few dozen are refused (some hundreds on a loaded machine); sent at once, 6,000 records would meet
      // 2,000 of room. How much more often a shard-blind writer is refused depends on how fast a loaded machine
      // sends: the reliability suite compares the two (local-effect3/test/reliability/ShardAware.reliability.ts).
      expect(counters.records.throttled).toBeLessThan(2000)
      expectAllStored(yield* local.readAll("paced"), 6000)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { paced: 2 }, limits: true }))))

  it.scopedLive("shard-blind, the same 6,000 records meet the limits, and all are stored through the refusals", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const stats = yield* writeAll({ stream: "paced", shardAware: false }, 6000, () => undefined)
      const counters = yield* local.proxy.counters
      expect(stats.delivered).toBe(6000)
      // The limits are in force, so the bound on refusals of the paced writer above says something.
      expect(counters.records.throttled).toBeGreaterThan(0)
      expectAllStored(yield* local.readAll("paced"), 6000)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { paced: 2 }, limits: true }))))

  it.scopedLive("a hot key's shard is paced alone, and the other shards are not held back", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const stats = yield* writeAll({ stream: "hot" }, 4000, (i) => (i % 2 === 0 ? "hot" : undefined))
      const counters = yield* local.proxy.counters
      expect(stats.delivered).toBe(4000)
      // Sent at once, the hot key's 2,000 records would meet 1,000 of room on their shard: 1,000 refused at the
      // least. Paced, a few dozen are (a hundred or so on a loaded machine).
      expect(counters.records.throttled).toBeLessThan(500)
      const stored = yield* local.readAll("hot")
      expectAllStored(stored, 4000)
      // The hot shard's records were stored over about a second (burst, then its rate); the others' at once.
      const hotShard = stored.find((record) => record.partitionKey === "hot")!.shardId
      expect(stored.filter((record) => record.shardId === hotShard).length).toBeGreaterThanOrEqual(2000)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { hot: 4 }, limits: true }))))

  it.scopedLive("when ListShards is denied, sends shard-blind and says so once, at Warning", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      yield* local.proxy.setFaults({ error: { type: "AccessDeniedException" }, operations: ["ListShards"] })
      const lines: Array<{ readonly level: string; readonly message: string }> = []
      const logger = Logger.make(({ logLevel, message }) => {
        lines.push({ level: logLevel.label, message: String(Array.isArray(message) ? message[0] : message) })
      })
      const stats = yield* writeAll({ stream: "denied", linger: 0 }, 300, () => undefined).pipe(
        Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
        Logger.withMinimumLogLevel(LogLevel.Info)
      )
      expect(stats.delivered).toBe(300)
      expectAllStored(yield* local.readAll("denied"), 300)
      const warnings = lines.filter((line) => line.level === "WARN")
      expect(warnings).toHaveLength(1)
      expect(warnings[0].message).toContain("cannot read the shards of stream denied")
      expect(warnings[0].message).toContain("AccessDeniedException")
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { denied: 2 } }))))

  it.scopedLive("a shard split while writing: nothing lost, the children take records, few are refused", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({ stream: "split" })
      // The first 4,000 records are paced at 2,000 a second; the shard splits once 1,000 are stored, while the
      // rest are being sent, and the last 2,000 are taken after the split, so that the children's share of them
      // (about 1,000) goes to the children however fast or slow the machine is.
      const first = yield* Effect.fork(enqueueRange(writer, 0, 4000))
      yield* untilStored(local, 1000)
      const [before] = yield* local.listShards("split")
      const children = yield* local.splitShard("split", before.ShardId!)
      yield* enqueueRange(writer, 4000, 6000)
      yield* Fiber.join(first)
      yield* writer.flush
      const stats = yield* writer.stats
      const counters = yield* local.proxy.counters
      expect(stats.delivered).toBe(6000)
      const stored = yield* local.readAll("split")
      expectAllStored(stored, 6000)
      expect(stored).toHaveLength(6000)
      for (const child of children) {
        expect(stored.filter((record) => record.shardId === child.ShardId).length).toBeGreaterThan(300)
      }
      // A writer blind to the shards is refused thousands of these records; paced, a few hundred at most.
      expect(counters.records.throttled).toBeLessThan(1000)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { split: 2 }, limits: true }))))

  it.scopedLive("two shards merged while writing: nothing lost, the merged shard takes their records", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({ stream: "merge" })
      // As for the split: the merge happens while the first 4,000 are sent, and the last 2,000 come after it.
      const first = yield* Effect.fork(enqueueRange(writer, 0, 4000))
      yield* untilStored(local, 1000)
      const [firstShard, secondShard] = yield* local.listShards("merge")
      const merged = yield* local.mergeShards("merge", firstShard.ShardId!, secondShard.ShardId!)
      yield* enqueueRange(writer, 4000, 6000)
      yield* Fiber.join(first)
      yield* writer.flush
      const stats = yield* writer.stats
      expect(stats.delivered).toBe(6000)
      const stored = yield* local.readAll("merge")
      expectAllStored(stored, 6000)
      expect(stored).toHaveLength(6000)
      // Two thirds of the hash keys are the merged shard's: about 1,300 of the last 2,000 records.
      expect(stored.filter((record) => record.shardId === merged.ShardId).length).toBeGreaterThan(300)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { merge: 3 }, limits: true }))))

  it.scopedLive("ordered: each key's records are stored in the order taken, under throttling, failures and 500s", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      yield* local.proxy.setFaults({ internalFailure: 0.05, serverError: 0.05, seed: 7 })
      // Ordered, a shard has one request in flight at a time: some 150 round trips here, 20 records a key.
      const keys = 24
      const count = 480
      const stats = yield* writeAll(
        { stream: "ordered", ordered: true, maxBufferedRecords: 500 },
        count,
        (i) => `key-${i % keys}`
      )
      expect(stats.delivered).toBe(count)
      const stored = yield* local.readAll("ordered")
      expectAllStored(stored, count)
      // readAll gives each shard in order, and a key stays on its shard: each key's first copies must ascend.
      const byKey = new Map<string, Array<number>>()
      const seen = new Set<number>()
      for (const record of stored) {
        const index = Number(text(record.data))
        if (seen.has(index)) continue // a copy from a request that was stored but not answered
        seen.add(index)
        const list = byKey.get(record.partitionKey) ?? []
        list.push(index)
        byKey.set(record.partitionKey, list)
      }
      expect(byKey.size).toBe(keys)
      // The plan did happen (some 25 records failed, and some 7 requests answered 500).
      const { faults } = yield* local.proxy.counters
      expect(faults.internalFailure).toBeGreaterThan(0)
      expect(faults.serverError).toBeGreaterThan(0)
      for (const indexes of byKey.values()) expect(indexes).toEqual([...indexes].sort((a, b) => a - b))
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { ordered: 4 }, limits: true }))))
})
