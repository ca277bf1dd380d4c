import { RateLimit } from "@effect-kinesis/core"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"

const shard = "shardId-000000000000"
const MiB = 1024 * 1024

describe("RateLimit budgets", () => {
  it("starts a shard full: one second of the limits, capacity applied", () => {
    expect(RateLimit.available(RateLimit.make(), shard, 0)).toEqual({ records: 1000, bytes: MiB })
    const half = RateLimit.make({ capacity: 0.5, recordsPerSecond: 2000, bytesPerSecond: 2 * MiB })
    expect(RateLimit.available(half, shard, 123)).toEqual({ records: 1000, bytes: MiB })
    expect(RateLimit.multiplier(half, shard)).toBe(1)
  })

  it("refills at the rate, up to one second's worth", () => {
    const limit = RateLimit.make()
    RateLimit.spend(limit, shard, 1000, 100_000, 0)
    expect(RateLimit.available(limit, shard, 0)).toEqual({ records: 0, bytes: MiB - 100_000 })
    expect(RateLimit.available(limit, shard, 250).records).toBe(250)
    expect(RateLimit.available(limit, shard, 999).records).toBe(999)
    expect(RateLimit.available(limit, shard, 60_000)).toEqual({ records: 1000, bytes: MiB })
  })

  it("keeps shards apart", () => {
    const limit = RateLimit.make()
    RateLimit.spend(limit, "a", 1000, 0, 0)
    expect(RateLimit.available(limit, "a", 0).records).toBe(0)
    expect(RateLimit.available(limit, "b", 0).records).toBe(1000)
  })

  it("earns nothing from a clock that steps back", () => {
    const limit = RateLimit.make()
    RateLimit.spend(limit, shard, 500, 0, 1000)
    expect(RateLimit.available(limit, shard, 400).records).toBe(500)
    expect(RateLimit.available(limit, shard, 1000).records).toBe(500)
    expect(RateLimit.available(limit, shard, 1100).records).toBe(600)
  })

  it("says when a shard can take a batch: now, or when both buckets hold it", () => {
    const limit = RateLimit.make()
    expect(RateLimit.readyAt(limit, shard, 1000, MiB, 7)).toBe(7)
    RateLimit.spend(limit, shard, 1000, MiB, 7)
    expect(RateLimit.readyAt(limit, shard, 100, 1000, 7)).toBeCloseTo(107)
    expect(RateLimit.readyAt(limit, shard, 100, MiB / 2, 7)).toBeCloseTo(507)
    expect(RateLimit.readyAt(limit, shard, 100, MiB / 2, 507)).toBe(507)
  })

  it("lets a record larger than the byte bucket go once the bucket is full, and paces what follows", () => {
    const limit = RateLimit.make()
    const big = 3 * MiB
    expect(RateLimit.readyAt(limit, shard, 1, big, 0)).toBe(0)
    RateLimit.spend(limit, shard, 1, big, 0)
    expect(RateLimit.available(limit, shard, 0).bytes).toBe(0)
    // Owes 2 MiB, then needs a full bucket for the next one: 3 seconds.
    expect(RateLimit.readyAt(limit, shard, 1, big, 0)).toBeCloseTo(3000)
    expect(RateLimit.readyAt(limit, shard, 1, 100, 0)).toBeCloseTo(2000 + 100_000 / MiB)
  })

  it("refuses options that make no sense", () => {
    expect(() => RateLimit.make({ capacity: 0 })).toThrow(RangeError)
    expect(() => RateLimit.make({ capacity: 1.5 })).toThrow(RangeError)
    expect(() => RateLimit.make({ recordsPerSecond: -1 })).toThrow(RangeError)
    expect(() => RateLimit.make({ bytesPerSecond: Number.NaN })).toThrow(RangeError)
  })

  it("forgets the shards it is not told to keep", () => {
    const limit = RateLimit.make()
    RateLimit.throttled(limit, "a", 0, 10)
    RateLimit.throttled(limit, "b", 0, 10)
    RateLimit.forget(limit, ["b", "c"])
    expect([...limit.shards.keys()]).toEqual(["b"])
    expect(RateLimit.multiplier(limit, "a")).toBe(1)
    expect(RateLimit.multiplier(limit, "b")).toBeCloseTo(RateLimit.DECREASE)
  })
})

