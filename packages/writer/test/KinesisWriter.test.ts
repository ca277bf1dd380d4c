import { DeliveryFailed, InvalidOptions, KinesisWriter, RecordFailed } from "@effect-kinesis/writer"
import { Deferred, Effect, Exit, Fiber, Layer, Option, Schedule, Scope } from "effect"
import {
  captureLogs,
  defectOf,
  describe,
  environment,
  expect,
  fork,
  inScope,
  it,
  poll,
  TestClock
} from "./support/line.js"
import {
  type Answer,
  gate,
  idle,
  requestError,
  response,
  scriptedKinesis,
  storeAfter,
  storeAll,
  text
} from "./support/ScriptedKinesis.js"

const capture = () => captureLogs({ add: true })

describe("KinesisWriter batching", () => {
  it.scoped("sends a partial batch when linger ends, not before", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s", linger: "100 millis" }).pipe(
        Effect.provide(kinesis.layer)
      )
      yield* writer.enqueue("a")
      yield* TestClock.adjust("99 millis")
      yield* idle
      expect(kinesis.calls).toHaveLength(0)
      yield* writer.enqueue("b")
      yield* TestClock.adjust("1 millis")
      yield* idle
      expect(kinesis.calls).toHaveLength(1)
      expect(kinesis.texts(0)).toEqual(["a", "b"])
    }))

  it.scoped("sends a full batch at once, without waiting for linger", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s", linger: "1 hour" }).pipe(Effect.provide(kinesis.layer))
      for (let i = 0; i < 501; i++) yield* writer.enqueue(`r${i}`)
      yield* idle
      expect(kinesis.calls).toHaveLength(1)
      expect(kinesis.calls[0].Records).toHaveLength(500)
      expect(kinesis.texts(0)[499]).toBe("r499")
    }))

  it.scoped("cuts a batch when the next record would pass maxBatchBytes", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({
        stream: "s",
        linger: "1 hour",
        maxBatchBytes: 100,
        maxRecordBytes: 100
      }).pipe(Effect.provide(kinesis.layer))
      for (const name of ["a", "b", "c", "d"]) yield* writer.enqueue(name.repeat(32), "k") // 33 bytes each
      yield* idle
      expect(kinesis.calls).toHaveLength(1)
      expect(kinesis.texts(0)).toEqual(["a", "b", "c"].map((name) => name.repeat(32)))
    }))

  it.scoped("keeps at most maxInFlight requests open at once", () =>
    Effect.gen(function*() {
      const open = gate()
      const kinesis = scriptedKinesis(storeAfter(open))
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, maxBatchRecords: 1, maxInFlight: 2 }).pipe(
        Effect.provide(kinesis.layer)
      )
      for (const name of ["a", "b", "c"]) yield* writer.enqueue(name)
      yield* idle
      expect(kinesis.calls).toHaveLength(2)
      expect((yield* writer.stats).inFlight).toBe(2)
      yield* Deferred.succeed(open, undefined)
      yield* writer.flush
      expect(kinesis.calls.map((call) => text(call.Records![0]))).toEqual(["a", "b", "c"])
    }))

  it.scoped("sends the stream by name, or an ARN as StreamARN, with explicit hash keys", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
      const byArn = yield* KinesisWriter.make({ stream: arn, linger: 0 }).pipe(Effect.provide(kinesis.layer))
      const byName = yield* KinesisWriter.make({ stream: "orders", linger: 0 }).pipe(Effect.provide(kinesis.layer))
      yield* byArn.put("x", { partitionKey: "p", explicitHashKey: "12345" })
      yield* byName.put("y", "p")
      expect(kinesis.calls[0]).toMatchObject({
        StreamARN: arn,
        Records: [{ PartitionKey: "p", ExplicitHashKey: "12345" }]
      })
      expect(kinesis.calls[0].StreamName).toBeUndefined()
      expect(kinesis.calls[1]).toMatchObject({ StreamName: "orders", Records: [{ PartitionKey: "p" }] })
      expect(kinesis.calls[1].Records![0].ExplicitHashKey).toBeUndefined()
    }))

  it.scoped("gives each record without a key a distinct key", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s" }).pipe(Effect.provide(kinesis.layer))
      for (let i = 0; i < 100; i++) yield* writer.enqueue(i)
      yield* writer.flush
      const keys = kinesis.calls.flatMap((call) => call.Records!.map((record) => record.PartitionKey))
      expect(new Set(keys).size).toBe(100)
    }))
})

