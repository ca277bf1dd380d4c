/**
 * The CPU cost of the pure core on the path the writer takes in production, no I/O: each message through
 * `Record.encode` (a 100-byte string, a default partition key made as the writer makes it), taken by the
 * `Accumulator` into its shard's line (a map of 4 shards, the MD5 of the key, as the shard-aware default routes),
 * each request `pollSend` gives turned into PutRecords entries (`entriesOf`) and answered at once with every record
 * stored (`handleResponse`), then its events read (`pollEvents`). Records per second on one core, the process's only
 * work.
 *
 * The accumulator has the writer's defaults but pacing: per-shard budgets refill with the clock, and time stands
 * still here (batches go when full, the last on a `flush`), so pacing would measure the clock, not the core.
 */
import type { Shard } from "@aws-sdk/client-kinesis"
import { Accumulator, type Batch, Record, Settings, ShardMap } from "@effect-kinesis/core"
import { payload } from "./Payload.js"
import { profiled } from "./Profile.js"

/** What one measurement found. */
export interface CoreMeasured {
  readonly records: number
  readonly elapsedMs: number
  readonly recordsPerSecond: number
  /** PutRecords requests the accumulator planned and settled, as a check that the work was done. */
  readonly requests: number
}

/** The shards the core figure routes among: the clean case's 4. */
export const CORE_SHARDS = 4

/** `count` open shards over equal parts of the hash key space, as a stream created with that many has them. */
export const evenShards = (count: number): Array<Shard> => {
  const step = (1n << 128n) / BigInt(count)
  return Array.from({ length: count }, (_, i) => ({
    ShardId: `shardId-${String(i).padStart(12, "0")}`,
    HashKeyRange: {
      StartingHashKey: String(step * BigInt(i)),
      EndingHashKey: String(i === count - 1 ? (1n << 128n) - 1n : step * BigInt(i + 1) - 1n)
    },
    SequenceNumberRange: { StartingSequenceNumber: "1" }
  }))
}

/** The writer's own default key: a random prefix and a counter in base 36. */
export const defaultKeys = (): () => string => {
  const prefix = `${Math.floor(Math.random() * 0xffffffff).toString(36)}-`
  let counter = 0
  return () => prefix + (counter++).toString(36)
}

/** An accumulator with the writer's defaults but pacing, routed by `map` (undefined: shard-blind). */
export const accumulator = (map: ShardMap.ShardMap | undefined): Accumulator.Accumulator<undefined> => {
  const { defaults } = Settings
  const acc = Accumulator.make<undefined>({
    limits: { maxBatchRecords: defaults.maxBatchRecords, maxBatchBytes: defaults.maxBatchBytes },
    lingerMillis: defaults.lingerMillis,
    maxInFlight: defaults.maxInFlight,
    maxBufferedRecords: defaults.maxBufferedRecords,
    maxBufferedBytes: defaults.maxBufferedBytes,
    ordered: defaults.ordered,
    pacing: undefined,
    awaitRoute: map !== undefined,
    aggregation: undefined,
    streamName: "core"
  })
  if (map !== undefined) Accumulator.handleShardMap(acc, map, 0)
  return acc
}

// One answer per shard, shared by its records: the core reads the shard and the sequence number, nothing else.
const storedOn = new Map<string, Batch.ResultEntry>()
const resultFor = (shard: string): Batch.ResultEntry => {
  let result = storedOn.get(shard)
  if (result === undefined) {
    result = { ShardId: shard === Accumulator.BLIND ? "shardId-000000000000" : shard, SequenceNumber: "1" }
    storedOn.set(shard, result)
  }
  return result
}

/** Counts of a run of the production path. */
export interface Sent {
  requests: number
  delivered: number
}

/**
 * Sends every request the accumulator plans at `now`, each answered at once with every record stored on the shard
 * it was sent for, and reads the events each answer makes. Anything but a delivery is a failure of the measurement.
 */
export const sendAll = (acc: Accumulator.Accumulator<undefined>, now: number, sent: Sent): void => {
  for (let request = Accumulator.pollSend(acc, now); request !== undefined; request = Accumulator.pollSend(acc, now)) {
    const entries = Accumulator.entriesOf(request)
    const results: Array<Batch.ResultEntry> = new Array(entries.length)
    for (let i = 0; i < entries.length; i++) results[i] = resultFor(request.entries[i].shard)
    Accumulator.handleResponse(acc, request, results, now)
    sent.requests++
    for (const event of Accumulator.pollEvents(acc)) {
      if (event._tag === "Delivered") sent.delivered += event.records.length
      else if (event._tag !== "Flushed") throw new Error(`the core asked for ${event._tag} in a run with no failure`)
    }
  }
}

/** Takes a record as the writer's intake does, and sends what the accumulator then plans. */
export const feed = (
  acc: Accumulator.Accumulator<undefined>,
  record: Record.Encoded,
  now: number,
  sent: Sent
): void => {
  if (!Accumulator.canTake(acc, record.size)) {
    sendAll(acc, now, sent)
    if (!Accumulator.canTake(acc, record.size)) throw new Error("no room in the accumulator after sending")
  }
  if (Accumulator.take(acc, record, undefined, now)) sendAll(acc, now, sent)
}

/** Flushes what is left and checks that every record taken was delivered. */
export const finish = (acc: Accumulator.Accumulator<undefined>, now: number, sent: Sent, records: number): void => {
  Accumulator.flush(acc)
  sendAll(acc, now, sent)
  for (const event of Accumulator.pollEvents(acc)) {
    if (event._tag !== "Flushed") throw new Error(`the core asked for ${event._tag} after the flush`)
  }
  const held = Accumulator.holding(acc).records
  if (held !== 0 || sent.delivered !== records) {
    throw new Error(`the core delivered ${sent.delivered} of ${records} records and still holds ${held}`)
  }
}

const CHUNK = 10_000

/** Runs `records` messages of `bytes` bytes down the production path, after a warm-up, and times it. */
export const measure = async (records: number, bytes: number, profile?: string): Promise<CoreMeasured> => {
  // Distinct messages, made before timing: producing them is the caller's cost, not the core's.
  const messages = Array.from({ length: CHUNK }, (_, i) => payload(i, bytes).normalize())
  const map = ShardMap.fromShards(evenShards(CORE_SHARDS))
  const randomKey = defaultKeys()
  const round = (count: number): number => {
    const acc = accumulator(map)
    const sent: Sent = { requests: 0, delivered: 0 }
    for (let i = 0; i < count; i++) {
      const encoded = Record.encode(messages[i % CHUNK], undefined, randomKey, Record.DEFAULT_MAX_RECORD_BYTES)
      if (Record.isInvalid(encoded)) throw new Error(encoded.reason)
      feed(acc, encoded, 0, sent)
    }
    finish(acc, 0, sent, count)
    return sent.requests
  }
  round(Math.min(records, 200_000))
  const start = performance.now()
  const requests = await profiled(profile, async () => round(records))
  const elapsedMs = performance.now() - start
  return { records, elapsedMs, recordsPerSecond: records / (elapsedMs / 1000), requests }
}
