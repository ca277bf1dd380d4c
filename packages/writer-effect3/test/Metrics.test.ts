import { KinesisWriter, Metrics } from "@effect-kinesis/writer-effect3"
import { describe, expect, it } from "@effect/vitest"
import { Clock, Deferred, Effect, Fiber, Metric, Schedule, TestClock } from "effect"
import {
  type Answer,
  gate,
  idle,
  requestError,
  response,
  scriptedKinesis,
  storeAfter,
  storeAll
} from "./support/ScriptedKinesis.js"

// Effect's metrics live in one registry per process: each test writes to a stream of its own.
const SHARD = "shardId-000000000000"
const THROTTLED = "ProvisionedThroughputExceededException"

const counted = (metric: Metric.Metric.Counter<number>, key?: string, tag?: string) =>
  Metric.value(key === undefined || tag === undefined ? metric : Metric.tagged(metric, key, tag)).pipe(
    Effect.map((state) => state.count)
  )

// The first request: its first three entries are throttled, the rest stored; later requests store everything.
const throttleThreeOnce = (sentAt: Array<number>) => (input: Parameters<typeof storeAll>[0], call: number): Answer =>
  Effect.flatMap(Clock.currentTimeMillis, (now) => {
    sentAt.push(now)
    return call === 0 ?
      Effect.succeed(response((input.Records ?? []).map((_, i) => i < 3 ? { code: THROTTLED } : { ok: `0-${i}` }))) :
      storeAll(input, call)
  })

