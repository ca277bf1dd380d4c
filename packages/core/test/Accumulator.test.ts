import { Accumulator, Aggregation, RateLimit, ShardMap } from "@effect-kinesis/writer"
import { describe, expect, it } from "@effect/vitest"
import { Either } from "effect"
import * as fc from "fast-check"

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

const half = (BigInt(1) << BigInt(127)).toString()
const twoShards = ShardMap.fromShards([
  {
    ShardId: "shard-a",
    HashKeyRange: { StartingHashKey: "0", EndingHashKey: (BigInt(half) - BigInt(1)).toString() },
    SequenceNumberRange: { StartingSequenceNumber: "0" }
  },
  {
    ShardId: "shard-b",
    HashKeyRange: { StartingHashKey: half, EndingHashKey: ((BigInt(1) << BigInt(128)) - BigInt(1)).toString() },
    SequenceNumberRange: { StartingSequenceNumber: "0" }
  }
])
const shardOfKey = (key: string) => ShardMap.predict(twoShards, key, undefined)!
// Keys that land on each of the two shards.
const keysOf = (shard: string, count: number) => {
  const keys: Array<string> = []
  for (let i = 0; keys.length < count; i++) if (shardOfKey(`k${i}`) === shard) keys.push(`k${i}`)
  return keys
}

const send = <T>(plan: Accumulator.Plan<T>): Accumulator.Outgoing<T> => {
  if (plan._tag !== "Send") throw new Error(`expected a batch, got a sleep until ${plan.until}`)
  return plan.batch
}
const keys = <T>(batch: Accumulator.Outgoing<T>) => batch.entries.map((held) => held.record.partitionKey)

describe("Accumulator.poll", () => {
  it("sleeps until the oldest record's linger ends, then sends what waits", () => {
    const acc = Accumulator.make(options())
    expect(Accumulator.poll(acc, 0)).toEqual({ _tag: "Sleep", until: Infinity })
    Accumulator.take(acc, record("a"), undefined, 0)
    Accumulator.take(acc, record("b"), undefined, 30)
    expect(Accumulator.poll(acc, 50)).toEqual({ _tag: "Sleep", until: 100 })
    expect(keys(send(Accumulator.poll(acc, 100)))).toEqual(["a", "b"])
  })

  it("sends a full batch at once and asks to be woken only when a batch fills", () => {
    const acc = Accumulator.make(options({ limits: { maxBatchRecords: 3, maxBatchBytes: 1000 } }))
    expect(Accumulator.take(acc, record("a"), undefined, 0)).toBe(true)
    expect(Accumulator.take(acc, record("b"), undefined, 0)).toBe(false)
    expect(Accumulator.take(acc, record("c"), undefined, 0)).toBe(true)
    expect(Accumulator.take(acc, record("d"), undefined, 0)).toBe(false)
    expect(keys(send(Accumulator.poll(acc, 0)))).toEqual(["a", "b", "c"])
  })

  it("keeps at most maxInFlight requests", () => {
    const acc = Accumulator.make(options({ maxInFlight: 1, lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), undefined, 0)
    const first = send(Accumulator.poll(acc, 0))
    Accumulator.take(acc, record("b"), undefined, 0)
    expect(Accumulator.poll(acc, 10)).toEqual({ _tag: "Sleep", until: Infinity })
    Accumulator.delivered(acc, first.entries[0], "shard")
    Accumulator.finish(acc, first, undefined, 10)
    expect(keys(send(Accumulator.poll(acc, 10)))).toEqual(["b"])
  })

  it("sends records to retry ahead of records never sent, in the order taken, once their delay ends", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0 }))
    for (const key of ["a", "b", "c"]) Accumulator.take(acc, record(key), undefined, 0)
    const first = send(Accumulator.poll(acc, 0))
    Accumulator.take(acc, record("d"), undefined, 1)
    const [a, b, c] = first.entries
    Accumulator.delivered(acc, b, "shard")
    c.readyAt = 40
    a.readyAt = 50
    Accumulator.retry(acc, [c, a])
    Accumulator.finish(acc, first, undefined, 1)
    expect(keys(send(Accumulator.poll(acc, 1)))).toEqual(["d"])
    expect(Accumulator.poll(acc, 2)).toEqual({ _tag: "Sleep", until: 40 })
    expect(keys(send(Accumulator.poll(acc, 60)))).toEqual(["a", "c"])
  })

  it("a flush makes the records taken before it urgent, and completes when they are settled", () => {
    const acc = Accumulator.make(options())
    Accumulator.take(acc, record("a"), undefined, 0)
    const flush = Accumulator.flush(acc)!
    Accumulator.take(acc, record("b"), undefined, 0)
    const batch = send(Accumulator.poll(acc, 1))
    expect(keys(batch)).toEqual(["a", "b"])
    Accumulator.delivered(acc, batch.entries[0], "s")
    expect(Accumulator.events(acc)).toEqual([{ _tag: "Flushed", flush }])
    expect(Accumulator.flush(acc)).toBeDefined()
  })

  it("admits waiters in order as room frees, and drains after close", () => {
    const acc = Accumulator.make(options({ maxBufferedRecords: 1, lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), undefined, 0)
    expect(Accumulator.canTake(acc, 11)).toBe(false)
    const first = Accumulator.wait(acc, 11)
    const second = Accumulator.wait(acc, 11)
    const batch = send(Accumulator.poll(acc, 0))
    Accumulator.delivered(acc, batch.entries[0], "s")
    expect(Accumulator.events(acc)).toEqual([{ _tag: "Admitted", waiter: first }])
    Accumulator.redeem(acc, 11, false)
    Accumulator.take(acc, record("b"), undefined, 0)
    expect(Accumulator.close(acc)).toEqual([second])
    const last = send(Accumulator.poll(acc, 0))
    Accumulator.delivered(acc, last.entries[0], "s")
    expect(Accumulator.events(acc)).toEqual([{ _tag: "Drained" }])
  })
})

