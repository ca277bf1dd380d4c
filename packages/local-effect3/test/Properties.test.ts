import { type KinesisProxy, LocalKinesis } from "@effect-kinesis/local-effect3"
import { KinesisWriter, type RecordFailed } from "@effect-kinesis/writer-effect3"
import { expect, layer } from "@effect/vitest"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as FastCheck from "effect/FastCheck"
import * as Fiber from "effect/Fiber"
import { captureLogs, idOf, loggedFailures, message, quickRetry, tally } from "./support/Chaos.js"

type Op =
  | { readonly kind: "enqueue"; readonly count: number }
  | { readonly kind: "put"; readonly count: number }
  | { readonly kind: "flush" }

const op: FastCheck.Arbitrary<Op> = FastCheck.oneof(
  FastCheck.record({ kind: FastCheck.constant("enqueue" as const), count: FastCheck.integer({ min: 1, max: 30 }) }),
  FastCheck.record({ kind: FastCheck.constant("put" as const), count: FastCheck.integer({ min: 1, max: 8 }) }),
  FastCheck.record({ kind: FastCheck.constant("flush" as const) })
)

const rate = (max: number) => FastCheck.double({ min: 0, max, noNaN: true })

// A plan either loses answers (a reset after forwarding) or refuses records for good (a non-retriable error),
// never both: so that a record reported as failed can be checked to be absent from the stream.
const plan: FastCheck.Arbitrary<KinesisProxy.FaultPlan> = FastCheck.record({
  seed: FastCheck.integer({ min: 0, max: 2 ** 31 - 1 }),
  throttle: rate(0.4),
  internalFailure: rate(0.1),
  serverError: rate(0.1),
  resetBeforeForward: rate(0.05),
  hang: rate(0.03),
  lost: FastCheck.oneof(
    FastCheck.record({ resetAfterForward: FastCheck.double({ min: 0.01, max: 0.1, noNaN: true }) }),
    FastCheck.record({
      error: FastCheck.record({
        type: FastCheck.constantFrom("AccessDeniedException", "ResourceNotFoundException", "KMSDisabledException"),
        rate: rate(0.1)
      })
    }),
    FastCheck.constant({})
  )
}).map(({ lost, ...rest }): KinesisProxy.FaultPlan => ({ ...rest, ...lost }))

const options = FastCheck.record({
  maxBatchRecords: FastCheck.integer({ min: 1, max: 50 }),
  lingerMillis: FastCheck.integer({ min: 0, max: 20 }),
  maxBufferedRecords: FastCheck.integer({ min: 5, max: 200 }),
  maxInFlight: FastCheck.integer({ min: 1, max: 4 })
})

const runs = Number(process.env.RELIABILITY_PROPERTY_RUNS ?? 12)
let streams = 0