describe("KinesisWriter put and flush", () => {
  it.scoped("put returns where the record was stored", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0 }).pipe(Effect.provide(kinesis.layer))
      const result = yield* writer.put({ hello: "world" })
      expect(result).toEqual({ shardId: "shardId-000000000000", sequenceNumber: "0-0", attempts: 1 })
      expect(kinesis.texts(0)).toEqual([`{"hello":"world"}`])
    }))

  it.scoped("an empty flush sends nothing", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s" }).pipe(Effect.provide(kinesis.layer))
      yield* writer.flush
      yield* TestClock.adjust("1 hour")
      expect(kinesis.calls).toHaveLength(0)
    }))

  it.scoped("flush sends a partial batch now and waits only for records enqueued before it", () =>
    Effect.gen(function*() {
      const first = gate()
      const second = gate()
      const kinesis = scriptedKinesis((input, call) =>
        Deferred.await(call === 0 ? first : second).pipe(Effect.andThen(storeAll(input, call)))
      )
      const writer = yield* KinesisWriter.make({ stream: "s", linger: "1 hour" }).pipe(Effect.provide(kinesis.layer))
      yield* writer.enqueue("before")
      const flushing = yield* fork(writer.flush)
      yield* idle
      expect(kinesis.calls).toHaveLength(1)
      yield* writer.enqueue("after")
      yield* writer.flush.pipe(fork) // sends "after" now; its request hangs on the second gate
      yield* idle
      expect(kinesis.calls).toHaveLength(2)
      expect(Option.isNone(yield* poll(flushing))).toBe(true)
      yield* Deferred.succeed(first, undefined)
      yield* Fiber.join(flushing)
      expect((yield* writer.stats).bufferedRecords).toBe(1)
      yield* Deferred.succeed(second, undefined)
    }))

  it.scoped("flush fails with DeliveryFailed naming each lost enqueued record, once", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input) =>
        Effect.succeed(response(input.Records!.map((entry, i) =>
          text(entry).startsWith("bad") ? { code: "KMSAccessDeniedException", message: "no key" } : { ok: `${i}` }
        )))
      )
      const writer = yield* KinesisWriter.make({ stream: "s" }).pipe(Effect.provide(kinesis.layer))
      for (const name of ["good1", "bad1", "good2", "bad2"]) {
        yield* writer.enqueue(name, name)
      }
      const error = yield* writer.flush.pipe(Effect.flip)
      expect(error).toBeInstanceOf(DeliveryFailed)
      expect(error.failures.map((failure) => [new TextDecoder().decode(failure.data), failure.partitionKey])).toEqual([
        ["bad1", "bad1"],
        ["bad2", "bad2"]
      ])
      expect(error.failures[0]).toMatchObject({ code: "KMSAccessDeniedException", detail: "no key", attempts: 1 })
      expect(error.message).toBe("2 record(s) could not be delivered to stream s (2 x KMSAccessDeniedException)")
      expect(kinesis.calls).toHaveLength(1) // not retriable: never sent again
      yield* writer.flush // reported once
    }))

  it.scoped("a failed put is told to its caller, not to flush", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis(() => Effect.fail(requestError("ResourceNotFoundException", false)))
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0 }).pipe(Effect.provide(kinesis.layer))
      const error = yield* writer.put("x", "k").pipe(Effect.flip)
      expect(error).toBeInstanceOf(RecordFailed)
      expect(error).toMatchObject({
        code: "ResourceNotFoundException",
        attempts: 1,
        retriable: false,
        partitionKey: "k"
      })
      yield* writer.flush
      expect(kinesis.calls).toHaveLength(1)
    }))
})

