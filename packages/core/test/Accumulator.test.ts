import { Accumulator, Aggregation, RateLimit, ShardMap } from "@effect-kinesis/core"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"

const bytes = new Uint8Array(10)
const record = (partitionKey: string, size = 10 + partitionKey.length) => ({
  data: bytes.subarray(0, Math.max(0, size - partitionKey.length)),
  partitionKey,
  explicitHashKey: undefined,
  size
})

const options = (overrides: Partial<Accumulator.Options> = {}): Accumulator.Options => ({
  limits: { maxBatchRecords: 500, maxBatchBytes: 5 * 1024 * 1024 },
  lingerMillis: 100,
  maxInFlight: 8,
  maxBufferedRecords: 10_000,
  maxBufferedBytes: 64 * 1024 * 1024,
  ordered: false,
  pacing: undefined,
  ...overrides
})

const MAX = (BigInt(1) << BigInt(128)) - BigInt(1)
const half = (BigInt(1) << BigInt(127)).toString()
const shard = (id: string, start: bigint | string, end: bigint | string) => ({
  ShardId: id,
  HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
  SequenceNumberRange: { StartingSequenceNumber: "0" }
})
const twoShards = ShardMap.fromShards([
  shard("shard-a", 0n, BigInt(half) - 1n),
  shard("shard-b", half, MAX)
])
const oneShard = ShardMap.fromShards([shard("shard-a", 0n, MAX)])
const shardOfKey = (key: string) => ShardMap.predict(twoShards, key, undefined)!
// Keys that land on each of the two shards.
const keysOf = (shardId: string, count: number) => {
  const keys: Array<string> = []
  for (let i = 0; keys.length < count; i++) if (shardOfKey(`k${i}`) === shardId) keys.push(`k${i}`)
  return keys
}

const send = <T>(acc: Accumulator.Accumulator<T>, now: number): Accumulator.Request<T> => {
  const request = Accumulator.pollSend(acc, now)
  if (request === undefined) throw new Error(`expected a request, got a sleep until ${Accumulator.pollTimeout(acc)}`)
  return request
}
// Polls at `now` and expects no request: the moment it sleeps until.
const sleeps = <T>(acc: Accumulator.Accumulator<T>, now: number): number => {
  const request = Accumulator.pollSend(acc, now)
  if (request !== undefined) throw new Error(`expected a sleep, got a request of ${request.entries.length}`)
  return Accumulator.pollTimeout(acc)
}
const keys = <T>(request: Accumulator.Request<T>) => request.entries.map((held) => held.record.partitionKey)