describe("RateLimit adaptation", () => {
  it("lowers the rate on a throttle and empties the buckets", () => {
    const limit = RateLimit.make()
    RateLimit.throttled(limit, shard, 0, 10)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(RateLimit.DECREASE)
    expect(RateLimit.available(limit, shard, 10)).toEqual({ records: 0, bytes: 0 })
    const filled = RateLimit.available(limit, shard, 1010)
    expect(filled.records).toBe(Math.floor(1000 * RateLimit.DECREASE))
    expect(RateLimit.available(limit, shard, 60_000).records).toBe(Math.floor(1000 * RateLimit.DECREASE))
  })

  it("decreases once per round: throttles of requests sent before the last decrease change nothing", () => {
    const limit = RateLimit.make()
    // Eight requests in flight, sent at 0..7 ms, all refused, answered at 50..57 ms.
    for (let i = 0; i < 8; i++) RateLimit.throttled(limit, shard, i, 50 + i)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(RateLimit.DECREASE)
    // A request sent after the decrease, refused too: the lower rate was still too high.
    RateLimit.throttled(limit, shard, 60, 100)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(RateLimit.DECREASE ** 2)
    RateLimit.throttled(limit, shard, 99, 120)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(RateLimit.DECREASE ** 2)
  })

  it("never goes below the floor", () => {
    const limit = RateLimit.make()
    for (let i = 1; i <= 100; i++) RateLimit.throttled(limit, shard, i * 10, i * 10 + 5)
    expect(RateLimit.multiplier(limit, shard)).toBe(RateLimit.MIN_MULTIPLIER)
    expect(RateLimit.available(limit, shard, 100_000).records).toBe(Math.floor(1000 * RateLimit.MIN_MULTIPLIER))
  })

  it("climbs back additively with successes, up to the full rate", () => {
    const limit = RateLimit.make()
    RateLimit.throttled(limit, shard, 0, 0)
    for (let t = 100; t <= 2000; t += 100) RateLimit.succeeded(limit, shard, 10, t)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(RateLimit.DECREASE + 2 * RateLimit.INCREASE)
    for (let t = 2100; t <= 60_000; t += 100) RateLimit.succeeded(limit, shard, 10, t)
    expect(RateLimit.multiplier(limit, shard)).toBe(1)
  })

  it("climbs by at most a second's worth after a long silence, and not on empty successes", () => {
    const limit = RateLimit.make()
    RateLimit.throttled(limit, shard, 0, 0)
    RateLimit.succeeded(limit, shard, 0, 5000)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(RateLimit.DECREASE)
    RateLimit.succeeded(limit, shard, 5, 10_000)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(RateLimit.DECREASE + RateLimit.INCREASE)
  })
})

type Step =
  | { readonly kind: "send"; readonly after: number; readonly records: number; readonly bytes: number }
  | { readonly kind: "throttled"; readonly after: number }
  | { readonly kind: "succeeded"; readonly after: number }

const pause = fc.integer({ min: 0, max: 300 })

const stepArbitrary: fc.Arbitrary<Step> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("send" as const),
      after: pause,
      records: fc.integer({ min: 1, max: 600 }),
      bytes: fc.integer({ min: 1, max: 2 * MiB })
    })
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("throttled" as const), after: pause }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("succeeded" as const), after: pause }) }
)

