import { KinesisWriter, Retry } from "@effect-kinesis/writer-effect3"
import { type Duration, Effect, Fiber, Schedule } from "effect"
import { describe, expect, fork, it, TestClock } from "./support/line.js"
import { idle, response, scriptedKinesis, storeAll } from "./support/ScriptedKinesis.js"

// The KPL's `FailIfThrottled` and `RecordTtl` settings are each one `retry` Schedule here, as the README shows.
const failIfThrottled = Retry.defaultSchedule.pipe(
  Schedule.whileInput((error: Retry.RetryInput) => error.code !== "ProvisionedThroughputExceededException")
)
const recordTtl = (ttl: Duration.DurationInput) => Retry.defaultSchedule.pipe(Schedule.upTo(ttl))

describe("retry schedules in place of the KPL's settings", () => {
  it.scoped("FailIfThrottled: a throttled record fails at once, other retriable errors are still retried", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input, call) =>
        call === 0 ?
          Effect.succeed(response([{ code: "ProvisionedThroughputExceededException" }, { code: "InternalFailure" }])) :
          storeAll(input, call)
      )
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, maxBatchRecords: 2, retry: failIfThrottled })
        .pipe(Effect.provide(kinesis.layer))
      const throttled = yield* fork(writer.put("throttled", "a"))
      const failedOnce = yield* fork(writer.put("failed once", "b"))
      yield* idle
      const error = yield* Fiber.join(throttled).pipe(Effect.flip)
      expect(error).toMatchObject({ _tag: "RecordFailed", code: "ProvisionedThroughputExceededException", attempts: 1 })
      yield* TestClock.adjust("2 seconds")
      expect(yield* Fiber.join(failedOnce)).toMatchObject({ attempts: 2 })
    }))

  it.scoped("RecordTtl: a record that keeps failing is given up after the time to live, not the default 30 s", () =>
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
      expect(put.unsafePoll()).toBeNull() // still retrying after 2 s
      for (let second = 0; second < 3; second++) {
        yield* TestClock.adjust("1 second")
        yield* idle
      }
      const error = yield* Fiber.join(put).pipe(Effect.flip)
      expect(error).toMatchObject({ _tag: "RecordFailed", code: "InternalFailure", retriable: true })
      expect(kinesis.calls.length).toBeGreaterThan(2)
      expect(kinesis.calls.length).toBeLessThan(10)
    }))
})