describe("KinesisWriter retries", () => {
  it.scoped("requeues throttled records after the schedule's delay, ahead of unsent ones, in order", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input, call) =>
        call === 0 ?
          Effect.succeed(response([
            { code: "ProvisionedThroughputExceededException", message: "Rate exceeded" },
            { ok: "1" },
            { code: "InternalFailure" } // an error code without a message
          ])) :
          storeAll(input, call)
      )
      const writer = yield* KinesisWriter.make({
        stream: "s",
        linger: "1 hour",
        retry: Schedule.spaced("1 second")
      }).pipe(Effect.provide(kinesis.layer))
      for (const name of ["r0", "r1", "r2"]) yield* writer.enqueue(name)
      const flushing = yield* fork(writer.flush)
      yield* idle
      for (const name of ["r3", "r4"]) yield* writer.enqueue(name)
      yield* TestClock.adjust("999 millis")
      yield* idle
      expect(kinesis.calls).toHaveLength(1)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(flushing)
      expect(kinesis.texts(1)).toEqual(["r0", "r2", "r3", "r4"])
      expect((yield* writer.stats).retried).toBe(2)
    }))

  it.scoped("sends records rejected together back together, in one request, though the schedule jitters", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input, call) =>
        call === 0 ?
          Effect.succeed(response(input.Records!.map(() => ({ code: "ProvisionedThroughputExceededException" })))) :
          storeAll(input, call)
      )
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0 }).pipe(Effect.provide(kinesis.layer))
      for (let i = 0; i < 20; i++) yield* writer.enqueue(`r${i}`)
      const flushing = yield* fork(writer.flush)
      yield* TestClock.adjust("1 second") // the default schedule's first delay is 100 ms, jittered
      yield* Fiber.join(flushing)
      expect(kinesis.calls.map((call) => call.Records!.length)).toEqual([20, 20])
      expect(kinesis.texts(1)).toEqual(Array.from({ length: 20 }, (_, i) => `r${i}`))
    }))

  it.scoped("fails a record with RecordFailed when the schedule ends", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input) =>
        Effect.succeed(response(input.Records!.map(() => ({ code: "ProvisionedThroughputExceededException" }))))
      )
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, retry: Schedule.recurs(2) }).pipe(
        Effect.provide(kinesis.layer)
      )
      const putting = yield* fork(writer.put("x", "k"))
      // A throttled shard's budget refills before the record goes again, though the schedule has no delay.
      yield* TestClock.adjust("1 second")
      const error = yield* Fiber.join(putting).pipe(Effect.flip)
      expect(error).toMatchObject({
        _tag: "RecordFailed",
        code: "ProvisionedThroughputExceededException",
        attempts: 3,
        retriable: true
      })
      expect(kinesis.calls).toHaveLength(3)
    }))

  it.scoped("retries a whole request that failed with a retriable error", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input, call) =>
        call === 0 ? Effect.fail(requestError("InternalFailure", true)) : storeAll(input, call)
      )
      const writer = yield* KinesisWriter.make({ stream: "s", retry: Schedule.spaced("1 second") }).pipe(
        Effect.provide(kinesis.layer)
      )
      const putting = yield* fork(writer.put("x"))
      yield* TestClock.adjust("100 millis") // linger
      yield* idle
      expect(kinesis.calls).toHaveLength(1)
      yield* TestClock.adjust("1100 millis") // the retry delay, then linger again
      expect((yield* Fiber.join(putting)).attempts).toBe(2)
    }))

  it.scoped("retries a request that does not answer within requestTimeout", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input, call) => call === 0 ? Effect.never : storeAll(input, call))
      const writer = yield* KinesisWriter.make({
        stream: "s",
        linger: 0,
        requestTimeout: "5 seconds",
        retry: Schedule.spaced("1 second")
      }).pipe(Effect.provide(kinesis.layer))
      const putting = yield* fork(writer.put("x"))
      yield* TestClock.adjust("4999 millis")
      expect(kinesis.calls).toHaveLength(1)
      yield* TestClock.adjust("1001 millis")
      expect(yield* Fiber.join(putting)).toMatchObject({ attempts: 2 })
      expect(kinesis.calls).toHaveLength(2)
    }))

  it.scoped("sends again the records a short response did not answer", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis((input, call) =>
        call === 0 ? Effect.succeed(response([{ ok: "0" }])) : storeAll(input, call)
      )
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, retry: Schedule.spaced("10 millis") }).pipe(
        Effect.provide(kinesis.layer)
      )
      const putting = yield* Effect.forEach(["a", "b", "c"], (name) => fork(writer.put(name)))
      yield* TestClock.adjust("10 millis")
      const results = yield* Effect.forEach(putting, Fiber.join)
      expect(results.map((result) => result.attempts)).toEqual([1, 2, 2])
      expect(kinesis.texts(1)).toEqual(["b", "c"])
    }))
})