layer(LocalKinesis.layer(), { excludeTestServices: true })("properties", (it) => {
  it.effect.prop(
    "random interleavings of enqueue, put and flush under random faults lose nothing and misreport nothing",
    {
      lanes: FastCheck.array(FastCheck.array(op, { minLength: 1, maxLength: 10 }), { minLength: 1, maxLength: 3 }),
      plan,
      options,
      shards: FastCheck.integer({ min: 1, max: 3 })
    },
    ({ lanes, options, plan, shards }) =>
      Effect.gen(function*() {
        const local = yield* LocalKinesis
        const stream = `prop-${streams++}`
        yield* local.createStream(stream, shards)
        yield* local.proxy.setFaults({ ...plan, streams: [stream] })
        let nextId = 0
        const admitted = new Set<number>() // enqueue returned, or put was called and did not fail as invalid
        const putSucceeded = new Map<number, KinesisWriter.RecordResult>()
        const putFailed = new Map<number, RecordFailed>()
        const flushFailures: Array<RecordFailed> = []
        let unlisted = 0 // failures a flush counted but did not list: beyond maxBufferedRecords between flushes
        const puts: Array<Fiber.RuntimeFiber<void>> = []
        const logs = captureLogs()

        const stats = yield* Effect.gen(function*() {
          const writer = yield* KinesisWriter.make({
            stream,
            linger: options.lingerMillis,
            maxBatchRecords: options.maxBatchRecords,
            maxBufferedRecords: options.maxBufferedRecords,
            maxInFlight: options.maxInFlight,
            // Far above a loaded machine's slowest answer: a request that times out after it was stored, but
            // before its answer is read, leaves a copy that no counter explains. A hang still costs a second.
            requestTimeout: "1 second",
            retry: quickRetry("10 seconds")
          })
          const flush = writer.flush.pipe(
            Effect.either,
            Effect.map((result) => {
              if (Either.isLeft(result)) {
                flushFailures.push(...result.left.failures)
                unlisted += result.left.unlisted
              }
            })
          )
          const lane = (ops: ReadonlyArray<Op>) =>
            Effect.forEach(ops, (op) =>
              Effect.gen(function*() {
                if (op.kind === "flush") return yield* flush
                for (let i = 0; i < op.count; i++) {
                  const id = nextId++
                  if (op.kind === "enqueue") {
                    yield* writer.enqueue(message(id))
                    admitted.add(id)
                  } else {
                    admitted.add(id)
                    puts.push(
                      yield* writer.put(message(id)).pipe(
                        Effect.match({
                          onFailure: (error) => {
                            if (error._tag === "RecordFailed") putFailed.set(id, error)
                            else throw new Error(`put ${id}: ${error.message}`)
                          },
                          onSuccess: (result) => void putSucceeded.set(id, result)
                        }),
                        Effect.fork
                      )
                    )
                  }
                }
              }), { discard: true })
          yield* Effect.forEach(lanes, lane, { concurrency: "unbounded", discard: true })
          yield* Effect.forEach(puts, Fiber.join, { discard: true })
          yield* flush
          return yield* writer.stats
        }).pipe(Effect.scoped, Effect.provide(logs.layer))

        const stored = tally(yield* local.readAll(stream), admitted)
        const counters = yield* local.proxy.counters
        const reported = [...putFailed.keys(), ...flushFailures.map((failure) => idOf(failure.data))]
        const reportedSet = new Set(reported)

        // Nothing lost: every record taken is in the stream, or was reported to its caller or to a flush (by
        // itself, or counted among the unlisted once more failed between two flushes than the writer keeps).
        const unaccounted = [...admitted].filter((id) => !stored.ids.has(id) && !reportedSet.has(id))
        expect(unaccounted.length).toBeLessThanOrEqual(unlisted)
        expect(stored.unexpected).toBe(0)
        // Nothing misreported: a success is in the stream, nothing is reported twice or both ways.
        expect([...putSucceeded.keys()].filter((id) => !stored.ids.has(id))).toEqual([])
        expect(reportedSet.size).toBe(reported.length)
        expect(reported.filter((id) => putSucceeded.has(id))).toEqual([])
        expect(stats).toMatchObject({ accepted: admitted.size, failed: reported.length + unlisted, bufferedRecords: 0 })
        expect(stats.delivered + stats.failed).toBe(stats.accepted)
        expect(loggedFailures(logs.lines)).toBe(reported.length + unlisted)
        if (plan.resetAfterForward === undefined) {
          // No answer was lost: a failure is a record that is not in the stream, and nothing is stored twice.
          expect(reported.filter((id) => stored.ids.has(id))).toEqual([])
          expect(stored.duplicates).toBe(0)
          expect(unaccounted.length).toBe(unlisted)
        } else {
          expect(stored.duplicates).toBeLessThanOrEqual(counters.records.unanswered)
        }
        yield* local.proxy.resetCounters
      }),
    { timeout: 120_000, fastCheck: { numRuns: runs } }
  )
})