describe("RateLimit properties", () => {
  it("never lets more go than a second's worth plus the rate times the time, over any window", () => {
    fc.assert(
      fc.property(
        fc.record({
          recordsPerSecond: fc.integer({ min: 1, max: 5000 }),
          bytesPerSecond: fc.integer({ min: 1000, max: 4 * MiB }),
          capacity: fc.double({ min: 0.01, max: 1, noNaN: true })
        }),
        fc.array(stepArbitrary, { maxLength: 200 }),
        (options, steps) => {
          const limit = RateLimit.make(options)
          const recordRate = options.recordsPerSecond * options.capacity
          const byteRate = options.bytesPerSecond * options.capacity
          const sends: Array<{ at: number; records: number; bytes: number }> = []
          let now = 0
          let largest = 0
          let largestCount = 0
          for (const step of steps) {
            now += step.after
            if (step.kind === "throttled") RateLimit.throttled(limit, shard, now - step.after, now)
            else if (step.kind === "succeeded") RateLimit.succeeded(limit, shard, 1, now)
            else {
              // A sender that fills a batch up to what is available, or sends one record on its own when allowed.
              const room = RateLimit.available(limit, shard, now)
              const perRecord = Math.max(1, Math.floor(step.bytes / step.records))
              let records = Math.min(step.records, room.records, Math.floor(room.bytes / perRecord))
              let bytes = records * perRecord
              if (records === 0 && RateLimit.readyAt(limit, shard, 1, step.bytes, now) === now) {
                records = 1
                bytes = step.bytes
              }
              if (records > 0) {
                RateLimit.spend(limit, shard, records, bytes, now)
                sends.push({ at: now, records, bytes })
                largest = Math.max(largest, bytes)
                largestCount = Math.max(largestCount, records)
              }
            }
          }
          // A full bucket lends to one batch larger than itself: that much more may go, once.
          const borrowed = Math.max(0, largest - byteRate)
          const borrowedRecords = Math.max(0, largestCount - recordRate)
          for (let i = 0; i < sends.length; i++) {
            let records = 0
            let bytes = 0
            for (let j = i; j < sends.length; j++) {
              records += sends[j].records
              bytes += sends[j].bytes
              const elapsed = (sends[j].at - sends[i].at) / 1000
              expect(records).toBeLessThanOrEqual(recordRate + recordRate * elapsed + borrowedRecords + 1e-6)
              expect(bytes).toBeLessThanOrEqual(byteRate + byteRate * elapsed + borrowed + 1e-3)
            }
          }
        }
      ),
      { numRuns: 200 }
    )
  })

  it("has what readyAt promised available at that time", () => {
    fc.assert(
      fc.property(
        fc.array(stepArbitrary, { maxLength: 50 }),
        fc.integer({ min: 1, max: 1000 }),
        fc.integer({ min: 1, max: MiB }),
        (steps, records, bytes) => {
          const limit = RateLimit.make()
          let now = 0
          for (const step of steps) {
            now += step.after
            if (step.kind === "throttled") RateLimit.throttled(limit, shard, now - step.after, now)
            else if (step.kind === "succeeded") RateLimit.succeeded(limit, shard, 1, now)
            else RateLimit.spend(limit, shard, step.records, step.bytes, now)
          }
          const at = RateLimit.readyAt(limit, shard, records, bytes, now)
          expect(at).toBeGreaterThanOrEqual(now)
          const scale = 1000 * RateLimit.multiplier(limit, shard)
          const room = RateLimit.available(limit, shard, at)
          // What fits in a full bucket is available then; a larger amount waits for a full bucket.
          expect(room.records).toBeGreaterThanOrEqual(Math.min(records, Math.floor(scale)))
          expect(room.bytes).toBeGreaterThanOrEqual(Math.min(bytes, Math.floor(scale * MiB / 1000)))
          expect(RateLimit.readyAt(limit, shard, records, bytes, at)).toBe(at)
        }
      ),
      { numRuns: 300 }
    )
  })

  it("keeps the multiplier between the floor and 1, and lowers it at most once per round", () => {
    fc.assert(
      fc.property(fc.array(stepArbitrary, { maxLength: 200 }), fc.integer({ min: 1, max: 8 }), (steps, inFlight) => {
        const limit = RateLimit.make()
        let now = 0
        for (const step of steps) {
          now += step.after
          if (step.kind === "throttled") {
            // `inFlight` requests sent before this moment, all refused: one decrease at most.
            const before = RateLimit.multiplier(limit, shard)
            for (let i = 0; i < inFlight; i++) RateLimit.throttled(limit, shard, now - 1 - i, now + i)
            const after = RateLimit.multiplier(limit, shard)
            const lowest = Math.max(RateLimit.MIN_MULTIPLIER, before * RateLimit.DECREASE)
            expect(after).toBeGreaterThanOrEqual(lowest - 1e-12)
            now += inFlight
          } else if (step.kind === "succeeded") RateLimit.succeeded(limit, shard, 1, now)
          const multiplier = RateLimit.multiplier(limit, shard)
          expect(multiplier).toBeGreaterThanOrEqual(RateLimit.MIN_MULTIPLIER)
          expect(multiplier).toBeLessThanOrEqual(1)
        }
      })
    )
  })
})