describe("KinesisWriter backpressure", () => {
  it.scoped("suspends enqueue while maxBufferedRecords are held, and resumes when they are stored", () =>
    Effect.gen(function*() {
      const open = gate()
      const kinesis = scriptedKinesis(storeAfter(open))
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, maxBufferedRecords: 3 }).pipe(
        Effect.provide(kinesis.layer)
      )
      for (const name of ["a", "b", "c"]) yield* writer.enqueue(name)
      const blocked = yield* fork(writer.enqueue("d"))
      yield* idle
      expect(Option.isNone(yield* poll(blocked))).toBe(true)
      expect((yield* writer.stats).bufferedRecords).toBe(3)
      yield* Deferred.succeed(open, undefined)
      yield* Fiber.join(blocked)
      yield* writer.flush
      expect((yield* writer.stats).delivered).toBe(4)
    }))

  it.scoped("suspends enqueue while maxBufferedBytes are held", () =>
    Effect.gen(function*() {
      const open = gate()
      const kinesis = scriptedKinesis(storeAfter(open))
      const writer = yield* KinesisWriter.make({
        stream: "s",
        linger: 0,
        maxRecordBytes: 50,
        maxBufferedBytes: 100
      }).pipe(Effect.provide(kinesis.layer))
      yield* writer.enqueue("a".repeat(49), "k") // 50 bytes
      yield* writer.enqueue("b".repeat(39), "k") // 40 bytes: 90 held
      const blocked = yield* fork(writer.enqueue("c".repeat(19), "k")) // 20 more would be 110
      yield* idle
      expect(Option.isNone(yield* poll(blocked))).toBe(true)
      expect((yield* writer.stats).bufferedBytes).toBe(90)
      yield* Deferred.succeed(open, undefined)
      yield* Fiber.join(blocked)
    }))

  it.scoped("an interrupted enqueue or put that waited for room takes nothing, and the writer goes on", () =>
    Effect.gen(function*() {
      const open = gate()
      const kinesis = scriptedKinesis(storeAfter(open))
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, maxBufferedRecords: 2 }).pipe(
        Effect.provide(kinesis.layer)
      )
      yield* writer.enqueue("a")
      yield* writer.enqueue("b")
      const enqueueing = yield* fork(writer.enqueue("interrupted enqueue"))
      const putting = yield* fork(writer.put("interrupted put"))
      const waiting = yield* fork(writer.enqueue("c"))
      yield* idle
      yield* Fiber.interrupt(enqueueing)
      yield* Fiber.interrupt(putting)
      yield* Deferred.succeed(open, undefined)
      yield* Fiber.join(waiting)
      yield* writer.flush
      const sent = kinesis.calls.flatMap((call) => call.Records!.map(text))
      expect(sent.sort()).toEqual(["a", "b", "c"])
      expect(yield* writer.stats).toMatchObject({ accepted: 3, delivered: 3, bufferedRecords: 0, bufferedBytes: 0 })
    }))

  it.scoped("interrupting a put whose record was taken still stores the record", () =>
    Effect.gen(function*() {
      const open = gate()
      const kinesis = scriptedKinesis(storeAfter(open))
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0 }).pipe(Effect.provide(kinesis.layer))
      const putting = yield* fork(writer.put("taken"))
      yield* idle
      yield* Fiber.interrupt(putting)
      yield* Deferred.succeed(open, undefined)
      yield* writer.flush
      expect(yield* writer.stats).toMatchObject({ accepted: 1, delivered: 1, bufferedRecords: 0 })
    }))
})

