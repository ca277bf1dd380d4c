import { KinesisWriter } from "@effect-kinesis/writer"
import { Effect, Fiber } from "effect"
import { describe, expect, fork, it, TestClock } from "./support/line.js"
import { idle, scriptedKinesis } from "./support/ScriptedKinesis.js"

// The scripted stream has one shard over the whole key space: the writer paces it to 1,000 records a second, with
// one second of burst, on the TestClock.
const sent = (calls: ReadonlyArray<{ readonly Records?: ReadonlyArray<unknown> | undefined }>) =>
  calls.reduce((sum, call) => sum + (call.Records?.length ?? 0), 0)

describe("KinesisWriter pacing, on the TestClock", () => {
  it.scoped("sends a second's burst at once, then what the shard's rate earns, and never more", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s", linger: "10 millis" }).pipe(Effect.provide(kinesis.layer))
      for (let i = 0; i < 3000; i++) yield* writer.enqueue(`r${i}`)
      const flushing = yield* fork(writer.flush)
      yield* idle
      expect(sent(kinesis.calls)).toBe(1000)
      for (let step = 1; step <= 10; step++) {
        yield* TestClock.adjust("100 millis")
        yield* idle
        // What 100 ms at 1,000 records a second earned, in a request every 50 ms (none per refilled token).
        expect(sent(kinesis.calls)).toBeLessThanOrEqual(1000 + step * 100)
        expect(sent(kinesis.calls)).toBeGreaterThanOrEqual(1000 + (step - 1) * 100)
      }
      expect(kinesis.calls.length).toBeLessThanOrEqual(2 + 20)
      yield* TestClock.adjust("2 seconds")
      yield* Fiber.join(flushing)
      expect(sent(kinesis.calls)).toBe(3000)
    }))

  it.scoped("shardCapacity aims below the limit", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s", linger: "10 millis", shardCapacity: 0.5 }).pipe(
        Effect.provide(kinesis.layer)
      )
      for (let i = 0; i < 2000; i++) yield* writer.enqueue(`r${i}`)
      const flushing = yield* fork(writer.flush)
      yield* idle
      expect(sent(kinesis.calls)).toBe(500)
      yield* TestClock.adjust("1 second")
      yield* idle
      expect(sent(kinesis.calls)).toBeLessThanOrEqual(1000)
      expect(sent(kinesis.calls)).toBeGreaterThanOrEqual(900)
      yield* TestClock.adjust("3 seconds")
      yield* Fiber.join(flushing)
    }))

  it.scoped("shardAware: false sends as fast as batches fill", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s", linger: "10 millis", shardAware: false }).pipe(
        Effect.provide(kinesis.layer)
      )
      for (let i = 0; i < 3000; i++) yield* writer.enqueue(`r${i}`)
      yield* idle
      expect(sent(kinesis.calls)).toBe(3000)
    }))
})
