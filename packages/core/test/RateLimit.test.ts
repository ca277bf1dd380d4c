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
    const cut = RateLimit.multiplier(limit, "b")
    expect(cut).toBeLessThan(1)
    RateLimit.forget(limit, ["b", "c"])
    expect([...limit.shards.keys()]).toEqual(["b"])
    expect(RateLimit.multiplier(limit, "a")).toBe(1)
    expect(RateLimit.multiplier(limit, "b")).toBe(cut)
  })
})

describe("RateLimit adaptation", () => {
  it("cuts a refused rate in proportion to the share refused, and empties the buckets", () => {
    const limit = RateLimit.make()
    RateLimit.spend(limit, shard, 1000, 100_000, 0)
    RateLimit.answered(limit, shard, 0, 10, 0, 10, 1000)
    // All refused: at most halved.
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(RateLimit.MAX_CUT)
    expect(RateLimit.available(limit, shard, 10)).toEqual({ records: 0, bytes: 0 })
    expect(RateLimit.available(limit, shard, 60_000).records).toBe(Math.floor(1000 * RateLimit.MAX_CUT))
    const mild = RateLimit.make()
    // A lone writer at the limit: 2 refused of 1,000.
    RateLimit.spend(mild, shard, 1000, 100_000, 0)
    RateLimit.answered(mild, shard, 0, 50, 998, 2, 200)
    expect(RateLimit.multiplier(mild, shard)).toBeCloseTo(0.998 * RateLimit.DECREASE, 2)
  })

  it("cuts from the rate the writer sent at, not from a multiplier it did not use", () => {
    const limit = RateLimit.make()
    // 300 records a second for 3 seconds, then 20% of a request refused.
    for (let t = 0; t < 3000; t += 100) {
      RateLimit.spend(limit, shard, 30, 3000, t)
      RateLimit.answered(limit, shard, t, t + 20, 30, 0, 0)
    }
    RateLimit.spend(limit, shard, 30, 3000, 3000)
    RateLimit.answered(limit, shard, 3000, 3020, 24, 6, 600)
    const cut = RateLimit.multiplier(limit, shard)
    expect(cut).toBeGreaterThan(0.2)
    expect(cut).toBeLessThan(0.3)
  })

  it("cuts once per round: refusals of requests sent before the last cut change nothing", () => {
    const limit = RateLimit.make()
    // Eight requests in flight, sent at 0..7 ms, all refused, answered at 50..57 ms.
    for (let i = 0; i < 8; i++) RateLimit.spend(limit, shard, 125, 12_500, i)
    for (let i = 0; i < 8; i++) RateLimit.answered(limit, shard, i, 50 + i, 0, 10, 1000)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(RateLimit.MAX_CUT)
  })

  it("never goes below the floor", () => {
    const limit = RateLimit.make()
    for (let i = 1; i <= 100; i++) RateLimit.answered(limit, shard, i * 10, i * 10 + 5, 0, 5, 500)
    expect(RateLimit.multiplier(limit, shard)).toBe(RateLimit.MIN_MULTIPLIER)
    expect(RateLimit.available(limit, shard, 100_000).records).toBe(Math.floor(1000 * RateLimit.MIN_MULTIPLIER))
  })

  it("climbs back additively with successes, up to the full rate", () => {
    const limit = RateLimit.make()
    RateLimit.throttled(limit, shard, 0, 0)
    const cut = RateLimit.multiplier(limit, shard)
    for (let t = 100; t <= 2000; t += 100) RateLimit.succeeded(limit, shard, 10, t)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(cut + 2 * RateLimit.INCREASE)
    for (let t = 2100; t <= 60_000; t += 100) RateLimit.succeeded(limit, shard, 10, t)
    expect(RateLimit.multiplier(limit, shard)).toBe(1)
  })

  it("climbs by at most a second's worth after a long silence, and not on empty successes", () => {
    const limit = RateLimit.make()
    RateLimit.throttled(limit, shard, 0, 0)
    const cut = RateLimit.multiplier(limit, shard)
    RateLimit.succeeded(limit, shard, 0, 5000)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(cut)
    RateLimit.succeeded(limit, shard, 5, 10_000)
    expect(RateLimit.multiplier(limit, shard)).toBeCloseTo(cut + RateLimit.INCREASE)
  })

  // A writer sending `rate` records a second to the shard for `millis`, each request refused `share` of its records
  // (spread evenly, as random refusals are), answered 20 ms later.
  const drive = (limit: RateLimit.RateLimit, from: number, millis: number, share: number) => {
    for (let t = from; t < from + millis; t += 10) {
      const room = RateLimit.available(limit, shard, t).records
      const records = Math.min(room, 20)
      if (records === 0) continue
      RateLimit.spend(limit, shard, records, records * 100, t)
      const refused = Math.round(records * share + ((t / 10) % 5) / 5 - 0.4)
      RateLimit.answered(limit, shard, t, t + 20, records - refused, refused, refused * 100)
    }
  }

  it("takes a share that does not fall when the rate falls for noise: the cut is undone, refusals within it cut nothing", () => {
    const limit = RateLimit.make()
    drive(limit, 0, 10_000, 0.2)
    expect(limit.shards.get(shard)!.noise).toBeGreaterThan(0.1)
    expect(RateLimit.multiplier(limit, shard)).toBeGreaterThan(0.9)
  })

  it("forgets a noise floor once the share stays well under it: refusals count again", () => {
    const limit = RateLimit.make()
    drive(limit, 0, 10_000, 0.2)
    expect(limit.shards.get(shard)!.noise).toBeGreaterThan(0.1)
    // The noise stopped: the floor follows the share down, and under half the least share a probe looks for it is
    // gone, rather than excusing a few refusals a second for good.
    drive(limit, 10_000, 5000, 0)
    expect(limit.shards.get(shard)!.noise).toBe(0)
    const before = RateLimit.multiplier(limit, shard)
    RateLimit.spend(limit, shard, 20, 2000, 15_000)
    RateLimit.answered(limit, shard, 15_000, 15_020, 19, 1, 100)
    expect(RateLimit.multiplier(limit, shard)).toBeLessThan(before)
  })

  it("takes a share that falls with the rate for the rate's", () => {
    const limit = RateLimit.make()
    drive(limit, 0, 60, 0.2)
    // The cut ended the refusals: they were the rate's.
    drive(limit, 60, 3000, 0)
    expect(RateLimit.multiplier(limit, shard)).toBeLessThan(0.8)
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
            if (step.kind === "throttled") RateLimit.answered(limit, shard, now - step.after, now, 5, 5, 500)
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
            if (step.kind === "throttled") RateLimit.answered(limit, shard, now - step.after, now, 5, 5, 500)
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
            // `inFlight` requests sent before this moment, all refused.
            for (let i = 0; i < inFlight; i++) RateLimit.spend(limit, shard, 10, 1000, now - 1 - i)
            RateLimit.answered(limit, shard, now - 1, now, 0, 10, 1000)
            const cut = RateLimit.multiplier(limit, shard)
            const cutNow = limit.shards.get(shard)!.decreasedAt === now
            for (let i = 1; i < inFlight; i++) RateLimit.answered(limit, shard, now - 1 - i, now + i, 0, 10, 1000)
            // Once cut, the requests sent before that cut change nothing.
            if (cutNow) expect(RateLimit.multiplier(limit, shard)).toBe(cut)
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
  /** Milliseconds each way, drawn between the two (default 1 to 5). */
  readonly latency?: readonly [number, number] | undefined
  /** When (seconds) every writer but the first stops. */
  readonly othersStopAt?: number | undefined
  /** Whether the shard enforces its limits (default true). */
  readonly limits?: boolean | undefined
  /** The share of records refused as throttled whatever the rate (fault injection). */
  readonly noise?: number | undefined
  /** The share of records refused with InternalFailure, which says nothing to the pacing. */
  readonly internalFailure?: number | undefined
  /** The share of requests that fail as a whole (a 500, a reset): no answer for the pacing. */
  readonly requestFailure?: number | undefined
  /** Each writer offers this many records, then the run ends when all are stored. */
  readonly records?: number | undefined
  /** The most records a second a writer can send (its CPU), as a multiple of the shard's limit. */
  readonly sendCap?: number | undefined
  /** A writer without pacing, sending whatever it has. */
  readonly blind?: boolean | undefined
  /** Milliseconds more each writer's first request takes to get there (a new connection, a cold start). */
  readonly coldStart?: number | undefined
}

interface Outcome {
  /** Stored after the warm-up, as a share of what the shard can take (records or bytes, whichever binds). */
  readonly utilization: number
  /** Refused as throttled after the warm-up, as a share of the records sent. */
  readonly refused: number
  /** Each writer's share of the records stored after the warm-up. */
  readonly shares: ReadonlyArray<number>
  /** The largest distance of a writer's share from an equal one, as a fraction of it. */
  readonly spread: number
  /** With `records`: seconds until every writer's records were stored. */
  readonly seconds: number
}

interface Request {
  readonly writer: number
  readonly sentAt: number
  readonly records: number
  stored: number
  throttled: number
  failed: boolean
}

type Event =
  | { readonly at: number; readonly kind: "send"; readonly writer: number }
  | { readonly at: number; readonly kind: "arrive" | "answer"; readonly request: Request }

/**
 * A shard with AWS's exact limits (token buckets of 1,000 records and 1 MiB per second, one second of burst,
 * starting full, records admitted one by one, refused ones not counted) fed by writers that each send, every 20 to
 * 100 ms, what their own RateLimit allows of what they were offered (up to 500 records or 5 MiB a request), over the
 * scenario's latency each way; refused records are sent again. Faults refuse records before the limits do.
 */
const simulate = (scenario: Scenario): Outcome => {
  const random = mulberry32(scenario.seed)
  const between = (low: number, high: number) => low + (high - low) * random()
  const end = scenario.seconds * 1000
  const warmup = scenario.warmupSeconds * 1000
  const [fastest, slowest] = scenario.latency ?? [1, 5]
  const { recordBytes } = scenario
  const perRequest = Math.max(1, Math.min(500, Math.floor((5 * MiB) / recordBytes)))
  const server = { records: 1000, bytes: MiB, updatedAt: 0 }
  const writers = Array.from({ length: scenario.writers }, () => ({
    limit: RateLimit.make(),
    pending: 0,
    offered: 0,
    offeredAt: 0,
    stored: 0,
    storedAll: 0,
    cap: 0,
    capAt: 0,
    requests: 0
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
  let now = 0
  writers.forEach((_, writer) => schedule({ at: between(0, 100), kind: "send", writer }))
  while (events.length > 0) {
    const event = events.shift()!
    now = event.at
    if (now > end) break
    if (event.kind === "send") {
      const w = writers[event.writer]
      const stopped = event.writer > 0 && scenario.othersStopAt !== undefined && now >= scenario.othersStopAt * 1000
      if (!stopped) {
        let offer = scenario.offered * (now - w.offeredAt)
        if (scenario.records !== undefined) offer = Math.min(offer, scenario.records - w.offered)
        w.offered += offer
        w.pending += offer
      }
      w.offeredAt = now
      let count = Math.floor(w.pending)
      if (scenario.sendCap !== undefined) {
        w.cap = Math.min(scenario.sendCap * 100, w.cap + scenario.sendCap * (now - w.capAt))
        w.capAt = now
        count = Math.min(count, Math.floor(w.cap))
      }
      if (scenario.blind !== true) {
        const room = RateLimit.available(w.limit, shard, now)
        const paced = Math.min(count, room.records, Math.floor(room.bytes / recordBytes))
        count = paced === 0 && count >= 1 && RateLimit.readyAt(w.limit, shard, 1, recordBytes, now) === now ?
          1 :
          paced
      }
      if (count > 0) {
        if (scenario.blind !== true) RateLimit.spend(w.limit, shard, count, count * recordBytes, now)
        w.pending -= count
        w.cap -= count
        for (let first = 0; first < count; first += perRequest) {
          const records = Math.min(perRequest, count - first)
          const request = { writer: event.writer, sentAt: now, records, stored: 0, throttled: 0, failed: false }
          const cold = w.requests++ === 0 ? scenario.coldStart ?? 0 : 0
          schedule({ at: now + cold + between(fastest, slowest), kind: "arrive", request })
        }
      }
      schedule({ at: now + between(20, 100), kind: "send", writer: event.writer })
    } else if (event.kind === "arrive") {
      const request = event.request
      if (scenario.requestFailure !== undefined && random() < scenario.requestFailure) request.failed = true
      else {
        const elapsed = (now - server.updatedAt) / 1000
        server.records = Math.min(1000, server.records + 1000 * elapsed)
        server.bytes = Math.min(MiB, server.bytes + MiB * elapsed)
        server.updatedAt = now
        for (let i = 0; i < request.records; i++) {
          const draw = random()
          if (draw < (scenario.noise ?? 0)) {
            request.throttled++
            continue
          }
          if (draw < (scenario.noise ?? 0) + (scenario.internalFailure ?? 0)) continue
          const bytesOk = server.bytes >= recordBytes || (recordBytes > MiB && server.bytes >= MiB)
          if (scenario.limits === false || (server.records >= 1 && bytesOk)) {
            server.records -= 1
            server.bytes -= recordBytes
            request.stored++
          } else request.throttled++
        }
        writers[request.writer].storedAll += request.stored
        if (now >= warmup) {
          sent += request.records
          refused += request.throttled
          stored += request.stored
          storedBytes += request.stored * recordBytes
          writers[request.writer].stored += request.stored
        }
      }
      schedule({ at: now + between(fastest, slowest), kind: "answer", request })
    } else {
      const request = event.request
      const w = writers[request.writer]
      w.pending += request.records - request.stored
      if (!request.failed && scenario.blind !== true) {
        const { sentAt, stored: ok, throttled } = request
        RateLimit.answered(w.limit, shard, sentAt, now, ok, throttled, throttled * recordBytes)
      }
      const records = scenario.records
      if (records !== undefined && writers.every((writer) => writer.storedAll >= records - 1e-6)) break
    }
  }
  const seconds = (Math.min(now, end) - warmup) / 1000
  const shares = writers.map((w) => w.stored / stored)
  return {
    utilization: Math.max(stored / (1000 * seconds), storedBytes / (MiB * seconds)),
    refused: refused / sent,
    shares,
    spread: Math.max(...shares.map((share) => Math.abs(share * writers.length - 1))),
    seconds: now / 1000
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

// Fixed seeds: the simulation is deterministic, so its figures are too. Short latencies (a writer next to its
// region) and long, jittery ones (a loaded machine: the bench's 2 cores running several writers and the emulator).
const seeds = [1, 2, 3, 4, 5, 6, 7, 8]
const latencies = [[1, 5], [10, 150]] as const
const cases = latencies.flatMap((latency) => seeds.map((seed) => ({ latency, seed })))
// With long latencies a refusal is heard later and more overshoots meanwhile: the bounds the simulation meets
// there (the targets hold with short ones).
const slow = (c: { readonly latency: readonly [number, number] }) => c.latency[1] > 50

describe("RateLimit simulation: writers sharing a shard with AWS's limits converge", () => {
  it.each(cases)(
    "one writer offered 1.25x the shard stores at least 97% of it (95% with long latencies), at most 1% refused (%o)",
    (c) => {
      const outcome = simulate({ ...scenario(1, c.seed), latency: c.latency })
      expect(outcome.utilization).toBeGreaterThanOrEqual(slow(c) ? 0.95 : 0.97)
      expect(outcome.refused).toBeLessThanOrEqual(0.01)
    }
  )

  it.each(cases)(
    "two writers each offered 1.25x the shard for 20 s store 95% of it or more, at most 3% refused (5% with long latencies), each within 25% of an equal share (%o)",
    (c) => {
      const outcome = simulate({ ...scenario(2, c.seed), seconds: 20, warmupSeconds: 0, latency: c.latency })
      expect(outcome.utilization).toBeGreaterThanOrEqual(0.95)
      expect(outcome.refused).toBeLessThanOrEqual(slow(c) ? 0.05 : 0.03)
      expect(outcome.spread).toBeLessThanOrEqual(0.25)
    }
  )

  it.each(latencies)("two writers are within 25% of an equal share in most runs, 15% on average (%o)", (...latency) => {
    const spreads = Array.from(
      { length: 24 },
      (_, i) =>
        simulate({ ...scenario(2, i + 1), seconds: 20, warmupSeconds: 0, latency: [latency[0], latency[1]] }).spread
    )
    expect(spreads.filter((spread) => spread <= 0.25).length).toBeGreaterThanOrEqual(22)
    expect(spreads.reduce((sum, spread) => sum + spread, 0) / spreads.length).toBeLessThanOrEqual(0.15)
  })

  it.each(cases)(
    "four writers each offered a quarter of 1.25x the shard for 20 s store 95% of it or more, at most 5% refused, each within 25% of an equal share (%o)",
    (c) => {
      const outcome = simulate({
        ...scenario(4, c.seed),
        offered: 1.25 / 4,
        seconds: 20,
        warmupSeconds: 0,
        latency: c.latency
      })
      expect(outcome.utilization).toBeGreaterThanOrEqual(0.95)
      expect(outcome.refused).toBeLessThanOrEqual(0.05)
      expect(outcome.spread).toBeLessThanOrEqual(0.25)
    }
  )

  it.each(cases)("three writers offered 1.25x each store 95% of the shard or more, at most 5% refused (%o)", (c) => {
    const outcome = simulate({ ...scenario(3, c.seed), latency: c.latency })
    expect(outcome.utilization).toBeGreaterThanOrEqual(0.95)
    expect(outcome.refused).toBeLessThanOrEqual(0.05)
    // Each gets a fair part: none under half its share.
    for (const share of outcome.shares) expect(share).toBeGreaterThan(0.5 / 3)
  })

  it.each(cases)("paces on bytes when the byte limit binds (5 KB records: 205 a second) (%o)", (c) => {
    const outcome = simulate({ ...scenario(2, c.seed), recordBytes: 5 * 1024, latency: c.latency })
    expect(outcome.utilization).toBeGreaterThanOrEqual(0.95)
    expect(outcome.refused).toBeLessThanOrEqual(0.03)
  })

  it.each(cases)(
    "fills the bytes with 50 KiB aggregates: one writer 97% (95% with long latencies), two with at most 5% refused (%o)",
    (c) => {
      const aggregates = { recordBytes: 50 * 1024, offered: 1.25 * 21, latency: c.latency }
      const alone = simulate({ ...scenario(1, c.seed), ...aggregates })
      expect(alone.utilization).toBeGreaterThanOrEqual(slow(c) ? 0.95 : 0.97)
      expect(alone.refused).toBeLessThanOrEqual(0.01)
      // Two aggregating writers: each refusal is a twentieth of a second's bytes, a lumpy signal (about 4% refused,
      // as with the fixed 0.8 cut before).
      const shared = simulate({ ...scenario(2, c.seed), ...aggregates })
      expect(shared.utilization).toBeGreaterThanOrEqual(0.95)
      expect(shared.refused).toBeLessThanOrEqual(0.05)
    }
  )

  it.each(cases)(
    "a writer whose first request took 300 ms longer does not overdraw the shard as its burst ends (%o)",
    (c) => {
      // Its buckets started 300 ms before the shard's: without the lead paid back, the shard refuses it when the
      // burst is spent, and the cut costs seconds of climbing back.
      const outcome = simulate({
        ...scenario(1, c.seed),
        seconds: 10,
        warmupSeconds: 0,
        coldStart: 300,
        latency: c.latency
      })
      expect(outcome.refused).toBe(0)
      expect(outcome.utilization).toBeGreaterThanOrEqual(slow(c) ? 0.95 : 0.97)
    }
  )

  it.each(cases)("gives the shard back to the writer that stays when the others stop (%o)", (c) => {
    // Three writers until 30 s, then one: measured from 40 s on.
    const outcome = simulate({ ...scenario(3, c.seed), othersStopAt: 30, warmupSeconds: 40, latency: c.latency })
    expect(outcome.utilization).toBeGreaterThanOrEqual(0.9)
  })
})

describe("RateLimit simulation: refusals that do not follow the rate", () => {
  // The bench's random-refusals case, one shard of it: no limits, 20% of records throttled at random, 2%
  // InternalFailure, 8% of requests failed as a whole; 25,000 records, a writer sending at most 1,600 a second.
  const noisy = {
    ...scenario(1, 1),
    offered: 100,
    seconds: 600,
    warmupSeconds: 0,
    records: 25_000,
    limits: false,
    noise: 0.2,
    internalFailure: 0.02,
    requestFailure: 0.08,
    sendCap: 1.6,
    latency: [5, 20] as const
  }

  it.each(seeds)("take at most 1.5x the shard-blind writer's time (seed %i)", (seed) => {
    const blind = simulate({ ...noisy, seed, blind: true })
    const aware = simulate({ ...noisy, seed })
    expect(aware.seconds).toBeLessThanOrEqual(1.5 * blind.seconds)
  })

  it.each(cases)("under the limits, cost a lone writer little of the shard: 12% noise, 90% stored (%o)", (c) => {
    const outcome = simulate({ ...scenario(1, c.seed), noise: 0.12, latency: c.latency })
    expect(outcome.utilization).toBeGreaterThanOrEqual(0.9)
  })
})
