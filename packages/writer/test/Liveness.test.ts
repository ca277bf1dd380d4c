import type { ListShardsCommandOutput } from "@aws-sdk/client-kinesis"
import { LocalKinesis } from "@effect-kinesis/local"
import { Kinesis, KinesisWriter } from "@effect-kinesis/writer"
import { Clock, Effect, Fiber, Layer, Schedule } from "effect"
import { describe, expect, fork, it, TestClock } from "./support/line.js"
import { idle, response, scriptedKinesis, storeAll } from "./support/ScriptedKinesis.js"

// The three liveness bugs of issue 16, each as a user met it.
describe("KinesisWriter liveness", () => {
  for (const linger of ["100 millis", "10 seconds", "1 hour"] as const) {
    it.scoped(`flush after a throttle sends as soon as the shard's budget allows, with a linger of ${linger}`, () =>
      Effect.gen(function*() {
        // One shard, ten records on one key, two of them throttled once.
        const kinesis = scriptedKinesis((input, call) =>
          call === 0 ?
            Effect.succeed(response((input.Records ?? []).map((_, i) =>
              i < 2 ? { code: "ProvisionedThroughputExceededException" } : { ok: `${call}-${i}` }
            ))) :
            storeAll(input, call)
        )
        const writer = yield* KinesisWriter.make({ stream: "s", linger, retry: Schedule.spaced("100 millis") }).pipe(
          Effect.provide(kinesis.layer)
        )
        for (let i = 0; i < 10; i++) yield* writer.enqueue(`r${i}`, "one-key")
        const flushing = yield* fork(writer.flush)
        yield* idle
        expect(kinesis.calls).toHaveLength(1)
        // The throttle emptied the shard's budget: it refills within a second, whatever the linger.
        for (let step = 0; step < 20 && kinesis.calls.length < 2; step++) {
          yield* TestClock.adjust("50 millis")
          yield* idle
        }
        expect(kinesis.calls).toHaveLength(2)
        expect(kinesis.texts(1)).toEqual(["r0", "r1"])
        yield* Fiber.join(flushing)
      }))
  }

  it.scoped("reads the shard map at once when a record lands on another shard, if the last read was long before", () =>
    Effect.gen(function*() {
      const reads: Array<number> = []
      const base = scriptedKinesis((input, call) =>
        // Kinesis stored the second request's record on a shard the writer did not know: the stream resharded.
        call === 1 ?
          Effect.succeed({
            ...response([{ ok: "1-0" }]),
            Records: [{ ShardId: "shardId-000000000002", SequenceNumber: "1-0" }]
          }) :
          storeAll(input, call)
      )
      const layer = Layer.effect(
        Kinesis,
        Effect.gen(function*() {
          const service = yield* Kinesis
          return {
            ...service,
            listShards: (input: Parameters<NonNullable<Kinesis.Service["listShards"]>>[0]) =>
              Effect.flatMap(Clock.currentTimeMillis, (now) => {
                reads.push(now)
                return service.listShards!(input)
              }) as Effect.Effect<ListShardsCommandOutput, never>
          }
        })
      ).pipe(Layer.provide(base.layer))
      const writer = yield* KinesisWriter.make({ stream: "s", linger: "10 millis" }).pipe(Effect.provide(layer))
      yield* writer.enqueue("first")
      yield* TestClock.adjust("20 millis")
      yield* writer.flush
      expect(reads).toEqual([0])
      yield* TestClock.adjust("5 seconds")
      const at = yield* Clock.currentTimeMillis
      yield* writer.enqueue("second")
      yield* TestClock.adjust("20 millis")
      yield* writer.flush
      yield* idle
      expect(reads).toHaveLength(2)
      // At once: by the moment the answer came (linger 10 ms), not a second later.
      expect(reads[1]).toBeLessThanOrEqual(at + 20)
    }))

  it.scopedLive("an aggregate caught by a merge is not sent again: every user record once, none twice", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const writer = yield* KinesisWriter.make({ stream: "merge", aggregate: { maxBytes: 8192 }, linger: "20 millis" })
      const total = 20_000
      const writing = yield* fork(Effect.gen(function*() {
        for (let i = 0; i < total; i++) yield* writer.enqueue(`r${i}`)
        yield* writer.flush
      }))
      yield* Effect.sleep("200 millis")
      const [first, second] = yield* local.listShards("merge")
      yield* local.mergeShards("merge", first.ShardId!, second.ShardId!)
      yield* Fiber.join(writing)
      const read = (yield* local.readAll("merge")).map((record) => new TextDecoder().decode(record.data))
      expect(new Set(read).size).toBe(total)
      // The merged shard holds every hash key of its parents: nothing of an aggregate that landed there is re-sent.
      expect(read.length).toBe(total)
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { merge: 2 } }))))
})
