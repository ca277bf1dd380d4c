import { KinesisWriter, Retry } from "@effect-kinesis/writer"
import { Effect, Layer, Schedule } from "effect"
import { captureLogs, describe, expect, it, TestClock } from "./support/line.js"
import { type Answer, requestError, scriptedKinesis, storeAll } from "./support/ScriptedKinesis.js"

const capture = () => captureLogs({ minimum: "Info" })

// What the SDK throws when the endpoint's name does not resolve, as the writer classifies it.
const notFound = () => {
  const cause = Object.assign(new Error("getaddrinfo ENOTFOUND kinesis.eu-west-1.amazonaws.com"), {
    code: "ENOTFOUND",
    syscall: "getaddrinfo"
  })
  return Retry.classify("PutRecords", cause)
}

// Fails every request until `healthy.now` is set, then stores everything.
const outage = (healthy: { now: boolean }) => (input: Parameters<typeof storeAll>[0], call: number): Answer =>
  healthy.now ? storeAll(input, call) : Effect.fail(notFound())

describe("Warnings", () => {
  it.scoped("while requests keep failing, says so within a second, naming the cause, then at most every 5 s", () =>
    Effect.gen(function*() {
      const logs = capture()
      const healthy = { now: false }
      const kinesis = scriptedKinesis(outage(healthy))
      const writer = yield* KinesisWriter.make({
        stream: "unreachable",
        linger: 0,
        retry: Schedule.spaced("250 millis")
      })
        .pipe(Effect.provide(Layer.merge(kinesis.layer, logs.layer)))
      yield* writer.enqueue("a")
      yield* TestClock.adjust("999 millis") // failed at 0, 250, 500 and 750 ms: a failure, not yet an outage
      expect(kinesis.calls).toHaveLength(4)
      expect(logs.lines).toEqual([])

      yield* TestClock.adjust("1 millis") // the fifth failure, a second after the first request went
      expect(logs.lines).toEqual([{
        level: "WARN",
        message:
          "PutRecords requests to stream unreachable keep failing: 5 in a row over 1 s, the last with ENOTFOUND: " +
          "getaddrinfo ENOTFOUND kinesis.eu-west-1.amazonaws.com: the endpoint's host name does not resolve, so the " +
          "request never reached a server; 1 record(s) held, sent again as the retry schedule allows"
      }])
      const stats = yield* writer.stats
      expect([stats.failingRequests, stats.failingSince, stats.lastRequestError?.code]).toEqual([5, 0, "ENOTFOUND"])

      yield* TestClock.adjust("4999 millis") // 20 more failures, within 5 s of the warning: quiet
      expect(logs.lines).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      expect(logs.lines).toHaveLength(2)
      expect(logs.lines[1].level).toBe("WARN")
      expect(logs.lines[1].message).toContain("keep failing: 25 in a row over 6 s, the last with ENOTFOUND")

      healthy.now = true
      yield* TestClock.adjust("250 millis")
      expect(logs.lines).toHaveLength(3)
      expect(logs.lines[2]).toEqual({
        level: "INFO",
        message: "PutRecords requests to stream unreachable are answered again after 25 failed in a row over 6.3 s"
      })
      expect(yield* writer.stats).toMatchObject({
        delivered: 1,
        failingRequests: 0,
        failingSince: undefined,
        lastRequestError: undefined
      })
    }))

  it.scoped("a request that fails once and is then answered says nothing", () =>
    Effect.gen(function*() {
      const logs = capture()
      const kinesis = scriptedKinesis((input, call) =>
        call === 0 ? Effect.fail(requestError("InternalFailure", true)) : storeAll(input, call)
      )
      const writer = yield* KinesisWriter.make({ stream: "blip", linger: 0, retry: Schedule.spaced("250 millis") })
        .pipe(Effect.provide(Layer.merge(kinesis.layer, logs.layer)))
      yield* writer.enqueue("a")
      yield* TestClock.adjust("10 seconds")
      expect(kinesis.calls).toHaveLength(2)
      expect((yield* writer.stats).delivered).toBe(1)
      expect(logs.lines).toEqual([])
    }))

  it.scoped("a request that takes long to fail (a timeout) is said at its failure", () =>
    Effect.gen(function*() {
      const logs = capture()
      const kinesis = scriptedKinesis((input, call) => call === 0 ? Effect.never : storeAll(input, call))
      const writer = yield* KinesisWriter.make({ stream: "silent", linger: 0, requestTimeout: "3 seconds" })
        .pipe(Effect.provide(Layer.merge(kinesis.layer, logs.layer)))
      yield* writer.enqueue("a")
      yield* TestClock.adjust("2999 millis")
      expect(logs.lines).toEqual([])
      yield* TestClock.adjust("1 millis")
      expect(logs.lines).toHaveLength(1)
      expect(logs.lines[0].message).toContain(
        "keep failing: 1 in a row over 3 s, the last with RequestTimeout: no answer within 3000 ms"
      )
      yield* TestClock.adjust("1 second") // sent again, and stored
      expect(logs.lines[1]).toEqual({
        level: "INFO",
        message: "PutRecords requests to stream silent are answered again after 1 failed in a row over 3.1 s"
      })
    }))

  it.scoped("requests refused one after another: every lost record is said, and the cause once a second in, then every 5 s", () =>
    Effect.gen(function*() {
      const logs = capture()
      const healthy = { now: false }
      const kinesis = scriptedKinesis((input, call) =>
        healthy.now ? storeAll(input, call) : Effect.fail(requestError("AccessDeniedException", false))
      )
      const writer = yield* KinesisWriter.make({ stream: "denied", linger: 0 }).pipe(
        Effect.provide(Layer.merge(kinesis.layer, logs.layer))
      )
      // A record every 100 ms for 6 s, each refused in a request of its own.
      for (let i = 0; i < 60; i++) {
        yield* writer.enqueue(`r${i}`)
        yield* TestClock.adjust("100 millis")
      }
      expect(kinesis.calls).toHaveLength(60)
      const lost = logs.lines.filter((line) => line.message.includes("not stored in stream denied"))
      expect(lost).toHaveLength(60)
      expect(lost[0]).toEqual({
        level: "WARN",
        message: "1 record(s) not stored in stream denied: AccessDeniedException: AccessDeniedException from the script"
      })
      const streak = logs.lines.filter((line) => line.message.includes("keep failing"))
      // The cause once failures have lasted a second; the next line would come 5 s later, after the last failure.
      expect(streak).toEqual([{
        level: "WARN",
        message: "PutRecords requests to stream denied keep failing: 11 in a row over 1 s, the last with " +
          "AccessDeniedException: AccessDeniedException from the script"
      }])

      healthy.now = true
      yield* writer.enqueue("stored")
      yield* TestClock.adjust("100 millis")
      expect(logs.lines.at(-1)).toEqual({
        level: "INFO",
        message: "PutRecords requests to stream denied are answered again after 60 failed in a row over 6 s"
      })
      yield* writer.flush.pipe(Effect.ignore)
    }))
})