type Outcome = "ok" | "throttled" | "invalid"
// A response to `request`: per entry, stored on `shardId` (default: its predicted shard), throttled, or refused.
const respond = <T>(
  acc: Accumulator.Accumulator<T>,
  request: Accumulator.Request<T>,
  now: number,
  outcomeOf: (item: Accumulator.Item<T>, index: number) => Outcome = () => "ok",
  shardIdOf: (item: Accumulator.Item<T>) => string = (item) =>
    Accumulator.isAggregated(item) ? item.members[0].shard : item.shard
) => {
  const results = (request.items ?? request.entries).map((item, i) => {
    const outcome = outcomeOf(item, i)
    if (outcome === "ok") return { ShardId: shardIdOf(item), SequenceNumber: `seq-${i}` }
    if (outcome === "throttled") {
      return { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded" }
    }
    return { ErrorCode: "InvalidArgumentException", ErrorMessage: "refused" }
  })
  return Accumulator.handleResponse(acc, request, results, now)
}

// Answers every retry question: again after `delay`.
const answerAll = <T>(acc: Accumulator.Accumulator<T>, now: number, delay: number) => {
  const events = Accumulator.pollEvents(acc)
  for (const event of events) {
    if (event._tag === "Retry") {
      Accumulator.answerRetry(acc, event.question, { _tag: "Again", readyAt: now + delay, state: "s" }, now)
    }
  }
  return events
}
const tags = (events: ReadonlyArray<{ readonly _tag: string }>) => events.map((event) => event._tag)

describe("Accumulator.pollSend", () => {
  it("sleeps until the oldest record's linger ends, then sends what waits", () => {
    const acc = Accumulator.make(options())
    expect(sleeps(acc, 0)).toBe(Infinity)
    Accumulator.take(acc, record("a"), undefined, 0)
    Accumulator.take(acc, record("b"), undefined, 30)
    expect(sleeps(acc, 50)).toBe(100)
    expect(keys(send(acc, 100))).toEqual(["a", "b"])
  })

  it("sends a full batch at once and asks to be woken only when a batch fills", () => {
    const acc = Accumulator.make(options({ limits: { maxBatchRecords: 3, maxBatchBytes: 1000 } }))
    expect(Accumulator.take(acc, record("a"), undefined, 0)).toBe(true)
    expect(Accumulator.take(acc, record("b"), undefined, 0)).toBe(false)
    expect(Accumulator.take(acc, record("c"), undefined, 0)).toBe(true)
    expect(Accumulator.take(acc, record("d"), undefined, 0)).toBe(false)
    expect(keys(send(acc, 0))).toEqual(["a", "b", "c"])
  })

  it("keeps at most maxInFlight requests, and counts an attempt per record sent", () => {
    const acc = Accumulator.make(options({ maxInFlight: 1, lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), undefined, 0)
    const first = send(acc, 0)
    expect(first.entries[0].attempts).toBe(1)
    Accumulator.take(acc, record("b"), undefined, 0)
    expect(sleeps(acc, 10)).toBe(Infinity)
    respond(acc, first, 10)
    expect(keys(send(acc, 10))).toEqual(["b"])
    expect(Accumulator.stats(acc)).toMatchObject({ accepted: 2, sent: 2, requests: 2, delivered: 1 })
  })

  it("sends records to retry ahead of records never sent, in the order taken, once their delay ends", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0 }))
    for (const key of ["a", "b", "c"]) Accumulator.take(acc, record(key), undefined, 0)
    const first = send(acc, 0)
    Accumulator.take(acc, record("d"), undefined, 1)
    respond(acc, first, 1, (_, i) => (i === 1 ? "ok" : "throttled"))
    const events = answerAll(acc, 1, 39)
    expect(tags(events)).toEqual(["Delivered", "Retry"])
    expect(keys(send(acc, 1))).toEqual(["d"])
    expect(sleeps(acc, 2)).toBe(40)
    expect(keys(send(acc, 60))).toEqual(["a", "c"])
    expect(Accumulator.stats(acc)).toMatchObject({ retried: 2, throttled: 2 })
  })

  it("a flush makes the records taken before it urgent, and completes when they are settled", () => {
    const acc = Accumulator.make(options())
    Accumulator.take(acc, record("a"), undefined, 0)
    const flush = Accumulator.flush(acc)!
    Accumulator.take(acc, record("b"), undefined, 0)
    const request = send(acc, 1)
    expect(keys(request)).toEqual(["a", "b"])
    respond(acc, request, 2)
    expect(tags(Accumulator.pollEvents(acc))).toEqual(["Delivered", "Flushed"])
    expect(Accumulator.flush(acc)).toBeUndefined()
    void flush
  })

  it("admits waiters in order as room frees, and drains after close", () => {
    const acc = Accumulator.make(options({ maxBufferedRecords: 1, lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), undefined, 0)
    expect(Accumulator.canTake(acc, 11)).toBe(false)
    const first = Accumulator.wait(acc, 11)
    const second = Accumulator.wait(acc, 11)
    respond(acc, send(acc, 0), 0)
    expect(Accumulator.pollEvents(acc)[1]).toEqual({ _tag: "Admitted", waiter: first })
    Accumulator.redeem(acc, 11, false)
    Accumulator.take(acc, record("b"), undefined, 0)
    expect(Accumulator.close(acc)).toEqual([second])
    respond(acc, send(acc, 0), 0)
    expect(tags(Accumulator.pollEvents(acc))).toEqual(["Delivered", "Drained"])
  })

  it("tells where each record went: shard, sequence number, attempts", () => {
    const acc = Accumulator.make<string>(options({ lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), "ticket-a", 5)
    respond(acc, send(acc, 5), 9, () => "ok", () => "shard-x")
    const [delivered] = Accumulator.pollEvents(acc)
    expect(delivered._tag === "Delivered" && delivered.records.map((held) => held.ticket)).toEqual(["ticket-a"])
    if (delivered._tag !== "Delivered") return
    expect(delivered.at).toBe(9)
    expect(delivered.records[0]).toMatchObject({ shardId: "shard-x", sequenceNumber: "seq-0", attempts: 1, takenAt: 5 })
  })

  it("fails records a response refuses for good, and a request that failed as a whole asks about all of them", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), undefined, 0)
    Accumulator.take(acc, record("b"), undefined, 0)
    respond(acc, send(acc, 0), 1, (_, i) => (i === 0 ? "invalid" : "ok"))
    const failed = Accumulator.pollEvents(acc).find((event) => event._tag === "Failed")
    expect(failed).toMatchObject({ _tag: "Failed", code: "InvalidArgumentException", retriable: false })
    Accumulator.take(acc, record("c"), undefined, 2)
    const request = send(acc, 2)
    const fault = { operation: "PutRecords", code: "InternalFailure", detail: "", retriable: true, statusCode: 500 }
    Accumulator.handleRequestFailure(acc, request, fault, 3)
    const [question] = Accumulator.pollEvents(acc)
    expect(question._tag === "Retry" && question.question.records.map((held) => held.maybeStored)).toEqual([true])
    if (question._tag !== "Retry") return
    Accumulator.answerRetry(acc, question.question, { _tag: "GiveUp" }, 4)
    expect(Accumulator.pollEvents(acc)[0]).toMatchObject({ _tag: "Failed", code: "InternalFailure", retriable: true })
    expect(Accumulator.stats(acc)).toMatchObject({ failed: 2, failedRequests: 1, failingRequests: 1 })
  })

  it("counts the records stored in the order taken, up to the first not stored; a failed one stops it for good", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0, limits: { maxBatchRecords: 2, maxBatchBytes: 1024 } }))
    for (const key of ["a", "b", "c", "d", "e", "f"]) Accumulator.take(acc, record(key), undefined, 0)
    const first = send(acc, 0) // a, b
    const second = send(acc, 0) // c, d
    const third = send(acc, 0) // e, f
    respond(acc, second, 1)
    expect(Accumulator.stats(acc).storedPrefix).toBe(0) // c and d are stored, but a and b are not yet
    respond(acc, first, 2, (_, i) => (i === 0 ? "ok" : "throttled"))
    expect(Accumulator.stats(acc).storedPrefix).toBe(1) // b waits to be sent again
    answerAll(acc, 2, 0)
    respond(acc, send(acc, 3), 4)
    expect(Accumulator.stats(acc).storedPrefix).toBe(4)
    respond(acc, third, 5, (_, i) => (i === 0 ? "invalid" : "ok"))
    Accumulator.pollEvents(acc)
    expect(Accumulator.stats(acc)).toMatchObject({ storedPrefix: 4, delivered: 5, failed: 1 })
    Accumulator.take(acc, record("g"), undefined, 6)
    respond(acc, send(acc, 6), 7)
    expect(Accumulator.stats(acc)).toMatchObject({ storedPrefix: 4, delivered: 6 })
  })

  it("a short response leaves the records it did not answer to retry: nothing is dropped", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0 }))
    for (const key of ["a", "b", "c"]) Accumulator.take(acc, record(key), undefined, 0)
    const request = send(acc, 0)
    Accumulator.handleResponse(acc, request, [{ ShardId: "s", SequenceNumber: "1" }], 1)
    const events = Accumulator.pollEvents(acc)
    const retry = events.find((event) => event._tag === "Retry")
    expect(retry?._tag === "Retry" && retry.question.records.map((held) => held.record.partitionKey)).toEqual([
      "b",
      "c"
    ])
  })
})