describe("KinesisWriter shutdown", () => {
  it.effect("closing the scope sends what is buffered, then refuses more with WriterClosed", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const scope = yield* Scope.make()
      const writer = yield* KinesisWriter.make({ stream: "s", linger: "1 hour" }).pipe(
        Effect.provide(kinesis.layer),
        inScope(scope)
      )
      yield* writer.enqueue("a")
      yield* writer.enqueue("b")
      yield* Scope.close(scope, Exit.void)
      expect(kinesis.texts(0)).toEqual(["a", "b"])
      const refused = yield* writer.enqueue("c").pipe(Effect.flip)
      expect(refused._tag).toBe("WriterClosed")
      expect((yield* writer.put("d").pipe(Effect.flip))._tag).toBe("WriterClosed")
    }))

  it.effect("closing fails callers waiting for room with WriterClosed", () =>
    Effect.gen(function*() {
      const open = gate()
      const kinesis = scriptedKinesis(storeAfter(open))
      const scope = yield* Scope.make()
      const writer = yield* KinesisWriter.make({ stream: "s", linger: 0, maxBufferedRecords: 1 }).pipe(
        Effect.provide(kinesis.layer),
        inScope(scope)
      )
      yield* writer.enqueue("a")
      const waiting = yield* fork(writer.enqueue("b"))
      yield* idle
      const closing = yield* fork(Scope.close(scope, Exit.void))
      yield* idle
      expect((yield* Fiber.join(waiting).pipe(Effect.flip))._tag).toBe("WriterClosed")
      yield* Deferred.succeed(open, undefined)
      yield* Fiber.join(closing)
      expect((yield* writer.stats).delivered).toBe(1)
    }))

  it.effect("reports what could not be sent within shutdownTimeout, and nothing vanishes", () =>
    Effect.gen(function*() {
      const logs = capture()
      const kinesis = scriptedKinesis(() => Effect.never)
      const scope = yield* Scope.make()
      const writer = yield* KinesisWriter.make({
        stream: "s",
        linger: 0,
        shutdownTimeout: "2 seconds",
        requestTimeout: "1 minute"
      }).pipe(Effect.provide(Layer.merge(kinesis.layer, logs.layer)), inScope(scope))
      const putting = yield* fork(writer.put("by put", "p"))
      yield* writer.enqueue("by enqueue", "e")
      yield* idle
      const closing = yield* fork(Scope.close(scope, Exit.void))
      yield* TestClock.adjust("1999 millis")
      expect(Option.isNone(yield* poll(closing))).toBe(true)
      yield* TestClock.adjust("1 millis")
      yield* Fiber.join(closing)
      const error = yield* Fiber.join(putting).pipe(Effect.flip)
      expect(error).toMatchObject({ _tag: "RecordFailed", code: "ShutdownTimeout", partitionKey: "p", attempts: 1 })
      expect(error._tag === "RecordFailed" && error.detail).toMatch(/may have stored it/)
      const failed = yield* writer.flush.pipe(Effect.flip)
      expect(failed.failures.map((failure) => failure.partitionKey)).toEqual(["e"])
      expect(logs.lines.filter((line) => line.level === "ERROR").map((line) => line.message)).toEqual([
        "1 record(s) given to enqueue were not delivered to stream s and no flush reported them before the writer closed"
      ])
      expect(logs.lines.some((line) => line.level === "WARN" && line.message.includes("ShutdownTimeout"))).toBe(true)
    }))
  it.effect("at the shutdown deadline, reports records waiting behind a full maxInFlight, starting no new request", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis(() => Effect.never)
      const scope = yield* Scope.make()
      const writer = yield* KinesisWriter.make({
        stream: "s",
        linger: 0,
        maxBatchRecords: 5,
        maxInFlight: 1,
        requestTimeout: "1 minute",
        shutdownTimeout: "500 millis"
      }).pipe(Effect.provide(kinesis.layer), inScope(scope))
      for (let i = 0; i < 5; i++) yield* writer.enqueue(`enqueued ${i}`)
      const puts = yield* Effect.forEach([5, 6, 7, 8, 9], (i) => fork(writer.put(`put ${i}`)))
      yield* idle
      expect(kinesis.calls).toHaveLength(1)
      const closing = yield* fork(Scope.close(scope, Exit.void))
      yield* TestClock.adjust("500 millis")
      yield* Fiber.join(closing)
      expect(kinesis.calls).toHaveLength(1)
      for (const put of puts) {
        expect(yield* Fiber.join(put).pipe(Effect.flip)).toMatchObject({ code: "ShutdownTimeout" })
      }
      const stats = yield* writer.stats
      expect(stats).toMatchObject({ accepted: 10, delivered: 0, failed: 10, bufferedRecords: 0, inFlight: 0 })
      expect((yield* writer.flush.pipe(Effect.flip)).failures).toHaveLength(5)
    }))
})