// Deterministic draws for the simulation, so a failure can be reproduced from its seed.
const mulberry32 = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

interface Scenario {
  /** Writers sharing the shard, each with its own RateLimit. */
  readonly writers: number
  /** What each writer is offered, as a multiple of the shard's limit. */
  readonly offered: number
  /** Bytes of each record (data + key). */
  readonly recordBytes: number
  readonly seconds: number
  readonly warmupSeconds: number
  readonly seed: number
  /** The shard's true record rate, when it differs from the nominal 1,000 the writers aim for. */
  readonly shardRecordsPerSecond?: number
  /** When (seconds) every writer but the first stops. */
  readonly othersStopAt?: number
}

interface Outcome {
  /** Stored after the warm-up, as a share of what the shard can take (records or bytes, whichever binds). */
  readonly utilization: number
  /** Refused after the warm-up, as a share of the records sent. */
  readonly refused: number
  /** Refused over the whole run, warm-up included. */
  readonly refusedAll: number
  /** Each writer's share of the records stored after the warm-up. */
  readonly shares: ReadonlyArray<number>
}

interface Request {
  readonly writer: number
  readonly sentAt: number
  readonly records: number
  stored: number
}

type Event =
  | { readonly at: number; readonly kind: "send"; readonly writer: number }
  | { readonly at: number; readonly kind: "arrive" | "answer"; readonly request: Request }

/**
 * A shard with AWS's exact limits (token buckets of 1,000 records and 1 MiB per second, one second of burst,
 * starting full, records admitted one by one) fed by writers that each send, every 20 to 100 ms, what their own
 * RateLimit allows of what they were offered, over 1 to 5 ms of latency each way; refused records are sent again.
 */
