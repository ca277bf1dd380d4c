import { LocalKinesis } from "@effect-kinesis/local"
import { KinesisWriter } from "@effect-kinesis/writer"
import { Deferred, Effect, Exit, Fiber, Scope, Stream } from "effect"
import { describe, expect, fork, inScope, it } from "./support/line.js"
import { gate, idle, scriptedKinesis, storeAfter } from "./support/ScriptedKinesis.js"

const text = (data: Uint8Array) => new TextDecoder().decode(data)
const entries = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({ message: `r${from + i}`, key: `k${(from + i) % 7}` }))

describe("KinesisWriter.enqueueAll and sink, against the embedded Kinesis", () => {
  it.scopedLive("enqueueAll and sink deliver every record, read back once each", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({ stream: "bulk" })
      yield* writer.enqueueAll(entries(2500))
      yield* Stream.fromIterable(entries(2500, 2500)).pipe(Stream.rechunk(300), Stream.run(writer.sink))
      yield* writer.flush
      const stored = yield* local.readAll("bulk")
      const seen = stored.map((record) => text(record.data)).sort()
      expect(seen).toEqual(Array.from({ length: 5000 }, (_, i) => `r${i}`).sort())
      for (const record of stored) expect(record.partitionKey).toBe(`k${Number(text(record.data).slice(1)) % 7}`)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { bulk: 2 } }))))

  it.scopedLive("a call far larger than the buffer goes through, taking what fits as room appears", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({ stream: "small", maxBufferedRecords: 10, linger: 0 })
      yield* writer.enqueueAll(entries(1000))
      yield* writer.flush
      expect(yield* writer.stats).toMatchObject({ accepted: 1000, delivered: 1000, bufferedRecords: 0 })
      expect(yield* local.readAll("small")).toHaveLength(1000)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { small: 1 } }))))

  it.scopedLive("a failing stream upstream fails the run, and the writer goes on", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({ stream: "upstream" })
      const failing = Stream.fromIterable(entries(100)).pipe(Stream.concat(Stream.fail("upstream broke")))
      const exit = yield* Stream.run(failing, writer.sink).pipe(Effect.exit)
      expect(exit).toEqual(Exit.fail("upstream broke"))
      yield* writer.enqueue("after", "k")
      yield* writer.flush
      expect(yield* local.readAll("upstream")).toHaveLength(101)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { upstream: 1 } }))))
})

describe("KinesisWriter.enqueueAll", () => {
  it.scoped("takes all or nothing: one invalid entry refuses the call, naming its index", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const writer = yield* KinesisWriter.make({ stream: "s" }).pipe(Effect.provide(kinesis.layer))
      const bad = [...entries(3), { message: undefined }, ...entries(3)]
      const error = yield* writer.enqueueAll(bad).pipe(Effect.flip)
      expect(error).toMatchObject({ _tag: "InvalidRecord", index: 3 })
      expect(error.message).toMatch(/^entry 3: /)
      const badKey = yield* writer.enqueueAll([{ message: "x", key: "" }]).pipe(Effect.flip)
      expect(badKey).toMatchObject({ _tag: "InvalidRecord", index: 0 })
      const viaSink = yield* Stream.make(...bad).pipe(Stream.run(writer.sink), Effect.flip)
      expect(viaSink).toMatchObject({ _tag: "InvalidRecord", index: 3 })
      expect((yield* writer.stats).accepted).toBe(0)
    }))

  it.scoped("interrupted while waiting for room, it has taken a prefix and nothing else", () =>
    Effect.gen(function*() {
      const open = gate()
      const kinesis = scriptedKinesis(storeAfter(open))
      const writer = yield* KinesisWriter.make({ stream: "s", maxBufferedRecords: 10, linger: 0 }).pipe(
        Effect.provide(kinesis.layer)
      )
      const call = yield* fork(writer.enqueueAll(entries(100)))
      yield* idle
      expect((yield* writer.stats).accepted).toBe(10)
      yield* Fiber.interrupt(call)
      yield* Deferred.succeed(open, undefined)
      yield* writer.flush
      const stats = yield* writer.stats
      expect(stats).toMatchObject({ accepted: 10, delivered: 10, bufferedRecords: 0 })
      const sent = kinesis.calls.flatMap((input) => input.Records!.map((entry) => new TextDecoder().decode(entry.Data)))
      expect(sent).toEqual(entries(10).map((entry) => entry.message))
    }))

  it.effect("fails with WriterClosed after the writer closed", () =>
    Effect.gen(function*() {
      const kinesis = scriptedKinesis()
      const scope = yield* Scope.make()
      const writer = yield* KinesisWriter.make({ stream: "s" }).pipe(Effect.provide(kinesis.layer), inScope(scope))
      yield* Scope.close(scope, Exit.void)
      const error = yield* writer.enqueueAll(entries(2)).pipe(Effect.flip)
      expect(error._tag).toBe("WriterClosed")
      const viaSink = yield* Stream.fromIterable(entries(2)).pipe(Stream.run(writer.sink), Effect.flip)
      expect(viaSink._tag).toBe("WriterClosed")
    }))
})
