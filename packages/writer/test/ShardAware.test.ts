import { LocalKinesis } from "@effect-kinesis/local"
import { KinesisWriter } from "@effect-kinesis/writer"
import { describe, expect, it } from "@effect/vitest"
import { Effect, Fiber, Logger, LogLevel } from "effect"

// Tests that cross the network talk to the embedded Kinesis over HTTP, through its AWS-limits proxy, on the real
// clock. Thresholds leave room for a loaded machine; the benchmark measures the figures.

const utf8 = (text: string) => new TextEncoder().encode(text)
const text = (data: Uint8Array) => new TextDecoder().decode(data)

// Writes `count` records keyed by `keyOf`, each data "<index>", then flushes; returns the writer's stats.
const writeAll = (options: KinesisWriter.Options, count: number, keyOf: (i: number) => string | undefined) =>
  Effect.gen(function*() {
    const writer = yield* KinesisWriter.make(options)
    for (let i = 0; i < count; i++) yield* writer.enqueue(utf8(String(i)), keyOf(i))
    yield* writer.flush
    return yield* writer.stats
  }).pipe(Effect.scoped)

// Every index from 0 to count - 1 read back at least once.
const expectAllStored = (stored: ReadonlyArray<{ readonly data: Uint8Array }>, count: number) => {
  const seen = new Set(stored.map((record) => Number(text(record.data))))
  expect(seen.size).toBe(count)
}

describe("shard-aware sending against AWS's per-shard limits", () => {
  it.scopedLive("paces 2 shards: what is sent is seldom refused, where shard-blind sending is refused often", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      // 6,000 records at once on 2 shards of 1,000 records a second (and a second of burst): 3 s of capacity.
      const aware = yield* writeAll({ stream: "paced" }, 6000, () => undefined)
      const awareCounters = yield* local.proxy.counters
      yield* local.proxy.resetCounters
      yield* local.proxy.setLimits(true)
      const blind = yield* writeAll({ stream: "paced", shardAware: false }, 6000, () => undefined)
      const blindCounters = yield* local.proxy.counters

      const refused = (counters: typeof awareCounters) => counters.records.throttled / counters.records.offered
      expect(aware.delivered).toBe(6000)
      expect(blind.delivered).toBe(6000)
      expect(refused(awareCounters)).toBeLessThan(0.05)
      expect(refused(blindCounters)).toBeGreaterThan(2 * refused(awareCounters))
      expectAllStored(yield* local.readAll("paced"), 6000)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { paced: 2 }, limits: true }))))

  it.scopedLive("a hot key's shard is paced alone, and the other shards are not held back", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const stats = yield* writeAll({ stream: "hot" }, 4000, (i) => (i % 2 === 0 ? "hot" : undefined))
      const counters = yield* local.proxy.counters
      expect(stats.delivered).toBe(4000)
      expect(counters.records.throttled / counters.records.offered).toBeLessThan(0.03)
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
      const writing = yield* Effect.fork(writeAll({ stream: "split" }, 6000, () => undefined))
      yield* Effect.sleep("700 millis") // the writer is paced at 2,000 records a second: about a third is sent
      const [before] = yield* local.listShards("split")
      const children = yield* local.splitShard("split", before.ShardId!)
      const stats = yield* Fiber.join(writing)
      const counters = yield* local.proxy.counters
      expect(stats.delivered).toBe(6000)
      const stored = yield* local.readAll("split")
      expectAllStored(stored, 6000)
      expect(stored).toHaveLength(6000)
      for (const child of children) {
        expect(stored.filter((record) => record.shardId === child.ShardId).length).toBeGreaterThan(300)
      }
      expect(counters.records.throttled / counters.records.offered).toBeLessThan(0.05)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { split: 2 }, limits: true }))))

  it.scopedLive("two shards merged while writing: nothing lost, the merged shard takes their records", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writing = yield* Effect.fork(writeAll({ stream: "merge" }, 6000, () => undefined))
      yield* Effect.sleep("500 millis")
      const [first, second] = yield* local.listShards("merge")
      const merged = yield* local.mergeShards("merge", first.ShardId!, second.ShardId!)
      const stats = yield* Fiber.join(writing)
      expect(stats.delivered).toBe(6000)
      const stored = yield* local.readAll("merge")
      expectAllStored(stored, 6000)
      expect(stored).toHaveLength(6000)
      expect(stored.filter((record) => record.shardId === merged.ShardId).length).toBeGreaterThan(300)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { merge: 3 }, limits: true }))))

  it.scopedLive("ordered: each key's records are stored in the order taken, under throttling, failures and 500s", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      yield* local.proxy.setFaults({ internalFailure: 0.05, serverError: 0.05, seed: 7 })
      const keys = 24
      const count = 1500
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
      for (const indexes of byKey.values()) expect(indexes).toEqual([...indexes].sort((a, b) => a - b))
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { ordered: 4 }, limits: true }))))
})