const simulate = (scenario: Scenario): Outcome => {
  const random = mulberry32(scenario.seed)
  const between = (low: number, high: number) => low + (high - low) * random()
  const end = scenario.seconds * 1000
  const warmup = scenario.warmupSeconds * 1000
  const rate = scenario.shardRecordsPerSecond ?? 1000
  const server = { records: rate, bytes: 1024 * 1024, updatedAt: 0 }
  const writers = Array.from({ length: scenario.writers }, () => ({
    limit: RateLimit.make(),
    pending: 0,
    offeredAt: 0,
    stored: 0
  }))
  const events: Array<Event> = []
  const schedule = (event: Event) => {
    let i = events.length
    while (i > 0 && events[i - 1].at > event.at) i--
    events.splice(i, 0, event)
  }
  let stored = 0
  let storedBytes = 0
  let sent = 0
  let refused = 0
  let sentAll = 0
  let refusedAll = 0
  writers.forEach((_, writer) => schedule({ at: between(0, 100), kind: "send", writer }))
  while (events.length > 0) {
    const event = events.shift()!
    const now = event.at
    if (now > end) break
    if (event.kind === "send") {
      if (event.writer > 0 && scenario.othersStopAt !== undefined && now >= scenario.othersStopAt * 1000) continue
      const w = writers[event.writer]
      w.pending += (scenario.offered * 1000 * (now - w.offeredAt)) / 1000
      w.offeredAt = now
      const room = RateLimit.available(w.limit, shard, now)
      let count = Math.min(Math.floor(w.pending), room.records, Math.floor(room.bytes / scenario.recordBytes))
      if (count === 0 && w.pending >= 1 && RateLimit.readyAt(w.limit, shard, 1, scenario.recordBytes, now) === now) {
        count = 1
      }
      if (count > 0) {
        RateLimit.spend(w.limit, shard, count, count * scenario.recordBytes, now)
        w.pending -= count
        for (let first = 0; first < count; first += 500) {
          const request = { writer: event.writer, sentAt: now, records: Math.min(500, count - first), stored: 0 }
          schedule({ at: now + between(1, 5), kind: "arrive", request })
        }
      }
      schedule({ at: now + between(20, 100), kind: "send", writer: event.writer })
    } else if (event.kind === "arrive") {
      const request = event.request
      const elapsed = (now - server.updatedAt) / 1000
      server.records = Math.min(rate, server.records + rate * elapsed)
      server.bytes = Math.min(1024 * 1024, server.bytes + 1024 * 1024 * elapsed)
      server.updatedAt = now
      for (let i = 0; i < request.records; i++) {
        const bytesOk = server.bytes >= scenario.recordBytes ||
          (scenario.recordBytes > 1024 * 1024 && server.bytes >= 1024 * 1024)
        if (server.records >= 1 && bytesOk) {
          server.records -= 1
          server.bytes -= scenario.recordBytes
          request.stored++
        }
      }
      sentAll += request.records
      refusedAll += request.records - request.stored
      if (now >= warmup) {
        sent += request.records
        refused += request.records - request.stored
        stored += request.stored
        storedBytes += request.stored * scenario.recordBytes
        writers[request.writer].stored += request.stored
      }
      schedule({ at: now + between(1, 5), kind: "answer", request })
    } else {
      const request = event.request
      const w = writers[request.writer]
      const lost = request.records - request.stored
      w.pending += lost
      if (lost > 0) RateLimit.throttled(w.limit, shard, request.sentAt, now)
      else RateLimit.succeeded(w.limit, shard, request.stored, now)
    }
  }
  const seconds = (end - warmup) / 1000
  return {
    utilization: Math.max(stored / (rate * seconds), storedBytes / (1024 * 1024 * seconds)),
    refused: refused / sent,
    refusedAll: refusedAll / sentAll,
    shares: writers.map((w) => w.stored / stored)
  }
}

const scenario = (writers: number, seed: number): Scenario => ({
  writers,
  offered: 1.25,
  recordBytes: 100,
  seconds: 60,
  warmupSeconds: 5,
  seed
})

const seeds = fc.integer({ min: 1, max: 2 ** 31 - 1 })

describe("RateLimit simulation: writers sharing a shard with AWS's limits converge", () => {
  it("one writer offered 1.25x the shard stores at least 97% of its capacity, with at most 1% refused", () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const outcome = simulate(scenario(1, seed))
        expect(outcome.utilization).toBeGreaterThanOrEqual(0.97)
        expect(outcome.refused).toBeLessThanOrEqual(0.01)
      }),
      { numRuns: 10 }
    )
  })

  it.each([2, 3])("%i writers offered 1.25x each store 95% of the capacity or more, at most 5% refused", (writers) => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const outcome = simulate(scenario(writers, seed))
        expect(outcome.utilization).toBeGreaterThanOrEqual(0.95)
        expect(outcome.refused).toBeLessThanOrEqual(0.05)
        // Each gets a fair part: none under half its share.
        for (const share of outcome.shares) expect(share).toBeGreaterThan(0.5 / writers)
      }),
      { numRuns: 10 }
    )
  })

  it("paces on bytes when the byte limit binds (5 KB records: 205 a second)", () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        const outcome = simulate({ ...scenario(2, seed), recordBytes: 5 * 1024 })
        expect(outcome.utilization).toBeGreaterThanOrEqual(0.95)
        expect(outcome.refused).toBeLessThanOrEqual(0.05)
      }),
      { numRuns: 5 }
    )
  })

  it("gives the shard back to the writer that stays when the others stop", () => {
    fc.assert(
      fc.property(seeds, (seed) => {
        // Three writers until 30 s, then one: measured from 40 s on.
        const outcome = simulate({ ...scenario(3, seed), othersStopAt: 30, warmupSeconds: 40 })
        expect(outcome.utilization).toBeGreaterThanOrEqual(0.9)
      }),
      { numRuns: 5 }
    )
  })
})