describe("KinesisWriter logging", () => {
  const arn = "arn:aws:kinesis:us-east-1:123456789012:stream/example"
  const rateExceeded = "Rate exceeded for shard shardId-000000000000 in stream example under account 123456789012."
  const throttleSecond: (input: unknown, call: number) => Answer = (_, call) =>
    Effect.succeed(
      response(
        call === 0
          ? [{ ok: "1" }, { code: "ProvisionedThroughputExceededException", message: rateExceeded }]
          : [{ ok: "2" }]
      )
    )

  it.scoped("logBatches logs a line before and after each request at Debug, shown at the default minimum", () =>
    Effect.gen(function*() {
      const logs = capture()
      const kinesis = scriptedKinesis(throttleSecond)
      const writer = yield* KinesisWriter.make({ stream: arn, logBatches: true, retry: Schedule.spaced(0) }).pipe(
        Effect.provide(Layer.merge(kinesis.layer, logs.layer))
      )
      yield* writer.enqueue("a")
      yield* writer.enqueue("b")
      const flushing = yield* fork(writer.flush)
      yield* TestClock.adjust("1 second") // the throttled shard's budget refills
      yield* Fiber.join(flushing)
      expect(logs.lines).toEqual([
        { level: "DEBUG", message: "sending 2 messages to stream example" },
        { level: "DEBUG", message: `sent 2 messages to stream example; 1 successful; errors = {${rateExceeded}}` },
        { level: "DEBUG", message: "sending 1 messages to stream example" },
        { level: "DEBUG", message: "sent 1 messages to stream example; 1 successful; errors = {}" }
      ])
    }))

  it.scoped("logBatches is quiet when the application raised its minimum level above Info", () =>
    Effect.gen(function*() {
      const logs = captureLogs({ add: true, minimum: "Warning" })
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s", logBatches: true, linger: 0 }).pipe(
        Effect.provide(Layer.merge(kinesis.layer, logs.layer))
      )
      yield* writer.put("a")
      expect(kinesis.calls).toHaveLength(1)
      expect(logs.lines).toEqual([])
    }))

  it.scoped("without logBatches nothing is logged for a healthy stream", () =>
    Effect.gen(function*() {
      const logs = capture()
      const kinesis = scriptedKinesis(throttleSecond)
      const writer = yield* KinesisWriter.make({ stream: "s", retry: Schedule.spaced(0) }).pipe(
        Effect.provide(Layer.merge(kinesis.layer, logs.layer))
      )
      yield* writer.enqueue("a")
      yield* writer.enqueue("b")
      const flushing = yield* fork(writer.flush)
      yield* TestClock.adjust("1 second") // the throttled shard's budget refills
      yield* Fiber.join(flushing)
      expect(kinesis.calls).toHaveLength(2)
      expect(logs.lines).toEqual([])
    }))

  it.scoped("logs each record that failed for good at Warning, with the stream's name", () =>
    Effect.gen(function*() {
      const logs = capture()
      const kinesis = scriptedKinesis(() => Effect.fail(requestError("AccessDeniedException", false)))
      const writer = yield* KinesisWriter.make({ stream: arn }).pipe(
        Effect.provide(Layer.merge(kinesis.layer, logs.layer))
      )
      yield* writer.enqueue("a")
      yield* writer.enqueue("b")
      yield* writer.flush.pipe(Effect.ignore)
      expect(logs.lines).toEqual([{
        level: "WARN",
        message:
          "2 record(s) not stored in stream example: AccessDeniedException: AccessDeniedException from the script"
      }])
    }))
})

