// How often the shard-aware writer is refused against AWS's per-shard limits, next to a shard-blind one. The figures
// depend on how fast the machine sends, so they are checked here, one file at a time, and not in `npm test`
// (packages/writer-effect3/test/ShardAware.test.ts keeps bounds that hold on a loaded machine).
import { LocalKinesis } from "@effect-kinesis/local-effect3"
import { KinesisWriter } from "@effect-kinesis/writer-effect3"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { message, tally } from "../support/Chaos.js"

// Writes `count` numbered records keyed by `keyOf`, then flushes; returns the writer's stats.
const writeAll = (options: KinesisWriter.Options, count: number, keyOf: (id: number) => string | undefined) =>
  Effect.gen(function*() {
    const writer = yield* KinesisWriter.make(options)
    for (let id = 0; id < count; id++) yield* writer.enqueue(message(id), keyOf(id))
    yield* writer.flush
    return yield* writer.stats
  }).pipe(Effect.scoped)

const refused = (counters: { readonly records: { readonly throttled: number; readonly offered: number } }) =>
  counters.records.throttled / counters.records.offered

describe("shard-aware sending, the figures", () => {
  it.live("paces 2 shards: under 5% of what is sent is refused, and shard-blind sending is refused twice as often", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      // 6,000 records at once on 2 shards of 1,000 records a second (and a second of burst): 3 s of capacity.
      const aware = yield* writeAll({ stream: "paced" }, 6000, () => undefined)
      const awareCounters = yield* local.proxy.counters
      yield* local.proxy.resetCounters
      yield* local.proxy.setLimits(true)
      const blind = yield* writeAll({ stream: "paced", shardAware: false }, 6000, () => undefined)
      const blindCounters = yield* local.proxy.counters
      process.stdout.write(
        `refused: shard-aware ${(100 * refused(awareCounters)).toFixed(1)}%, ` +
          `shard-blind ${(100 * refused(blindCounters)).toFixed(1)}%\n`
      )

      expect(aware.delivered).toBe(6000)
      expect(blind.delivered).toBe(6000)
      expect(refused(awareCounters)).toBeLessThan(0.05)
      expect(refused(blindCounters)).toBeGreaterThan(2 * refused(awareCounters))
      expect(tally(yield* local.readAll("paced"), Array.from({ length: 6000 }, (_, id) => id)).missing).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(LocalKinesis.layer({ streams: { paced: 2 }, limits: true }))))

  it.live("a hot key's shard is paced alone: under 3% of what is sent is refused", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const stats = yield* writeAll({ stream: "hot" }, 4000, (id) => (id % 2 === 0 ? "hot" : undefined))
      const counters = yield* local.proxy.counters
      process.stdout.write(`refused with a hot key: ${(100 * refused(counters)).toFixed(1)}%\n`)

      expect(stats.delivered).toBe(4000)
      expect(refused(counters)).toBeLessThan(0.03)
      expect(tally(yield* local.readAll("hot"), Array.from({ length: 4000 }, (_, id) => id)).missing).toEqual([])
    }).pipe(Effect.scoped, Effect.provide(LocalKinesis.layer({ streams: { hot: 4 }, limits: true }))))
})