describe("Accumulator shards", () => {
  it("puts each record in its shard's line, and a full shard does not hold back the others", () => {
    const limit = RateLimit.make({ recordsPerSecond: 10 })
    const acc = Accumulator.make(options({ pacing: Accumulator.pacingOf(limit), lingerMillis: 0 }))
    Accumulator.handleShardMap(acc, twoShards, 0)
    const [a1, a2] = keysOf("shard-a", 2)
    const hot = keysOf("shard-b", 30)
    for (const key of hot) Accumulator.take(acc, record(key), undefined, 0)
    Accumulator.take(acc, record(a1), undefined, 0)
    const request = send(acc, 0)
    // One second of burst: 10 records of the hot shard, and the other shard's record.
    expect(keys(request).filter((key) => key !== a1)).toHaveLength(10)
    expect(keys(request)).toContain(a1)
    Accumulator.take(acc, record(a2), undefined, 1)
    // The hot shard has no budget left; the other shard's new record goes after the pacing interval.
    const later = send(acc, 300)
    expect(keys(later)).toContain(a2)
  })

  it("moves waiting records to their new shard's line on a new map, and asks for the map when one lands elsewhere", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0 }))
    const a = keysOf("shard-a", 3)
    for (const key of a) Accumulator.take(acc, record(key), undefined, 0)
    Accumulator.handleShardMap(acc, twoShards, 0)
    const request = send(acc, 0)
    expect(request.entries.map((held) => held.shard)).toEqual(["shard-a", "shard-a", "shard-a"])
    respond(acc, request, 1, () => "ok", (item) => (item === request.entries[1] ? "shard-c" : "shard-a"))
    expect(tags(Accumulator.pollEvents(acc))).toEqual(["Delivered", "ReadShardMap"])
  })

  it("with ordered, a key's next record waits for its record in flight or waiting to retry; other keys go", () => {
    const acc = Accumulator.make(options({ ordered: true, lingerMillis: 0 }))
    Accumulator.handleShardMap(acc, twoShards, 0)
    const [a] = keysOf("shard-a", 1)
    const [b] = keysOf("shard-b", 1)
    for (const key of [a, a, b, a]) Accumulator.take(acc, record(key), undefined, 0)
    const first = send(acc, 0)
    expect(keys(first).sort()).toEqual([a, b].sort())
    expect(sleeps(acc, 0)).toBe(Infinity)
    respond(acc, first, 0, (item) => (item.record.partitionKey === a ? "throttled" : "ok"))
    // While the question is open, the key's later records still wait.
    const events = Accumulator.pollEvents(acc)
    expect(sleeps(acc, 0)).toBe(Infinity)
    const question = events.find((event) => event._tag === "Retry")!
    if (question._tag !== "Retry") return
    Accumulator.answerRetry(acc, question.question, { _tag: "Again", readyAt: 50, state: 1 }, 0)
    expect(sleeps(acc, 10)).toBe(50)
    const second = send(acc, 50)
    expect(second.entries.map((held) => held.seq)).toEqual([0])
  })
})

