import { LocalKinesis } from "@effect-kinesis/local-effect3"
import { KinesisWriter, RecordFailed } from "@effect-kinesis/writer-effect3"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Schedule from "effect/Schedule"
import * as Scope from "effect/Scope"
import { captureLogs, chaos, idOf, loggedFailures, message, quickRetry, tally } from "./support/Chaos.js"

// The mix of the issue (20% of records throttled, 2% InternalFailure, and of requests 5% answered 500, 2% reset
// before they are forwarded, 1% reset after the records are stored), with each request fault at 5%: so that in
// a quick run of 1,000 records (about 150 requests) every kind happens. The issue's own rates, over 5,000
// records, are in the reliability suite (test/reliability/Chaos.reliability.ts).
const mix = {
  throttle: 0.2,
  internalFailure: 0.02,
  serverError: 0.05,
  resetBeforeForward: 0.05,
  resetAfterForward: 0.05
}

describe("the writer under faults", () => {
  it.live("stores every record at least once under the mixed plan; duplicates only from unanswered requests", () =>
    Effect.gen(function*() {
      const figures = yield* chaos({
        records: 1_000,
        shards: 4,
        plan: { ...mix, seed: 3 },
        writer: { linger: "5 millis", maxBatchRecords: 10, retry: quickRetry() }
      })
      expect(figures.tally.missing).toEqual([])
      expect(figures.tally.unexpected).toBe(0)
      expect(Either.isRight(figures.flush)).toBe(true)
      expect(figures.stats).toMatchObject({ accepted: 1_000, delivered: 1_000, failed: 0, bufferedRecords: 0 })
      // Each record stored by a request whose answer was lost is sent again: exactly one extra copy each.
      expect(figures.tally.duplicates).toBe(figures.counters.records.unanswered)
      expect(figures.counters.records.unanswered).toBeGreaterThan(0)
      // The plan did happen: every kind of fault was injected.
      const faults = figures.counters.faults
      for (const kind of Object.keys(mix) as Array<keyof typeof mix>) expect(faults[kind], kind).toBeGreaterThan(0)
      expect(figures.stats.retried).toBeGreaterThan(200)
    }))

  for (const type of ["AccessDeniedException", "ResourceNotFoundException", "KMSAccessDeniedException"]) {
    it.live(`reports each record refused with ${type} once, through put, flush and the log, never retried`, () => {
      const logs = captureLogs()
      return Effect.gen(function*() {
        const local = yield* LocalKinesis
        const writer = yield* KinesisWriter.make({ stream: "denied", linger: "20 millis", retry: quickRetry() })
        yield* local.proxy.setFaults({ error: { type } })
        const puts = yield* Effect.forEach([0, 1, 2], (id) => Effect.flip(writer.put(message(id))), {
          concurrency: "unbounded"
        })
        for (const [i, error] of puts.entries()) {
          expect(error).toBeInstanceOf(RecordFailed)
          expect(error).toMatchObject({ code: type, attempts: 1, retriable: false })
          expect(idOf((error as RecordFailed).data)).toBe(i)
          expect((error as RecordFailed).detail.length).toBeGreaterThan(0)
        }
        for (let id = 10; id < 15; id++) yield* writer.enqueue(message(id))
        const failed = yield* Effect.flip(writer.flush)
        expect(failed._tag).toBe("DeliveryFailed")
        expect(failed.failures.map((failure) => idOf(failure.data))).toEqual([10, 11, 12, 13, 14])
        expect(failed.failures.every((failure) => failure.code === type && failure.attempts === 1)).toBe(true)
        expect(loggedFailures(logs.lines)).toBe(8)
        const stats = yield* writer.stats
        expect(stats).toMatchObject({ accepted: 8, delivered: 0, failed: 8, retried: 0, bufferedRecords: 0 })
        // One request per batch, none sent again.
        const counters = yield* local.proxy.counters
        expect(counters.requests.PutRecords).toBe(stats.requests)
        expect(counters.faults.error).toBe(stats.requests)

        yield* local.proxy.setFaults({})
        yield* writer.enqueue(message(20))
        yield* writer.flush
        yield* writer.flush
        expect((yield* local.readAll("denied")).map((record) => idOf(record.data))).toEqual([20])
      }).pipe(
        Effect.scoped,
        Effect.provide(LocalKinesis.layer({ streams: { denied: 1 } })),
        Effect.provide(logs.layer)
      )
    })
  }

  it.live("reports what a partly failing stream refused, stores the rest, and reports nothing twice", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const local = yield* LocalKinesis
      // Batches of 20: some 40 requests, a fifth of them refused with AccessDeniedException.
      const records = 800
      const flushes = yield* Effect.gen(function*() {
        const writer = yield* KinesisWriter.make({
          stream: "partial",
          linger: "5 millis",
          maxBatchRecords: 20,
          retry: quickRetry()
        })
        const failures: Array<RecordFailed> = []
        for (let id = 0; id < records; id++) {
          yield* writer.enqueue(message(id))
          if (id % 200 === 199) {
            const flushed = yield* Effect.either(writer.flush)
            if (Either.isLeft(flushed)) failures.push(...flushed.left.failures)
          }
        }
        return { failures, stats: yield* writer.stats }
      }).pipe(Effect.scoped)
      const failedIds = flushes.failures.map((failure) => idOf(failure.data))
      const stored = tally(yield* local.readAll("partial"), Array.from({ length: records }, (_, i) => i))
      expect(new Set(failedIds).size).toBe(failedIds.length)
      expect(failedIds.length).toBeGreaterThan(0)
      expect(flushes.failures.every((failure) => failure.code === "AccessDeniedException")).toBe(true)
      // Stored and reported are disjoint, and together they are everything.
      expect(failedIds.filter((id) => stored.ids.has(id))).toEqual([])
      expect(stored.distinct + failedIds.length).toBe(records)
      expect(stored.duplicates).toBe(0)
      expect(flushes.stats).toMatchObject({ accepted: records, failed: failedIds.length, delivered: stored.distinct })
      expect(loggedFailures(logs.lines)).toBe(failedIds.length)
    }).pipe(
      Effect.provide(
        LocalKinesis.layer({
          streams: { partial: 2 },
          faults: { seed: 5, throttle: 0.1, error: { type: "AccessDeniedException", rate: 0.2 }, serverError: 0.1 }
        })
      ),
      Effect.provide(logs.layer)
    )
  })

  it.live("retries a request that hangs or is delayed past the request timeout, and loses nothing", () =>
    Effect.gen(function*() {
      // The timeout leaves room for a loaded machine's slow answers; a delay outlasts it by a second.
      const figures = yield* chaos({
        records: 1_000,
        shards: 2,
        plan: { seed: 11, hang: 0.25, delay: { millis: 2_000, rate: 0.15 } },
        writer: { linger: "5 millis", maxBatchRecords: 50, requestTimeout: "1 second", retry: quickRetry() }
      })
      expect(figures.tally.missing).toEqual([])
      // A request held past the timeout is dropped by the proxy, not stored: a copy comes only from a request
      // stored but answered too late (none, unless the machine is very slow), and then exactly one.
      expect(figures.tally.duplicates).toBe(figures.counters.records.unanswered)
      expect(Either.isRight(figures.flush)).toBe(true)
      const { counters, stats } = figures
      expect(counters.faults.hang).toBeGreaterThan(0)
      expect(counters.abandoned).toBeGreaterThan(0)
      expect(stats.failedRequests).toBeGreaterThanOrEqual(counters.faults.hang + counters.abandoned)
      expect(stats).toMatchObject({ accepted: 1_000, delivered: 1_000, failed: 0 })
    }))

  it.live("closes within shutdownTimeout while throttled and in flight; every record is stored or reported", () => {
    const logs = captureLogs()
    return Effect.gen(function*() {
      const local = yield* LocalKinesis
      const scope = yield* Scope.make()
      // Every batch goes out at once; the throttled records then wait out a long retry delay, so that at the
      // deadline some records are waiting to be sent again and some requests are held back by the proxy.
      const writer = yield* KinesisWriter.make({
        stream: "closing",
        linger: "5 millis",
        maxBatchRecords: 100,
        maxInFlight: 20,
        shutdownTimeout: "1 second",
        requestTimeout: "5 seconds",
        retry: Schedule.spaced("10 seconds")
      }).pipe(Scope.extend(scope))
      const enqueued = 1_000
      for (let id = 0; id < enqueued; id++) yield* writer.enqueue(message(id))
      const puts = yield* Effect.forEach(
        Array.from({ length: 50 }, (_, i) => enqueued + i),
        (id) => Effect.fork(Effect.either(writer.put(message(id)))),
        { concurrency: "unbounded" }
      )
      yield* Effect.sleep("300 millis")
      const inFlight = (yield* writer.stats).inFlight
      const started = Date.now()
      yield* Scope.close(scope, Exit.void)
      const closedIn = Date.now() - started
      const putResults = yield* Effect.forEach(puts, Fiber.join)
      const afterClose = yield* Effect.either(writer.flush)
      const enqueueFailures = Either.isLeft(afterClose) ? afterClose.left.failures : []
      const putFailures = putResults.flatMap((result) => (Either.isLeft(result) ? [result.left as RecordFailed] : []))
      const stats = yield* writer.stats
      const stored = tally(yield* local.readAll("closing"), Array.from({ length: enqueued + 50 }, (_, i) => i))

      expect(inFlight).toBeGreaterThan(0)
      expect((yield* local.proxy.counters).records.throttled).toBeGreaterThan(0)
      // The deadline, with room for a loaded machine; waiting for the retries would take 10 seconds.
      expect(closedIn).toBeLessThan(1_000 + 1_500)
      expect(stats.failed).toBeGreaterThan(0)
      // None vanish: each record is stored, or reported to put's caller, or to flush.
      const reported = [...putFailures, ...enqueueFailures]
      const reportedIds = new Set(reported.map((failure) => idOf(failure.data)))
      expect(reportedIds.size).toBe(reported.length)
      const vanished = Array.from({ length: enqueued + 50 }, (_, id) => id).filter((id) =>
        !stored.ids.has(id) && !reportedIds.has(id)
      )
      expect(vanished).toEqual([])
      // A record reported though stored was in a request that had no answer yet; one never sent was not stored.
      for (const failure of reported) {
        if (stored.ids.has(idOf(failure.data))) expect(failure.detail).toMatch(/may have stored it/)
      }
      expect(reported.every((failure) => failure.code === "ShutdownTimeout")).toBe(true)
      // Every put that succeeded is in the stream.
      putResults.forEach((result, i) => {
        if (Either.isRight(result)) expect(stored.ids.has(enqueued + i)).toBe(true)
      })
      expect(stats.accepted).toBe(stats.delivered + stats.failed)
      expect(stats.failed).toBe(reported.length)
      expect(logs.lines.filter((line) => line.level === "ERROR").map((line) => line.message)).toEqual([
        `${enqueueFailures.length} record(s) given to enqueue were not delivered to stream closing` +
        " and no flush reported them before the writer closed"
      ])
    }).pipe(
      Effect.provide(
        LocalKinesis.layer({
          streams: { closing: 1 },
          limits: { recordsPerSecond: 200 },
          faults: { seed: 2, delay: { millis: 1_500, rate: 0.5 } }
        })
      ),
      Effect.provide(logs.layer)
    )
  })

  it.live("an enqueue or put interrupted while it waits for room takes no room and sends nothing", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      yield* local.proxy.setFaults({ hang: 1 })
      const writer = yield* KinesisWriter.make({
        stream: "interrupted",
        linger: 0,
        maxBatchRecords: 5,
        maxBufferedRecords: 10,
        requestTimeout: "1 second",
        retry: quickRetry()
      })
      for (let id = 0; id < 10; id++) yield* writer.enqueue(message(id))
      const blockedEnqueue = yield* Effect.fork(writer.enqueue(message(100)))
      const blockedPut = yield* Effect.fork(writer.put(message(101)))
      yield* Effect.sleep("100 millis")
      expect(Option.isNone(yield* Fiber.poll(blockedEnqueue))).toBe(true)
      expect(Option.isNone(yield* Fiber.poll(blockedPut))).toBe(true)
      yield* Fiber.interrupt(blockedEnqueue)
      yield* Fiber.interrupt(blockedPut)
      const behind = yield* Effect.fork(writer.put(message(102)))
      expect(yield* writer.stats).toMatchObject({ accepted: 10, bufferedRecords: 10 })

      yield* local.proxy.setFaults({})
      const result = yield* Fiber.join(behind)
      expect(result.shardId).toBe("shardId-000000000000")
      // A put interrupted after its record was taken: the caller leaves, the record is still delivered.
      yield* local.proxy.setFaults({ hang: { times: 1 } })
      const leaving = yield* Effect.fork(writer.put(message(103)))
      yield* Effect.sleep("100 millis")
      expect((yield* local.proxy.counters).faults.hang).toBeGreaterThan(0)
      yield* Fiber.interrupt(leaving)
      yield* writer.flush
      expect(yield* writer.stats).toMatchObject({
        accepted: 12,
        delivered: 12,
        failed: 0,
        bufferedRecords: 0,
        inFlight: 0
      })
      const ids = (yield* local.readAll("interrupted")).map((record) => idOf(record.data)).sort((a, b) => a - b)
      expect([...new Set(ids)]).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 102, 103])
      // Stored twice only from a request answered after the timeout (none, unless the machine is very slow).
      expect(ids.length - new Set(ids).size).toBe((yield* local.proxy.counters).records.unanswered)
    }).pipe(Effect.scoped, Effect.provide(LocalKinesis.layer({ streams: { interrupted: 1 } }))))

  it.live("stays consistent when many callers are interrupted at random moments under backpressure", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({
        stream: "random",
        linger: "2 millis",
        maxBatchRecords: 20,
        maxBufferedRecords: 30,
        retry: quickRetry()
      })
      const completed: Array<number> = []
      const callers = yield* Effect.forEach(Array.from({ length: 300 }, (_, id) => id), (id) =>
        Effect.fork(
          Effect.asVoid(id % 2 === 0 ? writer.enqueue(message(id)) : writer.put(message(id))).pipe(
            Effect.tap(() => Effect.sync(() => completed.push(id)))
          )
        ))
      yield* Effect.forEach(callers, (fiber) =>
        Random.nextIntBetween(0, 300).pipe(
          Effect.flatMap((millis) => Effect.sleep(millis)),
          Effect.zipRight(Fiber.interrupt(fiber)),
          Effect.fork
        ))
      yield* Effect.forEach(callers, Fiber.await)
      yield* writer.flush
      const stats = yield* writer.stats
      const stored = tally(yield* local.readAll("random"), Array.from({ length: 300 }, (_, id) => id))
      // Some callers finished and some were cut off, else the test tested nothing.
      expect(completed.length).toBeGreaterThan(0)
      expect(completed.length).toBeLessThan(300)
      expect(stats).toMatchObject({ failed: 0, bufferedRecords: 0, inFlight: 0 })
      expect(stats.delivered).toBe(stats.accepted)
      expect(stored.distinct).toBe(stats.accepted)
      expect(stored.duplicates).toBe(0)
      expect(completed.filter((id) => !stored.ids.has(id))).toEqual([])
    }).pipe(
      Effect.scoped,
      Effect.provide(
        LocalKinesis.layer({
          streams: { random: 1 },
          limits: { recordsPerSecond: 300 },
          faults: { seed: 4, throttle: 0.3 }
        })
      )
    ))

  it.live("holds no more than its buffer bounds under 10 times the stream's capacity", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const maxBufferedRecords = 1_000
      const maxBufferedBytes = 600 * 1024
      const writer = yield* KinesisWriter.make({
        stream: "pressure",
        linger: "10 millis",
        maxBufferedRecords,
        maxBufferedBytes,
        maxRecordBytes: 2048,
        retry: quickRetry("60 seconds")
      })
      const completed: Array<number> = []
      let offered = 0
      const started = Date.now()
      const peak = { records: 0, bytes: 0 }
      const sampler = yield* writer.stats.pipe(
        Effect.tap((stats) =>
          Effect.sync(() => {
            peak.records = Math.max(peak.records, stats.bufferedRecords)
            peak.bytes = Math.max(peak.bytes, stats.bufferedBytes)
          })
        ),
        Effect.repeat(Schedule.spaced("5 millis")),
        Effect.fork
      )
      // 50 records of 1 KiB every 10 ms: 5,000 records and 5 MiB a second, against 500 records and 500 KiB.
      const producer = yield* Effect.gen(function*() {
        for (let i = 0; i < 50; i++) {
          const id = offered++
          yield* writer.enqueue(message(id, 1024))
          completed.push(id)
        }
      }).pipe(Effect.repeat(Schedule.fixed("10 millis")), Effect.fork)
      yield* Effect.sleep("3 seconds")
      yield* Fiber.interrupt(producer)
      const window = (Date.now() - started) / 1000
      yield* writer.flush
      yield* Fiber.interrupt(sampler)
      const stats = yield* writer.stats
      const stored = tally(yield* local.readAll("pressure"), Array.from({ length: offered }, (_, id) => id))
      const counters = yield* local.proxy.counters

      expect(peak.records).toBeLessThanOrEqual(maxBufferedRecords)
      expect(peak.bytes).toBeLessThanOrEqual(maxBufferedBytes)
      // The buffer did fill: the producer was held back to a fraction of what it offered.
      expect(peak.bytes).toBeGreaterThan(maxBufferedBytes - 2 * 1024)
      // The producer was held back to what the stream took (one second of burst, then 500 a second) plus the buffer.
      expect(completed.length).toBeLessThan(500 + 500 * window + maxBufferedRecords)
      expect(counters.records.throttled).toBeGreaterThan(0)
      // How busy the stream is kept while the producer is held back depends on the machine's speed: the reliability
      // suite measures it (test/reliability/Backpressure.reliability.ts). Here: the flush ends, and nothing is lost.
      expect(stats).toMatchObject({ failed: 0, bufferedRecords: 0 })
      expect(stored.distinct).toBe(stats.accepted)
      expect(completed.filter((id) => !stored.ids.has(id))).toEqual([])
    }).pipe(
      Effect.scoped,
      Effect.provide(
        LocalKinesis.layer({ streams: { pressure: 1 }, limits: { recordsPerSecond: 500, bytesPerSecond: 500 * 1024 } })
      )
    ))
})