describe("KinesisWriter options", () => {
  const build = (options: KinesisWriter.Options) =>
    Layer.build(KinesisWriter.layer(options).pipe(Layer.provide(scriptedKinesis().layer))).pipe(
      Effect.scoped,
      Effect.exit
    )

  it.effect("refuses nonsensical options when the layer is built, naming each problem", () =>
    Effect.gen(function*() {
      const cases: Array<[KinesisWriter.Options, RegExp]> = [
        [{ stream: "s", maxBatchRecords: 0 }, /maxBatchRecords must be a whole number from 1 to 500, not 0/],
        [{ stream: "s", maxBatchRecords: 501 }, /maxBatchRecords .* not 501/],
        [{ stream: "s", maxBatchRecords: 1.5 }, /maxBatchRecords/],
        [{ stream: "s", maxBatchBytes: 11 * 1024 * 1024 }, /maxBatchBytes/],
        [{ stream: "s", maxRecordBytes: 2000, maxBatchBytes: 1000 }, /maxRecordBytes \(2000\) must not exceed/],
        [{ stream: "s", maxInFlight: 0 }, /maxInFlight/],
        [{ stream: "s", maxBufferedBytes: 10 }, /maxBufferedBytes \(10\) must hold at least one record/],
        [{ stream: "s", linger: -1 }, /linger must not be negative/],
        [{ stream: "s", linger: "soon" as never }, /linger must be a duration/],
        [{ stream: "s", requestTimeout: 0 }, /requestTimeout must be more than zero/],
        [{ stream: "" }, /stream must be a stream name or a stream ARN/],
        [{ stream: "has spaces" }, /is not a stream name/],
        [{ stream: "arn:aws:s3:::bucket" }, /is not a Kinesis stream ARN/],
        [{ stream: "s", retry: 5 as never }, /retry must be a Schedule/]
      ]
      for (const [options, expected] of cases) {
        const exit = yield* build(options)
        expect(Exit.isFailure(exit)).toBe(true)
        const defect = defectOf(exit)
        expect(defect).toBeInstanceOf(InvalidOptions)
        expect((defect as InvalidOptions).message).toMatch(expected)
      }
      const both = yield* build({ stream: "s", maxBatchRecords: 0, maxInFlight: -1 })
      expect((defectOf(both) as InvalidOptions).problems).toHaveLength(2)
      expect(Exit.isSuccess(yield* build({ stream: "s", maxBatchBytes: 10 * 1024 * 1024 }))).toBe(true)
    }))

  it.scoped("layerConfig reads the KINESIS_* environment variables", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const env = { KINESIS_STREAM: "from-env", KINESIS_MAX_BATCH_RECORDS: "2", KINESIS_LINGER: "1 hour" }
      const context = yield* Layer.build(
        KinesisWriter.layerConfig().pipe(Layer.provide(kinesis.layer), Layer.provide(environment(env)))
      )
      const writer = yield* Effect.provide(KinesisWriter, context)
      yield* writer.enqueue("a")
      yield* writer.enqueue("b")
      yield* idle
      expect(kinesis.calls).toHaveLength(1)
      expect(kinesis.calls[0].StreamName).toBe("from-env")
    }))

  it.effect("layerConfig fails with a ConfigError for a missing stream or a bad value", () =>
    Effect.gen(function*() {
      const attempt = (env: Readonly<Record<string, string>>) =>
        Layer.build(
          KinesisWriter.layerConfig().pipe(Layer.provide(scriptedKinesis().layer), Layer.provide(environment(env)))
        ).pipe(Effect.scoped, Effect.flip)
      expect(String(yield* attempt({}))).toMatch(/KINESIS_STREAM/)
      expect(String(yield* attempt({ KINESIS_STREAM: "s", KINESIS_MAX_BATCH_RECORDS: "501" }))).toMatch(
        /maxBatchRecords/
      )
      expect(String(yield* attempt({ KINESIS_STREAM: "s", KINESIS_LINGER: "soon" }))).toMatch(/KINESIS_LINGER/)
    }))

  it.scoped("refuses an invalid record with InvalidRecord and stays as it was", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s", maxRecordBytes: 10, linger: 0 }).pipe(
        Effect.provide(kinesis.layer)
      )
      const refused = [
        yield* writer.enqueue("way too long for ten bytes", "k").pipe(Effect.flip),
        yield* writer.enqueue("m", "").pipe(Effect.flip),
        yield* writer.put(10n).pipe(Effect.flip),
        yield* writer.enqueue(undefined).pipe(Effect.flip)
      ]
      expect(refused.map((error) => error._tag)).toEqual([
        "InvalidRecord",
        "InvalidRecord",
        "InvalidRecord",
        "InvalidRecord"
      ])
      expect(yield* writer.stats).toMatchObject({ accepted: 0, bufferedRecords: 0, bufferedBytes: 0 })
      yield* writer.put("ok", "k")
      expect(kinesis.calls).toHaveLength(1)
    }))
})