describe("Accumulator wake-ups and feedback", () => {
  it("a record for an idle shard wakes the caller while another shard's records wait for their key", () => {
    const acc = Accumulator.make(options({ ordered: true }))
    Accumulator.handleShardMap(acc, twoShards, 0)
    const [a] = keysOf("shard-a", 1)
    const [b] = keysOf("shard-b", 1)
    Accumulator.take(acc, record(a), undefined, 0)
    Accumulator.take(acc, record(a), undefined, 0)
    send(acc, 100) // the first record of `a`; the second waits for it
    expect(sleeps(acc, 100)).toBe(Infinity)
    expect(Accumulator.take(acc, record(b), undefined, 110)).toBe(true)
    expect(keys(send(acc, 110))).toEqual([b])
  })

  it("a record for an idle shard wakes the caller while another shard waits for its budget", () => {
    const limit = RateLimit.make({ recordsPerSecond: 1 })
    const acc = Accumulator.make(options({ pacing: Accumulator.pacingOf(limit) }))
    Accumulator.handleShardMap(acc, twoShards, 0)
    const [a1, a2] = keysOf("shard-a", 2)
    const [b] = keysOf("shard-b", 1)
    Accumulator.take(acc, record(a1), undefined, 0)
    Accumulator.take(acc, record(a2), undefined, 0)
    send(acc, 100)
    expect(sleeps(acc, 100)).toBeGreaterThan(1000)
    expect(Accumulator.take(acc, record(b), undefined, 110)).toBe(true)
    expect(keys(send(acc, 210))).toEqual([b])
  })

  it("a request that failed as a whole changes no shard's budget", () => {
    const limit = RateLimit.make()
    const acc = Accumulator.make(options({ pacing: Accumulator.pacingOf(limit), lingerMillis: 0 }))
    Accumulator.handleShardMap(acc, twoShards, 0)
    const [a] = keysOf("shard-a", 1)
    Accumulator.take(acc, record(a), undefined, 0)
    respond(acc, send(acc, 0), 10, () => "throttled")
    answerAll(acc, 10, 0)
    const lowered = RateLimit.multiplier(limit, "shard-a")
    expect(lowered).toBeLessThan(1)
    const second = send(acc, 5000)
    Accumulator.handleRequestFailure(
      acc,
      second,
      { operation: "PutRecords", code: "RequestTimeout", detail: "", retriable: true },
      6000
    )
    expect(RateLimit.multiplier(limit, "shard-a")).toBe(lowered)
  })

  it("closing sends shard-blind when the shard map never came", () => {
    const acc = Accumulator.make(options({ awaitRoute: true, lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), undefined, 0)
    expect(sleeps(acc, 0)).toBe(Infinity)
    Accumulator.close(acc)
    expect(keys(send(acc, 1))).toEqual(["a"])
  })

  it("a failed first read of the map sends shard-blind", () => {
    const acc = Accumulator.make(options({ awaitRoute: true, lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), undefined, 0)
    Accumulator.handleShardMapUnavailable(acc, 0)
    expect(keys(send(acc, 1))).toEqual(["a"])
  })

  it("a defect while handling a response fails the records nothing else holds, and none twice", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), undefined, 0)
    Accumulator.take(acc, record("b"), undefined, 0)
    const request = send(acc, 0)
    Accumulator.handleDefect(acc, request, "boom", 1)
    const events = Accumulator.pollEvents(acc)
    expect(events).toHaveLength(1)
    expect(events[0]).toMatchObject({ _tag: "Failed", code: "WriterDefect" })
    expect(Accumulator.holding(acc).records).toBe(0)
  })

  it("at the shutdown deadline, every record held fails, those of unanswered requests saying they may be stored", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0, maxInFlight: 1 }))
    for (const key of ["a", "b"]) Accumulator.take(acc, record(key), undefined, 0)
    const request = send(acc, 0)
    Accumulator.take(acc, record("c"), undefined, 0)
    Accumulator.abandon(acc, request.entries, 1000)
    const events = Accumulator.pollEvents(acc)
    const failed = events.filter((event) => event._tag === "Failed")
    expect(failed.map((event) => event._tag === "Failed" && event.records.length)).toEqual([2, 1])
    expect(failed[0]).toMatchObject({
      detail: "not stored within the shutdown timeout of 1000 ms (an unanswered request may have stored it)"
    })
    expect(Accumulator.holding(acc)).toEqual({ records: 0, bytes: 0, requests: 0, shards: 0 })
  })
})

