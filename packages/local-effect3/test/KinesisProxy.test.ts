import { KinesisProxy, LocalKinesis } from "@effect-kinesis/local-effect3"
import { Kinesis, KinesisError } from "@effect-kinesis/writer-effect3"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as TestClock from "effect/TestClock"

const utf8 = new TextEncoder()

const entries = (count: number) =>
  Array.from({ length: count }, (_, i) => ({ Data: utf8.encode(String(i)), PartitionKey: `key-${i}` }))

const put = (kinesis: Kinesis.Service, count: number) =>
  kinesis.putRecords({ StreamName: "events", Records: entries(count) })

// What a defect says, or "" when there was none.
const defect = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.map(
    Effect.exit(effect),
    (exit) => Exit.isFailure(exit) && Cause.isDie(exit.cause) ? Cause.pretty(exit.cause) : ""
  )

describe("KinesisProxy", () => {
  it.effect("puts a proxy in front of a target in a scope, on the Effect Clock, and stops it when the scope closes", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const endpoint = yield* Effect.scoped(Effect.gen(function*() {
        const proxy = yield* KinesisProxy.make({ target: local.kinesaliteEndpoint, limits: { recordsPerSecond: 5 } })
        const kinesis = yield* Kinesis.make({ ...local.clientConfig, endpoint: proxy.endpoint })
        expect((yield* put(kinesis, 10)).FailedRecordCount).toBe(5)
        yield* TestClock.adjust("1 second")
        expect((yield* put(kinesis, 5)).FailedRecordCount).toBe(0)
        expect((yield* proxy.counters).records).toMatchObject({ offered: 15, stored: 10, throttled: 5 })
        yield* proxy.resetCounters
        expect((yield* proxy.counters).records.offered).toBe(0)
        return proxy.endpoint
      }))
      const refused = yield* Effect.promise(() => fetch(endpoint, { method: "POST" }).then(() => false, () => true))
      expect(refused).toBe(true)
      expect(KinesisProxy.defaultLimits).toEqual({
        recordsPerSecond: 1000,
        bytesPerSecond: 1024 * 1024,
        burstSeconds: 1
      })
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { events: 1 } }))))

  it.live("sets a plan for one effect with withFaults, then puts back the one before, also when it fails", () =>
    Effect.gen(function*() {
      const proxy = yield* KinesisProxy
      const kinesis = yield* Kinesis
      const denied = yield* put(kinesis, 1).pipe(
        proxy.withFaults({ error: { type: "AccessDeniedException" } }),
        Effect.flip
      )
      expect(denied).toBeInstanceOf(KinesisError)
      expect(denied).toMatchObject({ code: "AccessDeniedException", retriable: false })
      expect(yield* proxy.faults).toEqual({ internalFailure: 0.1, seed: 3 })
      yield* proxy.setFaults({})
      expect((yield* put(kinesis, 3)).FailedRecordCount).toBe(0)
      expect(yield* proxy.faults).toEqual({})
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { events: 1 }, faults: { internalFailure: 0.1, seed: 3 } }))))

  it.live("makes a nonsensical plan or limits given while running a defect that names each problem", () =>
    Effect.gen(function*() {
      const proxy = yield* KinesisProxy
      expect(yield* defect(proxy.setFaults({ throttle: 2 }))).toContain(
        "throttle must be a fraction from 0 to 1, not 2"
      )
      expect(yield* defect(proxy.setLimits({ burstSeconds: 0 }))).toContain("burstSeconds must be a positive number")
      expect(yield* defect(Effect.void.pipe(proxy.withFaults({ hang: 3 })))).toContain("hang must be a fraction")
      expect(yield* proxy.faults).toEqual({})
      expect(KinesisProxy.checkFaults({ error: { type: "" }, delay: { millis: -1 } })).toEqual([
        "error.type must name an error",
        "delay.millis must be a number of milliseconds, not -1"
      ])
    }).pipe(Effect.provide(LocalKinesis.layer())))
})