describe("Metrics", () => {
  it.scoped("10 records, 3 throttled once: 10 taken and delivered, 3 retried and throttled on their shard", () =>
    Effect.gen(function*() {
      const stream = "metrics-throttled"
      const sentAt: Array<number> = []
      const kinesis = scriptedKinesis(throttleThreeOnce(sentAt))
      const writer = yield* KinesisWriter.make({ stream, retry: Schedule.spaced("100 millis") }).pipe(
        Effect.provide(kinesis.layer)
      )
      for (let i = 0; i < 10; i++) yield* writer.enqueue(`record ${i}`)
      const flushing = yield* Effect.fork(writer.flush)
      yield* TestClock.adjust("1 second") // the throttled shard's budget refills
      yield* Fiber.join(flushing)
      expect(kinesis.calls).toHaveLength(2)

      const metrics = Metrics.forStream(stream)
      expect(yield* counted(metrics.recordsTaken)).toBe(10)
      expect(yield* counted(metrics.recordsDelivered)).toBe(10)
      expect(yield* counted(metrics.recordsRetried, "error.type", THROTTLED)).toBe(3)
      expect(yield* counted(metrics.recordsThrottled, "messaging.destination.partition.id", SHARD)).toBe(3)
      expect(yield* counted(metrics.sentMessages)).toBe(13)
      expect(yield* counted(metrics.recordsFailed, "error.type", THROTTLED)).toBe(0)
      // Each record is 8 bytes of data and a generated key: what was sent is what was stored, and 3 again.
      const bytesDelivered = yield* counted(metrics.bytesDelivered)
      const bytesSent = yield* counted(metrics.bytesSent)
      expect(bytesDelivered).toBe(
        kinesis.calls[0].Records!.reduce((sum, r) => sum + r.Data!.length + r.PartitionKey!.length, 0)
      )
      expect(bytesSent - bytesDelivered).toBe(
        kinesis.calls[1].Records!.reduce((sum, r) => sum + r.Data!.length + r.PartitionKey!.length, 0)
      )

      const perRequest = yield* Metric.value(metrics.requestRecords)
      expect([perRequest.count, perRequest.sum, perRequest.min, perRequest.max]).toEqual([2, 13, 3, 10])
      const latency = yield* Metric.value(metrics.operationDuration)
      expect(latency.count).toBe(2)
      // 7 records stored at once, 3 after the shard's budget refilled: their time counts from enqueue, not retry.
      const delivery = yield* Metric.value(metrics.deliveryDuration)
      expect(delivery.count).toBe(10)
      expect(sentAt[0]).toBe(0)
      expect(sentAt[1]).toBeGreaterThanOrEqual(100)
      expect([delivery.min, delivery.max]).toEqual([0, sentAt[1] / 1000])
      expect(delivery.sum).toBeCloseTo(3 * sentAt[1] / 1000, 9)

      expect(yield* counted(metrics.recordsHeld)).toBe(0)
      expect(yield* counted(metrics.bytesHeld)).toBe(0)
      expect(yield* counted(metrics.requestsInFlight)).toBe(0)

      const stats = yield* writer.stats
      expect(stats).toMatchObject({
        accepted: 10,
        sent: 13,
        delivered: 10,
        retried: 3,
        throttled: 3,
        failed: 0,
        requests: 2,
        failedRequests: 0,
        bytesSent,
        bytesDelivered,
        failedByCode: {},
        throttledByShard: { [SHARD]: 3 },
        failingRequests: 0,
        failingSince: undefined,
        lastRequestError: undefined
      })
    }))

  it.scoped("a non-retriable failure is counted once, by its code", () =>
    Effect.gen(function*() {
      const stream = "metrics-denied"
      const kinesis = scriptedKinesis(() => Effect.fail(requestError("AccessDeniedException", false)))
      const writer = yield* KinesisWriter.make({ stream, linger: 0 }).pipe(Effect.provide(kinesis.layer))
      const failure = yield* writer.put("a").pipe(Effect.flip)
      expect(failure._tag).toBe("RecordFailed")

      const metrics = Metrics.forStream(stream)
      expect(yield* counted(metrics.recordsFailed, "error.type", "AccessDeniedException")).toBe(1)
      expect(yield* counted(metrics.sentMessages, "error.type", "AccessDeniedException")).toBe(1)
      expect(yield* counted(metrics.sentMessages)).toBe(0)
      expect(
        (yield* Metric.value(Metric.tagged(metrics.operationDuration, "error.type", "AccessDeniedException"))).count
      )
        .toBe(1)
      expect(yield* counted(metrics.recordsDelivered)).toBe(0)
      expect(yield* counted(metrics.recordsRetried, "error.type", "AccessDeniedException")).toBe(0)

      const stats = yield* writer.stats
      expect(stats).toMatchObject({
        accepted: 1,
        sent: 1,
        failed: 1,
        failedRequests: 1,
        failedByCode: { AccessDeniedException: 1 },
        failingRequests: 1,
        failingSince: 0
      })
      expect(stats.lastRequestError?.code).toBe("AccessDeniedException")
    }))

  it.scoped("records and bytes held and requests in flight go up while a request is out, and back to 0", () =>
    Effect.gen(function*() {
      const stream = "metrics-held"
      const open = gate()
      const kinesis = scriptedKinesis(storeAfter(open))
      const writer = yield* KinesisWriter.make({ stream, linger: 0 }).pipe(Effect.provide(kinesis.layer))
      yield* writer.enqueueAll([{ message: "abc", key: "k1" }, { message: "de", key: "k2" }])
      yield* idle
      expect(kinesis.calls).toHaveLength(1)
      const metrics = Metrics.forStream(stream)
      expect(yield* counted(metrics.recordsHeld)).toBe(2)
      expect(yield* counted(metrics.bytesHeld)).toBe(3 + 2 + 2 + 2)
      expect(yield* counted(metrics.requestsInFlight)).toBe(1)
      expect(yield* counted(metrics.recordsTaken)).toBe(2)
      const stats = yield* writer.stats
      expect([stats.bufferedRecords, stats.bufferedBytes, stats.inFlight]).toEqual([2, 9, 1])

      yield* Deferred.succeed(open, undefined)
      yield* writer.flush
      expect(yield* counted(metrics.recordsHeld)).toBe(0)
      expect(yield* counted(metrics.bytesHeld)).toBe(0)
      expect(yield* counted(metrics.requestsInFlight)).toBe(0)
      expect(yield* counted(metrics.recordsDelivered)).toBe(2)
    }))

  it.scoped("two writers of one stream add up their held records", () =>
    Effect.gen(function*() {
      const stream = "metrics-two-writers"
      const open = gate()
      const kinesis = scriptedKinesis(storeAfter(open))
      const first = yield* KinesisWriter.make({ stream, linger: 0 }).pipe(Effect.provide(kinesis.layer))
      const second = yield* KinesisWriter.make({ stream, linger: 0 }).pipe(Effect.provide(kinesis.layer))
      yield* first.enqueue("a")
      yield* second.enqueue("b")
      yield* second.enqueue("c")
      yield* idle
      const metrics = Metrics.forStream(stream)
      expect(yield* counted(metrics.recordsHeld)).toBe(3)
      expect(yield* counted(metrics.requestsInFlight)).toBe(2)
      yield* Deferred.succeed(open, undefined)
      yield* first.flush
      yield* second.flush
      expect(yield* counted(metrics.recordsHeld)).toBe(0)
      expect(yield* counted(metrics.recordsDelivered)).toBe(3)
    }))
})