describe("Accumulator shards", () => {
  it("puts each record in its shard's line, and a full shard does not hold back the others", () => {
    const limit = RateLimit.make({ recordsPerSecond: 10 })
    const acc = Accumulator.make(options({ pacing: Accumulator.pacingOf(limit), lingerMillis: 0 }))
    Accumulator.reshard(acc, twoShards)
    const [a1, a2] = keysOf("shard-a", 2)
    const hot = keysOf("shard-b", 30)
    for (const key of hot) Accumulator.take(acc, record(key), undefined, 0)
    Accumulator.take(acc, record(a1), undefined, 0)
    const batch = send(Accumulator.poll(acc, 0))
    // Shard b's budget is 10 records a second: the rest of it waits; shard a's record goes along.
    expect(keys(batch).filter((key) => shardOfKey(key) === "shard-b")).toEqual(hot.slice(0, 10))
    expect(keys(batch)).toContain(a1)
    Accumulator.take(acc, record(a2), undefined, 1)
    // Shard b is held back: the next request waits for the pacing interval, then carries what it earned.
    const next = Accumulator.poll(acc, 1)
    expect(next._tag).toBe("Sleep")
    const later = send(Accumulator.poll(acc, 300))
    expect(keys(later)).toContain(a2)
    // 300 ms at 10 records a second earned 3 records.
    expect(keys(later).filter((key) => shardOfKey(key) === "shard-b")).toEqual(hot.slice(10, 13))
  })

  it("moves waiting records to their new shard's line on a new map, in the order taken", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0 }))
    const a = keysOf("shard-a", 3)
    for (const key of a) Accumulator.take(acc, record(key), undefined, 0)
    Accumulator.reshard(acc, twoShards)
    const batch = send(Accumulator.poll(acc, 0))
    expect(keys(batch)).toEqual(a)
    expect(batch.perShard).toEqual(new Map([["shard-a", 3]]))
    expect(Accumulator.delivered(acc, batch.entries[0], "shard-a")).toBe(false)
    expect(Accumulator.delivered(acc, batch.entries[1], "shard-c")).toBe(true)
  })

  it("with ordered, a key's next record waits for its record in flight or waiting to retry; other keys go", () => {
    const acc = Accumulator.make(options({ ordered: true, lingerMillis: 0 }))
    Accumulator.reshard(acc, twoShards)
    const [a] = keysOf("shard-a", 1)
    const [b] = keysOf("shard-b", 1)
    for (const key of [a, a, b, a]) Accumulator.take(acc, record(key), undefined, 0)
    const first = send(Accumulator.poll(acc, 0))
    expect(keys(first)).toEqual([a, b].sort((x, y) => keys(first).indexOf(x) - keys(first).indexOf(y)))
    expect(Accumulator.poll(acc, 0)).toEqual({ _tag: "Sleep", until: Infinity })
    // The first record of `a` is refused and waits 50 ms: nothing of shard a goes before it.
    const refusedA = first.entries.find((held) => held.record.partitionKey === a)!
    const storedB = first.entries.find((held) => held.record.partitionKey === b)!
    Accumulator.delivered(acc, storedB, "shard-b")
    refusedA.readyAt = 50
    Accumulator.retry(acc, [refusedA])
    Accumulator.finish(acc, first, { throttled: new Set(["shard-a"]), stored: new Map([["shard-b", 1]]) }, 0)
    expect(Accumulator.poll(acc, 10)).toEqual({ _tag: "Sleep", until: 50 })
    const second = send(Accumulator.poll(acc, 50))
    expect(second.entries.map((held) => held.seq)).toEqual([0])
  })
})

