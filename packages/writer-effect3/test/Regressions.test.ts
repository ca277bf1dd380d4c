import { KinesisWriter } from "@effect-kinesis/writer-effect3"
import { describe, expect, it } from "@effect/vitest"
import {
  Deferred,
  Duration,
  Effect,
  ExecutionStrategy,
  Exit,
  Fiber,
  Layer,
  Option,
  Schedule,
  Scheduler,
  Scope,
  TestClock
} from "effect"
import { gate, idle, response, scriptedKinesis, storeAfter, storeAll, text } from "./support/ScriptedKinesis.js"

// Each test here reproduced a bug found in review; they keep it fixed.
const firstLetters = (kinesis: ReturnType<typeof scriptedKinesis>, from: number) =>
  kinesis.calls.slice(from).flatMap((call) => call.Records!.map((record) => text(record)[0]))
const throttleAll = (input: { readonly Records?: ReadonlyArray<unknown> | undefined }) =>
  Effect.succeed(response((input.Records ?? []).map(() => ({ code: "ProvisionedThroughputExceededException" }))))

describe("KinesisWriter regressions", () => {
  it.scoped("a ready retry that did not fit the batch is not overtaken by a fresh record", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input, call) => call < 2 ? throttleAll(input) : storeAll(input, call))
      const writer = yield* KinesisWriter.make({
        stream: "s",
        linger: "1 hour",
        maxBatchBytes: 100,
        maxRecordBytes: 100,
        retry: Schedule.spaced("1 second")
      }).pipe(Effect.provide(kinesis.layer))
      yield* writer.enqueue("A".repeat(59), "k") // 60 bytes
      yield* writer.enqueue("B".repeat(59), "k") // 60 bytes: A and B go in two requests, both throttled
      const flushing = yield* Effect.fork(writer.flush)
      yield* idle
      expect(kinesis.calls).toHaveLength(2)
      yield* writer.enqueue("C".repeat(29), "k") // 30 bytes, same key, never sent
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(flushing)
      yield* writer.flush
      expect(firstLetters(kinesis, 2)).toEqual(["A", "B", "C"])
    }))

  // The runtime may yield between any two operations; the scheduler below yields once, at the k-th operation of
  // enqueue("b"), and lets the request for "a" answer during that yield.
  it.scoped("enqueue never waits forever for room in an empty writer, wherever the runtime yields", () =>
    Effect.gen(function*() {
      const hung: Array<number> = []
      for (let k = 1; k <= 12; k++) {
        const open = gate()
        let countdown = -1
        let yielded = false
        const scheduler: Scheduler.Scheduler = {
          scheduleTask: (task, priority) => {
            if (yielded) {
              yielded = false
              Deferred.unsafeDone(open, Exit.void)
              setTimeout(task, 20)
            } else Scheduler.defaultScheduler.scheduleTask(task, priority)
          },
          shouldYield: () => {
            if (countdown > 0 && --countdown === 0) {
              yielded = true
              return 0
            }
            return false
          }
        }
        const kinesis = scriptedKinesis(storeAfter(open))
        const scope = yield* Scope.make()
        const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, maxBufferedRecords: 1 }).pipe(
          Effect.provide(kinesis.layer),
          Scope.extend(scope)
        )
        yield* writer.enqueue("a")
        yield* idle
        const second = yield* Effect.fork(
          Effect.sync(() => {
            countdown = k
          }).pipe(Effect.zipRight(writer.enqueue("b")), Effect.withScheduler(scheduler))
        )
        yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 60)))
        yield* idle
        if (Option.isNone(yield* Fiber.poll(second))) {
          hung.push(k)
          yield* Fiber.interrupt(second)
        }
        Deferred.unsafeDone(open, Exit.void)
        yield* Scope.close(scope, Exit.void)
      }
      expect(hung).toEqual([])
    }))

  it.effect("closing a writer made in a parallel scope still sends what is buffered", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const scope = yield* Scope.make(ExecutionStrategy.parallel)
      const writer = yield* KinesisWriter.make({ stream: "s", linger: "1 hour", shutdownTimeout: "5 seconds" }).pipe(
        Effect.provide(kinesis.layer),
        Scope.extend(scope)
      )
      yield* writer.enqueue("a")
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* idle
      expect(Option.isSome(yield* Fiber.poll(closing))).toBe(true)
      expect(kinesis.calls).toHaveLength(1)
      yield* writer.flush
    }))

  // (Duration.millis(-5) is clamped to zero when it is built, before the writer sees it.)
  it.effect("refuses negative durations however they are written", () =>
    Effect.gen(function*() {
      const build = (options: KinesisWriter.Options) =>
        Layer.build(KinesisWriter.layer(options).pipe(Layer.provide(scriptedKinesis().layer))).pipe(
          Effect.scoped,
          Effect.exit
        )
      for (
        const options of [
          { stream: "s", linger: -1 },
          { stream: "s", linger: "-1 seconds" },
          { stream: "s", shutdownTimeout: "-5 seconds" },
          { stream: "s", requestTimeout: [-1, 0] as const }
        ] as Array<KinesisWriter.Options>
      ) expect(Exit.isFailure(yield* build(options)), JSON.stringify(options)).toBe(true)
      expect(Exit.isSuccess(yield* build({ stream: "s", linger: "0 millis", shutdownTimeout: Duration.zero }))).toBe(
        true
      )
    }))

  it.scoped("a retry Schedule that dies fails the record instead of losing it", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis(throttleAll)
      const retry = Schedule.spaced("1 second").pipe(
        Schedule.modifyDelay((): Duration.Duration => {
          throw new Error("bug in the user's schedule")
        })
      )
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, retry }).pipe(Effect.provide(kinesis.layer))
      const putting = yield* Effect.fork(writer.put("x"))
      yield* TestClock.adjust("1 minute")
      const error = yield* Fiber.join(putting).pipe(Effect.flip)
      expect(error).toMatchObject({ _tag: "RecordFailed", code: "ProvisionedThroughputExceededException" })
      expect(error._tag === "RecordFailed" && error.detail).toMatch(/retry schedule failed: bug in the user's schedule/)
      expect(yield* writer.stats).toMatchObject({ bufferedRecords: 0, inFlight: 0, failed: 1 })
    }))

  it.effect("at the deadline, says 'may have stored it' only of records whose request went unanswered", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input, call) => call === 0 ? throttleAll(input) : Effect.never)
      const scope = yield* Scope.make()
      const writer = yield* KinesisWriter.make({
        stream: "s",
        linger: 0,
        maxBatchRecords: 1,
        retry: Schedule.spaced("1 minute"),
        shutdownTimeout: "1 second"
      }).pipe(Effect.provide(kinesis.layer), Scope.extend(scope))
      const rejected = yield* Effect.fork(writer.put("rejected", "k"))
      yield* idle
      yield* TestClock.adjust("100 millis") // the throttled shard's budget refills
      const unanswered = yield* Effect.fork(writer.put("unanswered", "k"))
      yield* idle
      expect(kinesis.calls).toHaveLength(2)
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(closing)
      const first = yield* Fiber.join(rejected).pipe(Effect.flip)
      const second = yield* Fiber.join(unanswered).pipe(Effect.flip)
      expect(first._tag === "RecordFailed" && first.detail).not.toMatch(/may have stored it/)
      expect(second._tag === "RecordFailed" && second.detail).toMatch(/may have stored it/)
    }))

  it.effect("a record granted room before the deadline but taken after it is refused, not stranded", () =>
    Effect.gen(function*() {
      const open = gate()
      const kinesis = scriptedKinesis(storeAfter(open))
      const scope = yield* Scope.make()
      const writer = yield* KinesisWriter.make({
        stream: "s",
        linger: 0,
        maxBufferedRecords: 1,
        shutdownTimeout: "1 second"
      }).pipe(Effect.provide(kinesis.layer), Scope.extend(scope))
      yield* writer.enqueue("a")
      let late = false
      // Runs the waiting fiber late, as a starved fiber would run.
      const slow: Scheduler.Scheduler = {
        scheduleTask: (task, priority) =>
          late ? void setTimeout(task, 50) : Scheduler.defaultScheduler.scheduleTask(task, priority),
        shouldYield: () => false
      }
      const putting = yield* Effect.fork(writer.put("b").pipe(Effect.withScheduler(slow)))
      yield* idle
      late = true
      yield* Deferred.succeed(open, undefined)
      yield* idle
      const closing = yield* Effect.fork(Scope.close(scope, Exit.void))
      yield* TestClock.adjust("1 second")
      yield* Fiber.join(closing)
      yield* Effect.promise(() => new Promise((resolve) => setTimeout(resolve, 200)))
      yield* idle
      const put = yield* Fiber.poll(putting)
      expect(Option.isSome(put) && Exit.isFailure(put.value)).toBe(true)
      expect((yield* writer.stats).bufferedRecords).toBe(0)
    }))
})
