import type { KinesisProxy } from "@effect-kinesis/local-effect3"
import { Kinesis, KinesisWriter } from "@effect-kinesis/writer-effect3"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Schedule from "effect/Schedule"
import { message, mib, printFigures, retained, retainedMemory, sampleMemory, tally } from "../support/Chaos.js"
import { readAll, spawnLocal } from "../support/Remote.js"

const SECONDS = 30
const RECORD_BYTES = 1024
// 100 records of 1 KiB every 10 ms: 10,000 records and 10 MiB a second, ten times what one shard takes.
const PER_TICK = 100
const TICK_MILLIS = 10

describe("30 seconds at 10 times a shard's capacity", () => {
  it.live(
    "holds resident memory within the buffer bounds plus a constant, and stores every record it took",
    () =>
      Effect.gen(function*() {
        // The server runs in a process of its own: what this process holds is the writer's, not kinesalite's store.
        const remote = yield* spawnLocal({ streams: { pressure: 1 }, limits: true })
        const credentials = { accessKeyId: "local", secretAccessKey: "local" }
        const kinesis = yield* Kinesis.make({ endpoint: remote.endpoint, region: remote.region, credentials })
        const admin = yield* Kinesis.make({ endpoint: remote.kinesaliteEndpoint, region: remote.region, credentials })
        const defaults = KinesisWriter.defaults
        // Defaults throughout; each record is 1 KiB of data and a short random key.
        const writer = yield* KinesisWriter.make({ stream: "pressure" }).pipe(Effect.provideService(Kinesis, kinesis))
        // Warm up (modules, connections, JIT), then take the baseline after a collection.
        const warmUp = Array.from({ length: 2_000 }, (_, i) => -1 - i)
        for (const id of warmUp) yield* writer.enqueue(message(id, RECORD_BYTES))
        yield* writer.flush
        yield* Effect.sleep("2 seconds")
        const atStart = yield* retainedMemory
        const baseline = atStart.rss
        const memory = yield* sampleMemory("20 millis")

        const completed: Array<number> = []
        let offered = 0
        let nextId = 0
        const started = Date.now()
        const producer = yield* Effect.gen(function*() {
          offered += PER_TICK
          for (let i = 0; i < PER_TICK; i++) {
            const id = nextId++
            yield* writer.enqueue(message(id, RECORD_BYTES))
            completed.push(id)
          }
        }).pipe(Effect.repeat(Schedule.fixed(`${TICK_MILLIS} millis`)), Effect.fork)
        yield* Effect.sleep(`${SECONDS} seconds`)
        yield* Fiber.interrupt(producer)
        const loadSeconds = (Date.now() - started) / 1000
        // The producer's schedule wanted this many; it was held back to what the stream took plus the buffer.
        offered = Math.round((loadSeconds * 1000 / TICK_MILLIS) * PER_TICK)
        const peakDuringLoad = memory.state.peak
        // What the writer still holds at the end of the load, once garbage is collected: the buffer, and little else.
        const retainedAtEnd = yield* retainedMemory
        const heldAtEnd = yield* writer.stats
        const flushed = yield* Effect.either(writer.flush)
        yield* memory.stop
        const drainSeconds = (Date.now() - started) / 1000 - loadSeconds
        const stats = yield* writer.stats
        const counters = (yield* remote.command({ counters: true })) as KinesisProxy.Counters
        const stored = tally(yield* readAll(admin, "pressure"), [...warmUp, ...completed])

        // Buffer bounds: at most maxBufferedRecords records of about 1 KiB (the byte bound, 64 MiB, is far off).
        const recordSize = RECORD_BYTES + 16
        const bufferBound = Math.min(defaults.maxBufferedRecords * recordSize, defaults.maxBufferedBytes)
        // What the writer retains, once garbage is collected: the buffer (each record's bytes and its bookkeeping),
        // and a constant for requests in flight and the runtime: 2 x the buffer bound + 16 MiB.
        const retainedBound = retained(atStart) + 2 * bufferBound + 16 * 1024 * 1024
        // Resident memory also holds the garbage V8 lets pile up between collections (each request in flight is
        // its batch several times over: JSON, base64, the socket's copy), so its constant is larger: 160 MiB.
        const bound = baseline + 2 * bufferBound + 160 * 1024 * 1024
        const full = counters.shards.filter((entry) => entry.stream === "pressure")
        const perSecond = full.map((entry) => entry.accepted)
        const busySeconds = perSecond.slice(2, -2)
        printFigures([{
          run: `${SECONDS} s at 10x one shard (10,000 x 1 KiB records/s offered), default options`,
          offered: warmUp.length + completed.length,
          distinct: stored.distinct,
          duplicates: stored.duplicates,
          failedReported: Either.isLeft(flushed) ? flushed.left.failures.length + flushed.left.unlisted : 0,
          lost: stored.missing.length,
          peakRss: `${mib(peakDuringLoad)} MiB (baseline ${mib(baseline)} MiB, bound ${mib(bound)} MiB)`,
          seconds: loadSeconds + drainSeconds
        }])
        process.stdout.write(
          `offered by the schedule: ${offered}, taken by enqueue: ${completed.length}, ` +
            `stored per second during the load: ${JSON.stringify(busySeconds)}, drain: ${drainSeconds.toFixed(1)} s\n` +
            `writer: ${JSON.stringify(stats)}\n` +
            `RSS per second (MiB): ${JSON.stringify(memory.state.timeline.map(mib))}\n` +
            `after a collection before the load: heap used ${mib(atStart.heapUsed)} MiB, array buffers ` +
            `${mib(atStart.arrayBuffers)} MiB; retained bound ${mib(retainedBound)} MiB\n` +
            `after a collection at the end of the load: rss ${mib(retainedAtEnd.rss)} MiB, heap used ` +
            `${mib(retainedAtEnd.heapUsed)} MiB, array buffers ${mib(retainedAtEnd.arrayBuffers)} MiB, ` +
            `buffered ${heldAtEnd.bufferedRecords} records / ${mib(heldAtEnd.bufferedBytes)} MiB\n`
        )

        expect(peakDuringLoad).toBeLessThan(bound)
        // Thirty seconds of overload leave nothing behind but the buffer: no slow leak hides under the RSS bound.
        expect(retained(retainedAtEnd)).toBeLessThan(retainedBound)
        expect(stats.bufferedRecords).toBe(0)
        expect(completed.length).toBeLessThan(offered / 5)
        expect(stored.missing).toEqual([])
        expect(stored.unexpected).toBe(0)
        expect(Either.isRight(flushed)).toBe(true)
        // The shard was kept busy: on average at least 90% of its 1,000 records a second while the load lasted.
        const mean = busySeconds.reduce((sum, n) => sum + n, 0) / busySeconds.length
        expect(mean).toBeGreaterThan(900)
      }).pipe(Effect.scoped),
    300_000
  )
})