describe("Accumulator wake-ups and feedback", () => {
  it("a record for an idle shard wakes the caller while another shard's records wait for their key", () => {
    const acc = Accumulator.make(options({ ordered: true }))
    Accumulator.reshard(acc, twoShards)
    const [a] = keysOf("shard-a", 1)
    const [b] = keysOf("shard-b", 1)
    Accumulator.take(acc, record(a), undefined, 0)
    Accumulator.take(acc, record(a), undefined, 0)
    send(Accumulator.poll(acc, 100)) // the first record of `a`; the second waits for it
    expect(Accumulator.poll(acc, 100)).toEqual({ _tag: "Sleep", until: Infinity })
    expect(Accumulator.take(acc, record(b), undefined, 110)).toBe(true)
    // The waiting record of `a` lingered past its time: the request goes now, with what may go.
    expect(keys(send(Accumulator.poll(acc, 110)))).toEqual([b])
  })

  it("a record for an idle shard wakes the caller while another shard waits for its budget", () => {
    const limit = RateLimit.make({ recordsPerSecond: 1 })
    const acc = Accumulator.make(options({ pacing: Accumulator.pacingOf(limit) }))
    Accumulator.reshard(acc, twoShards)
    const [a1, a2] = keysOf("shard-a", 2)
    const [b] = keysOf("shard-b", 1)
    Accumulator.take(acc, record(a1), undefined, 0)
    Accumulator.take(acc, record(a2), undefined, 0)
    send(Accumulator.poll(acc, 100))
    const plan = Accumulator.poll(acc, 100)
    expect(plan._tag === "Sleep" && plan.until > 1000).toBe(true)
    expect(Accumulator.take(acc, record(b), undefined, 110)).toBe(true)
    expect(keys(send(Accumulator.poll(acc, 210)))).toEqual([b])
  })

  it("a request that failed as a whole changes no shard's budget", () => {
    const limit = RateLimit.make()
    const acc = Accumulator.make(options({ pacing: Accumulator.pacingOf(limit), lingerMillis: 0 }))
    Accumulator.reshard(acc, twoShards)
    const [a] = keysOf("shard-a", 1)
    Accumulator.take(acc, record(a), undefined, 0)
    const batch = send(Accumulator.poll(acc, 0))
    Accumulator.finish(acc, batch, { throttled: new Set(["shard-a"]), stored: new Map() }, 10)
    const lowered = RateLimit.multiplier(limit, "shard-a")
    expect(lowered).toBeLessThan(1)
    Accumulator.take(acc, record(a), undefined, 5000)
    const second = send(Accumulator.poll(acc, 5000))
    Accumulator.retry(acc, second.entries)
    Accumulator.finish(acc, second, undefined, 6000)
    expect(RateLimit.multiplier(limit, "shard-a")).toBe(lowered)
  })

  it("closing sends shard-blind when the shard map never came", () => {
    const acc = Accumulator.make(options({ awaitRoute: true, lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), undefined, 0)
    expect(Accumulator.poll(acc, 0)).toEqual({ _tag: "Sleep", until: Infinity })
    Accumulator.close(acc)
    expect(keys(send(Accumulator.poll(acc, 1)))).toEqual(["a"])
  })

  it("stranded leaves out records already sent again in another request", () => {
    const acc = Accumulator.make(options({ lingerMillis: 0 }))
    Accumulator.take(acc, record("a"), undefined, 0)
    const first = send(Accumulator.poll(acc, 0))
    Accumulator.retry(acc, first.entries)
    const second = send(Accumulator.poll(acc, 1))
    expect(second.entries).toEqual(first.entries)
    expect(Accumulator.stranded(acc, first)).toEqual([])
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

const oneShard = ShardMap.fromShards([{
  ShardId: "shard-a",
  HashKeyRange: { StartingHashKey: "0", EndingHashKey: ((BigInt(1) << BigInt(128)) - BigInt(1)).toString() },
  SequenceNumberRange: { StartingSequenceNumber: "0" }
}])

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
  if (aggregated) Accumulator.reshard(acc, oneShard)
  let now = 0
  // The writer's discipline: it polls when woken (a record `take` says changes the plan, a settled request, a
  // flush, a new map) or when its last sleep ends; nothing else makes it look.
  let woken = true
  let sleepUntil = -Infinity
  const mayPoll = () => woken || now >= sleepUntil
  // The model: what was taken, what is settled, and the order each key's records were stored in.
  const taken: Array<{ readonly key: string; readonly seq: number }> = []
  const outcome = new Map<number, "delivered" | "failed">()
  const inFlight: Array<Accumulator.Outgoing<number>> = []
  const storedByKey = new Map<string, Array<number>>()
  const firstSentByShard = new Map<string, number>()
  const openFlushes = new Map<number, number>() // flush id -> highest seq it waits for
  const flushedIds = new Set<number>()

  const checkEvents = () => {
    for (const event of Accumulator.events(acc)) {
      if (event._tag === "Flushed") {
        const upTo = openFlushes.get(event.flush)!
        // A flush completes only when every record taken before it is settled.
        for (const { seq } of taken) if (seq <= upTo) expect(outcome.has(seq)).toBe(true)
        flushedIds.add(event.flush)
        openFlushes.delete(event.flush)
      }
    }
  }

  const settle = (batch: Accumulator.Outgoing<number>, outcomes: ReadonlyArray<number>, delay: number) => {
    const again: Array<Accumulator.Held<number>> = []
    const throttled = new Set<string>()
    const stored = new Map<string, number>()
    let refusedKeys: Set<string> | undefined
    // An aggregate is stored, refused or failed as one: its user records share its outcome.
    const items = batch.items ?? batch.entries
    const drawOf = new Map<Accumulator.Held<number>, number>()
    items.forEach((item, i) => {
      for (const held of Accumulator.isAggregated(item) ? item.members : [item]) drawOf.set(held, outcomes[i] ?? 0)
    })
    batch.entries.forEach((held) => {
      const draw = drawOf.get(held)!
      const key = held.record.partitionKey
      // A record after a refused one of the same key is refused too: what `ordered` relies on never happens here,
      // a store that overtakes. Without `ordered`, any record may be refused.
      const forced = ordered && refusedKeys?.has(key) === true
      if (!forced && draw < 6) {
        expect(outcome.has(held.seq)).toBe(false) // nothing stored twice
        outcome.set(held.seq, "delivered")
        storedByKey.set(key, [...(storedByKey.get(key) ?? []), held.seq])
        stored.set(held.shard, (stored.get(held.shard) ?? 0) + 1)
        Accumulator.delivered(acc, held, held.shard)
      } else if (!forced && draw === 9) {
        outcome.set(held.seq, "failed")
        Accumulator.failed(acc, held)
      } else {
        ;(refusedKeys ??= new Set()).add(key)
        throttled.add(held.shard)
        held.readyAt = now + delay
        again.push(held)
      }
    })
    Accumulator.retry(acc, again)
    Accumulator.finish(acc, batch, { throttled, stored }, now)
    woken = true // the writer wakes its batching fiber when a request is over
    checkEvents()
  }

  const poll = () => {
    if (!mayPoll()) return false
    woken = false
    const plan = Accumulator.poll(acc, now)
    if (plan._tag === "Sleep") {
      expect(plan.until).toBeGreaterThan(now)
      sleepUntil = plan.until
      return false
    }
    sleepUntil = -Infinity
    const batch = plan.batch
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
      expect(Either.getOrThrow(unpacked).map((user) => user.partitionKey)).toEqual(
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
      if (held.attempts === 0) {
        const line = ordered ? held.record.partitionKey : held.shard
        const last = firstSentByShard.get(line) ?? -1
        expect(held.seq).toBeGreaterThan(last)
        firstSentByShard.set(line, held.seq)
      }
      held.attempts++
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
        Accumulator.reshard(acc, command.split ? twoShards : oneShard)
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
