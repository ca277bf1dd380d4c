import { type Duration, Effect, Fiber, Option, Schedule } from "effect"
import { KinesisWriter, Retry } from "../src/index.js"
import { describe, expect, fork, it, poll, TestClock } from "./support/line.js"
import { idle, response, scriptedKinesis, storeAll } from "./support/ScriptedKinesis.js"

// The KPL's `FailIfThrottled` and `RecordTtl` settings are each one `retry` Schedule here, written as Effect 4 does.
const failIfThrottled = Retry.defaultSchedule.pipe(
  Schedule.while(({ input }) => input.code !== "ProvisionedThroughputExceededException")
)
const recordTtl = (ttl: Duration.Input) => Retry.defaultSchedule.pipe(Schedule.upTo({ duration: ttl }))

const THROTTLED = "ProvisionedThroughputExceededException"

describe("retry schedules in place of the KPL's settings", () => {
  it.effect("FailIfThrottled: a throttled record fails at once, other retriable errors are still retried", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input, call) =>
        call === 0 ?
          Effect.succeed(response([{ code: THROTTLED }, { code: "InternalFailure" }])) :
          storeAll(input, call)
      )
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, maxBatchRecords: 2, retry: failIfThrottled })
        .pipe(Effect.provide(kinesis.layer))
      const throttled = yield* fork(writer.put("throttled", "a"))
      const failedOnce = yield* fork(writer.put("failed once", "b"))
      yield* idle
      const error = yield* Fiber.join(throttled).pipe(Effect.flip)
      expect(error).toMatchObject({ _tag: "RecordFailed", code: THROTTLED, attempts: 1 })
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(failedOnce)).toMatchObject({ attempts: 2 })
      expect(kinesis.texts(1)).toEqual(["failed once"])
    }))

  it.effect("RecordTtl: a record that keeps failing is given up after the time to live, not the default 30 s", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input) =>
        Effect.succeed(response(input.Records!.map(() => ({ code: "InternalFailure" }))))
      )
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, retry: recordTtl("3 seconds") })
        .pipe(Effect.provide(kinesis.layer))
      const put = yield* fork(writer.put("doomed", "k"))
      for (let second = 0; second < 2; second++) {
        yield* TestClock.adjust("1 second")
        yield* idle
      }
      expect(Option.isNone(yield* poll(put))).toBe(true) // still retrying after 2 s
      for (let second = 0; second < 3; second++) {
        yield* TestClock.adjust("1 second")
        yield* idle
      }
      const error = yield* Fiber.join(put).pipe(Effect.flip)
      expect(error).toMatchObject({ _tag: "RecordFailed", code: "InternalFailure", retriable: true })
      expect(kinesis.calls.length).toBeGreaterThan(2)
      expect(kinesis.calls.length).toBeLessThan(10)
    }))

  it.effect("the time to live counts from a record's first failure, one record's clock apart from another's", () =>
    Effect.gen(function*() {
      // Every send fails: each record runs its own schedule, from its own first failure.
      const kinesis = scriptedKinesis((input) =>
        Effect.succeed(response(input.Records!.map(() => ({ code: "InternalFailure" }))))
      )
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, retry: recordTtl("3 seconds") })
        .pipe(Effect.provide(kinesis.layer))
      const early = yield* fork(writer.put("early", "a"))
      yield* idle
      yield* TestClock.adjust("2 seconds")
      yield* idle
      const late = yield* fork(writer.put("late", "b"))
      yield* idle
      for (let step = 0; step < 25; step++) {
        yield* TestClock.adjust("100 millis")
        yield* idle
      }
      // 4.5 s after the first record's first failure (its last delay, jittered, ends by 4.2 s), 2.5 s after the
      // second's.
      expect(Option.isSome(yield* poll(early))).toBe(true)
      expect(Option.isNone(yield* poll(late))).toBe(true)
      for (let second = 0; second < 3; second++) {
        yield* TestClock.adjust("1 second")
        yield* idle
      }
      expect((yield* Fiber.join(late).pipe(Effect.flip))._tag).toBe("RecordFailed")
    }))
})