describe("Accumulator, the three liveness bugs of issue 16", () => {
  it("a flush after a throttle sends as soon as the budget allows, whatever the linger", () => {
    for (const lingerMillis of [100, 10_000, 3_600_000]) {
      const limit = RateLimit.make()
      const acc = Accumulator.make(options({ pacing: Accumulator.pacingOf(limit), lingerMillis }))
      Accumulator.handleShardMap(acc, oneShard, 0)
      for (let i = 0; i < 10; i++) Accumulator.take(acc, record("one-key"), undefined, 0)
      Accumulator.flush(acc)
      const first = send(acc, 0)
      respond(acc, first, 5, (_, i) => (i < 2 ? "throttled" : "ok"))
      answerAll(acc, 5, 100)
      // The throttle emptied the shard's bucket: the two records go when it refills, not a linger later.
      let now = 5
      let request = Accumulator.pollSend(acc, now)
      while (request === undefined) {
        const until = Accumulator.pollTimeout(acc)
        expect(until).toBeLessThan(now + 1000)
        now = until
        request = Accumulator.pollSend(acc, now)
      }
      expect(request.entries).toHaveLength(2)
      expect(now).toBeLessThan(500)
      respond(acc, request, now)
      expect(tags(Accumulator.pollEvents(acc))).toContain("Flushed")
    }
  })

  it("an aggregate stored on a merged shard settles every user record the landing shard holds: none re-sent", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0, aggregation: { maxBytes: 50 * 1024, maxRecords: 1000 } }))
    Accumulator.handleShardMap(acc, twoShards, 0)
    const a = keysOf("shard-a", 5)
    for (const key of a) Accumulator.take(acc, record(key), undefined, 0)
    const request = send(acc, 0)
    expect(request.items).toHaveLength(1)
    // The stream merged both shards into shard-c meanwhile: the aggregate landed there.
    respond(acc, request, 1, () => "ok", () => "shard-c")
    expect(tags(Accumulator.pollEvents(acc))).toEqual(["ReadShardMap"])
    // Its user records wait for the map, neither stored nor held in a line: the stored prefix waits with them.
    expect(Accumulator.stats(acc).storedPrefix).toBe(0)
    expect(sleeps(acc, 1)).toBe(Infinity) // nothing to send while the map is read
    Accumulator.handleShardMap(acc, ShardMap.fromShards([shard("shard-c", 0n, MAX)]), 1200)
    const [delivered] = Accumulator.pollEvents(acc)
    expect(delivered._tag === "Delivered" && delivered.records.map((held) => held.subSequenceNumber)).toEqual([
      0,
      1,
      2,
      3,
      4
    ])
    expect(Accumulator.holding(acc).records).toBe(0)
    expect(Accumulator.stats(acc).storedPrefix).toBe(5)
  })

  it("an aggregate stored on one child of a split re-sends only the user records outside that child's range", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0, aggregation: { maxBytes: 50 * 1024, maxRecords: 1000 } }))
    Accumulator.handleShardMap(acc, ShardMap.fromShards([shard("shard-parent", 0n, MAX)]), 0)
    const a = keysOf("shard-a", 3)
    const b = keysOf("shard-b", 3)
    for (const key of [a[0], b[0], a[1], b[1], a[2], b[2]]) Accumulator.take(acc, record(key), undefined, 0)
    const request = send(acc, 0)
    expect(request.items).toHaveLength(1)
    // The one shard split into shard-a and shard-b; the aggregate landed on shard-a.
    respond(acc, request, 1, () => "ok", () => "shard-a")
    Accumulator.pollEvents(acc)
    Accumulator.handleShardMap(acc, twoShards, 1100)
    const [delivered] = Accumulator.pollEvents(acc)
    expect(delivered._tag === "Delivered" && delivered.records.map((held) => held.record.partitionKey)).toEqual(a)
    const again = send(acc, 1100)
    expect(again.entries.map((held) => held.record.partitionKey)).toEqual(b)
    expect(again.entries.every((held) => held.shard === "shard-b")).toBe(true)
  })

  it("a failed read of the map sends every misplaced user record again, rather than guess", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0, aggregation: { maxBytes: 50 * 1024, maxRecords: 1000 } }))
    Accumulator.handleShardMap(acc, twoShards, 0)
    const a = keysOf("shard-a", 2)
    for (const key of a) Accumulator.take(acc, record(key), undefined, 0)
    respond(acc, send(acc, 0), 1, () => "ok", () => "shard-c")
    Accumulator.pollEvents(acc)
    Accumulator.handleShardMapUnavailable(acc, 1000)
    expect(keys(send(acc, 1000))).toEqual(a)
  })
})

// The model-based test: random commands against the accumulator and a model that only counts and orders.
type Command =
  | { readonly _tag: "take"; readonly key: number; readonly size: number }
  | { readonly _tag: "poll" }
  | {
    readonly _tag: "settle"
    readonly which: number
    readonly outcomes: ReadonlyArray<number>
    readonly delay: number
  }
  | { readonly _tag: "advance"; readonly millis: number }
  | { readonly _tag: "flush" }
  | { readonly _tag: "reshard"; readonly split: boolean }

const commandArbitrary: fc.Arbitrary<Command> = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({ _tag: fc.constant("take" as const), key: fc.nat(12), size: fc.integer({ min: 1, max: 60 }) })
  },
  { weight: 4, arbitrary: fc.record({ _tag: fc.constant("poll" as const) }) },
  {
    weight: 3,
    arbitrary: fc.record({
      _tag: fc.constant("settle" as const),
      which: fc.nat(),
      outcomes: fc.array(fc.integer({ min: 0, max: 9 }), { maxLength: 40 }),
      delay: fc.integer({ min: 0, max: 200 })
    })
  },
  {
    weight: 2,
    arbitrary: fc.record({ _tag: fc.constant("advance" as const), millis: fc.integer({ min: 1, max: 300 }) })
  },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("flush" as const) }) },
  { weight: 1, arbitrary: fc.record({ _tag: fc.constant("reshard" as const), split: fc.boolean() }) }
)

const runModel = (commands: ReadonlyArray<Command>, ordered: boolean, paced: boolean, aggregated = false) => {
  const aggregation = aggregated ? { maxBytes: 190, maxRecords: 5 } : undefined
  const limits = { maxBatchRecords: 7, maxBatchBytes: 200 }
  const maxBufferedRecords = 25
  const maxBufferedBytes = 600
  const maxInFlight = 3
  const limit = RateLimit.make({ recordsPerSecond: 40, bytesPerSecond: 1500 })
  const acc = Accumulator.make<number>(
    options({
      limits,
      lingerMillis: 20,
      maxInFlight,
      maxBufferedRecords,
      maxBufferedBytes,
      ordered,
      pacing: paced ? Accumulator.pacingOf(limit) : undefined,
      aggregation
    })
  )
  // Records are packed only where their shard is known: start with a map (commands change it).
  // Kinesis gives the shards of a reshard new ids: a shard id never names two ranges.
  let generation = 0
  const mapOf = (split: boolean) => {
    generation++
    return split ?
      ShardMap.fromShards([
        shard(`shard-${generation}-a`, 0n, BigInt(half) - 1n),
        shard(`shard-${generation}-b`, half, MAX)
      ]) :
      ShardMap.fromShards([shard(`shard-${generation}`, 0n, MAX)])
  }
  let currentMap = mapOf(false)
  if (aggregated) Accumulator.handleShardMap(acc, currentMap, 0)
  let now = 0
  // The writer's discipline: it polls when woken (a record `take` says changes the plan, a settled request, a
  // flush, a new map) or when its last sleep ends; nothing else makes it look.
  let woken = true
  let sleepUntil = -Infinity
  const mayPoll = () => woken || now >= sleepUntil
  // The model: what was taken, what is settled, and the order each key's records were stored in.
  const taken: Array<{ readonly key: string; readonly seq: number }> = []
  const outcome = new Map<number, "delivered" | "failed">()
  const inFlight: Array<Accumulator.Request<number>> = []
  const storedByKey = new Map<string, Array<number>>()
  const firstSentByShard = new Map<string, number>()
  const openFlushes = new Map<number, number>() // flush id -> highest seq it waits for
  const flushedIds = new Set<number>()

  // Acts on the accumulator's events as the writer does: records settle, questions are answered.
  const checkEvents = (delay: number): void => {
    const events = Accumulator.pollEvents(acc)
    if (events.length === 0) {
      // Every event told: the stored prefix runs from the first record taken up to the first not (yet) stored.
      let prefix = 0
      while (outcome.get(prefix) === "delivered") prefix++
      expect(Accumulator.stats(acc).storedPrefix).toBe(prefix)
      return
    }
    for (const event of events) {
      switch (event._tag) {
        case "Flushed": {
          const upTo = openFlushes.get(event.flush)!
          // A flush completes only when every record taken before it is settled.
          for (const { seq } of taken) if (seq <= upTo) expect(outcome.has(seq)).toBe(true)
          flushedIds.add(event.flush)
          openFlushes.delete(event.flush)
          break
        }
        case "ReadShardMap":
          // The follower reads the map at once here.
          Accumulator.handleShardMap(acc, currentMap, now)
          break
        case "Delivered":
          for (const held of event.records) {
            expect(outcome.has(held.ticket!)).toBe(false) // nothing stored twice
            if (held.subSequenceNumber !== undefined) {
              // What a KCL keeps: a user record of an aggregate is in the range of the shard that stored it.
              const range = currentMap.shards.find((s) => s.shardId === held.shardId)!
              const hashKey = ShardMap.hashKeyOf(held.record.partitionKey, held.record.explicitHashKey)
              expect(range.startingHashKey <= hashKey && hashKey <= range.endingHashKey).toBe(true)
            }
            outcome.set(held.ticket!, "delivered")
            const key = held.record.partitionKey
            storedByKey.set(key, [...(storedByKey.get(key) ?? []), held.seq])
          }
          break
        case "Failed":
          for (const held of event.records) {
            expect(outcome.has(held.ticket!)).toBe(false)
            outcome.set(held.ticket!, "failed")
          }
          break
        case "Retry":
          Accumulator.answerRetry(acc, event.question, { _tag: "Again", readyAt: now + delay, state: now }, now)
          break
      }
    }
    checkEvents(delay)
  }

  const settle = (request: Accumulator.Request<number>, outcomes: ReadonlyArray<number>, delay: number) => {
    let refusedKeys: Set<string> | undefined
    const items = request.items ?? request.entries
    const results = items.map((item, i) => {
      const draw = outcomes[i] ?? 0
      const key = item.record.partitionKey
      // A record after a refused one of the same key is refused too: what `ordered` relies on never happens here,
      // a store that overtakes. Without `ordered`, any record may be refused.
      const forced = ordered && refusedKeys?.has(key) === true
      // Kinesis stores a record where the stream's current map puts its hash key, whatever was predicted.
      const shardId = ShardMap.predict(currentMap, key, item.record.explicitHashKey)!
      if (!forced && draw < 6) return { ShardId: shardId, SequenceNumber: `${i}` }
      if (!forced && draw === 9) return { ErrorCode: "InvalidArgumentException", ErrorMessage: "no" }
      ;(refusedKeys ??= new Set()).add(key)
      return { ErrorCode: "ProvisionedThroughputExceededException", ErrorMessage: "Rate exceeded" }
    })
    // Now and then a response is short: the records it leaves out are retried.
    Accumulator.handleResponse(acc, request, outcomes.length === 39 ? results.slice(0, 1) : results, now)
    woken = true // the writer wakes its batching fiber when a request is over
    checkEvents(delay)
  }

  const poll = () => {
    if (!mayPoll()) return false
    woken = false
    const batch = Accumulator.pollSend(acc, now)
    if (batch === undefined) {
      sleepUntil = Accumulator.pollTimeout(acc)
      expect(sleepUntil).toBeGreaterThan(now)
      return false
    }
    sleepUntil = -Infinity
    const items = batch.items ?? batch.entries
    expect(batch.entries.length).toBeGreaterThan(0)
    expect(items.length).toBeLessThanOrEqual(limits.maxBatchRecords)
    if (items.length > 1) expect(batch.bytes).toBeLessThanOrEqual(limits.maxBatchBytes)
    expect(items.flatMap((item) => Accumulator.isAggregated(item) ? item.members : [item])).toEqual(batch.entries)
    for (const item of items) {
      if (!Accumulator.isAggregated(item)) continue
      // Packed per shard, in the order taken, within the bounds, readable as what was packed.
      expect(aggregated).toBe(true)
      expect(item.members.length).toBeGreaterThan(1)
      expect(item.members.length).toBeLessThanOrEqual(aggregation!.maxRecords)
      expect(item.record.size).toBeLessThanOrEqual(aggregation!.maxBytes)
      expect(new Set(item.members.map((held) => held.shard)).size).toBe(1)
      expect(item.members.map((held) => held.seq)).toEqual(item.members.map((held) => held.seq).sort((a, b) => a - b))
      const unpacked = Aggregation.decode({ partitionKey: item.record.partitionKey, data: item.record.data })
      if (Aggregation.isMalformed(unpacked)) throw new Error(unpacked.reason)
      expect(unpacked.map((user) => user.partitionKey)).toEqual(
        item.members.map((held) => held.record.partitionKey)
      )
    }
    for (const other of inFlight) for (const held of batch.entries) expect(other.entries).not.toContain(held)
    if (ordered) {
      expect(new Set(keys(batch)).size).toBe(batch.entries.length)
      // A key has at most one record in flight.
      for (const other of inFlight) for (const key of keys(batch)) expect(keys(other)).not.toContain(key)
    }
    for (const held of batch.entries) {
      expect(outcome.has(held.seq)).toBe(false)
      // Per shard (with `ordered`, per key: other keys may go past a key that waits), records are sent for the
      // first time in the order they were taken.
      if (held.attempts === 1) {
        const line = ordered ? held.record.partitionKey : held.shard
        const last = firstSentByShard.get(line) ?? -1
        expect(held.seq).toBeGreaterThan(last)
        firstSentByShard.set(line, held.seq)
      }
    }
    inFlight.push(batch)
    expect(inFlight.length).toBeLessThanOrEqual(maxInFlight)
    return true
  }

  for (const command of commands) {
    switch (command._tag) {
      case "take": {
        const rec = record(`key${command.key}`, command.size + 5)
        if (Accumulator.canTake(acc, rec.size)) {
          taken.push({ key: rec.partitionKey, seq: taken.length })
          if (Accumulator.take(acc, rec, taken.length - 1, now)) woken = true
        }
        break
      }
      case "poll":
        poll()
        break
      case "settle": {
        if (inFlight.length === 0) break
        const [batch] = inFlight.splice(command.which % inFlight.length, 1)
        settle(batch, command.outcomes, command.delay)
        break
      }
      case "advance":
        now += command.millis
        break
      case "flush": {
        const id = Accumulator.flush(acc)
        if (id !== undefined) openFlushes.set(id, taken.length - 1)
        woken = true
        break
      }
      case "reshard":
        currentMap = mapOf(command.split)
        Accumulator.handleShardMap(acc, currentMap, now)
        checkEvents(0)
        // Records waiting move to other lines: the first-send order is per line, from here on.
        firstSentByShard.clear()
        woken = true
        break
    }
    // Bounds, always: records held never exceed the buffer, and the count is exact.
    const holding = Accumulator.holding(acc)
    expect(holding.records).toBeLessThanOrEqual(maxBufferedRecords)
    expect(holding.bytes).toBeLessThanOrEqual(maxBufferedBytes)
    expect(holding.records).toBe(taken.length - outcome.size)
  }

  // Drain: everything left is delivered in the end, by polling, settling and letting time pass.
  Accumulator.close(acc)
  checkEvents(0)
  woken = true
  for (let round = 0; round < 10_000 && outcome.size < taken.length; round++) {
    while (poll()) { /* send all that may go */ }
    const batch = inFlight.shift()
    if (batch !== undefined) settle(batch, [], 0)
    else {
      // Nothing in flight and records held: the writer must have a moment to wake at, or it would stall.
      expect(sleepUntil).not.toBe(Infinity)
      now = Math.max(now, sleepUntil)
    }
  }
  // Nothing lost, nothing twice: every record taken was settled exactly once.
  expect(outcome.size).toBe(taken.length)
  expect(Accumulator.holding(acc)).toEqual({ records: 0, bytes: 0, requests: 0, shards: 0 })
  expect(openFlushes.size).toBe(0)
  if (ordered) {
    // Per key, records were stored in the order taken.
    for (const seqs of storedByKey.values()) expect(seqs).toEqual([...seqs].sort((a, b) => a - b))
  }
}

describe("Accumulator, model-based", () => {
  const variants = [[false, false, false], [false, true, false], [true, false, false], [true, true, false], [
    false,
    false,
    true
  ], [false, true, true]] as const
  for (const [ordered, paced, aggregated] of variants) {
    it(`loses nothing, sends nothing twice, keeps order and bounds (ordered: ${ordered}, paced: ${paced}, aggregated: ${aggregated})`, () => {
      fc.assert(
        fc.property(
          fc.array(commandArbitrary, { maxLength: 300 }),
          (commands) => runModel(commands, ordered, paced, aggregated)
        ),
        { numRuns: 150 }
      )
    })
  }
})
