/**
 * Reads a stream back: every shard, parents before their children (so a key's records come out in the order they
 * were stored), from the trim horizon, the tip or a moment, to the end or, following, as records arrive; KPL
 * aggregates unpacked into their user records, as the KCL does.
 *
 * Plain Node over the SDK client, without `effect`: an Effect shell wraps its promises (`Effect.tryPromise`) and
 * classifies a `ReadError` by its `operation` and `cause`.
 */
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorInput,
  type KinesisClient,
  ListShardsCommand,
  type Shard
} from "@aws-sdk/client-kinesis"
import { Aggregation, Fault } from "@effect-kinesis/core"
import { setTimeout as sleep } from "node:timers/promises"

/** A record read back from a stream: a user record, unpacked from its KPL aggregate if it came in one. */
export interface StoredRecord {
  readonly shardId: string
  readonly sequenceNumber: string
  /** Its position inside the aggregate that carried it; none for a record stored as it was sent. */
  readonly subSequenceNumber?: number | undefined
  readonly partitionKey: string
  /** The explicit hash key it was given, when it came inside an aggregate (Kinesis does not return a plain one's). */
  readonly explicitHashKey?: string | undefined
  /** When Kinesis stored it (the aggregate's time for a user record). */
  readonly arrivalTime?: Date | undefined
  readonly data: Uint8Array
  /** Why an aggregated record (magic number and digest right) is given whole: its message could not be read. */
  readonly malformed?: string | undefined
}

/** Where reading starts in each shard that exists when reading starts; shards born later are read from their start. */
export type From = "trim-horizon" | "latest" | "at-timestamp"

/** How to read. */
export interface Options {
  /** Where to start (default `trim-horizon`). */
  readonly from?: From | undefined
  /** With `at-timestamp`: the first arrival time to read. */
  readonly timestamp?: Date | undefined
  /** Stop after this many records. */
  readonly limit?: number | undefined
  /** Keep polling for new records (and new shards) until `limit` or `signal`, instead of stopping at the end. */
  readonly follow?: boolean | undefined
  /** Stops reading: requests under way are aborted and reading ends, without an error. */
  readonly signal?: AbortSignal | undefined
  /** Unpack KPL aggregates into their user records (the default); `false` gives every Kinesis record as stored. */
  readonly unpack?: boolean | undefined
  /**
   * How long a call that failed with a retriable error (throttling, 5xx, a broken connection) is sent again, in
   * milliseconds from its first failure, backing off from 100 ms; 0 (the default) fails at once.
   */
  readonly retryFor?: number | undefined
  /**
   * The stream is in kinesalite: `at-timestamp` reads from the trim horizon and skips older records here, since
   * kinesalite never answers GetShardIterator AT_TIMESTAMP for a shard with no record that recent.
   */
  readonly kinesalite?: boolean | undefined
  /** Shards read at once (default 4). */
  readonly concurrency?: number | undefined
}

/** A call that failed: its operation, the error's code (`ResourceNotFoundException`...) and the SDK's error. */
export class ReadError extends Error {
  override readonly name = "ReadError"
  constructor(readonly operation: string, readonly code: string, override readonly cause: unknown) {
    super(`${operation} failed: ${code}`)
  }
}

/**
 * The user records of one Kinesis record read from `shardId`: itself, or those it aggregates; an aggregate that
 * can not be unpacked is given whole, with `malformed` saying why.
 */
export const userRecords = (shardId: string, record: _Record): ReadonlyArray<StoredRecord> => {
  const whole = asStored(shardId, record)
  if (!Aggregation.isAggregated(whole.data)) return [whole]
  const decoded = Aggregation.decode(whole)
  if (Aggregation.isMalformed(decoded)) return [{ ...whole, malformed: decoded.reason }]
  return decoded.map((user, subSequenceNumber) => ({
    shardId,
    sequenceNumber: whole.sequenceNumber,
    subSequenceNumber,
    partitionKey: user.partitionKey,
    explicitHashKey: user.explicitHashKey,
    arrivalTime: whole.arrivalTime,
    data: user.data
  }))
}

/**
 * The stream's records page by page as they are read: each page one shard's, in that shard's order; a shard's pages
 * only once its parents are read to their end. Without `follow` it ends once every shard is read to its end.
 */
export const pages = async function*(
  client: KinesisClient,
  stream: string,
  options: Options = {}
): AsyncGenerator<ReadonlyArray<StoredRecord>, void, undefined> {
  for await (const page of shardPages(client, stream, options)) yield page.records
}

/** Every record of the stream, shard after shard (parents before their children), each shard in order. */
export const readAll = async (
  client: KinesisClient,
  stream: string,
  options: Omit<Options, "follow"> = {}
): Promise<Array<StoredRecord>> => {
  const byShard: Array<Array<StoredRecord>> = []
  for await (const page of shardPages(client, stream, { ...options, follow: false })) {
    const shard = byShard[page.order] ?? (byShard[page.order] = [])
    for (const record of page.records) shard.push(record)
  }
  return byShard.flat()
}

// One shard being read.
interface Reader {
  readonly shardId: string
  /** Its place in the listing: parents come before their children. */
  readonly order: number
  readonly parents: ReadonlyArray<string>
  /** It existed when reading started: read from `from`; shards born later are read from their start. */
  readonly initial: boolean
  iterator: string | undefined
  lastSequence: string | undefined
  done: boolean
}

interface ShardPage {
  readonly order: number
  readonly records: ReadonlyArray<StoredRecord>
}

const asStored = (shardId: string, record: _Record): StoredRecord => ({
  shardId,
  sequenceNumber: record.SequenceNumber ?? "",
  partitionKey: record.PartitionKey ?? "",
  arrivalTime: record.ApproximateArrivalTimestamp,
  data: record.Data ?? new Uint8Array()
})

const target = (stream: string) => (stream.startsWith("arn:") ? { StreamARN: stream } : { StreamName: stream })

// The list of shards is read again this often while following, for shards born since.
const RELIST_MILLIS = 10_000

const shardPages = async function*(
  client: KinesisClient,
  stream: string,
  options: Options
): AsyncGenerator<ShardPage, void, undefined> {
  const signal = options.signal
  const follow = options.follow ?? false
  const limit = options.limit ?? Infinity
  const from = options.from ?? "trim-horizon"
  const unpack = options.unpack ?? true
  const retryFor = options.retryFor ?? 0
  const skipsOld = options.kinesalite === true && from === "at-timestamp"
  const since = options.timestamp?.getTime() ?? 0
  const sendOptions = signal === undefined ? {} : { abortSignal: signal }

  // One call, sent again while its failure is retriable and `retryFor` lasts; any other failure as a `ReadError`.
  const call = async <A>(operation: string, send: () => Promise<A>): Promise<A> => {
    const started = Date.now()
    for (let delay = 100;; delay *= 2) {
      try {
        return await send()
      } catch (cause) {
        if (signal?.aborted === true) throw cause
        const fault = Fault.classify(operation, cause)
        if (!fault.retriable || Date.now() - started >= retryFor) throw new ReadError(operation, fault.code, cause)
        await sleep(delay, undefined, { signal })
      }
    }
  }

  const listShards = async () => {
    const shards: Array<Shard> = []
    let next: string | undefined
    do {
      const input = next === undefined ? target(stream) : { NextToken: next }
      const page = await call("ListShards", () => client.send(new ListShardsCommand(input), sendOptions))
      shards.push(...(page.Shards ?? []))
      next = page.NextToken
    } while (next !== undefined)
    return shards
  }

  const readers = new Map<string, Reader>()
  const addShards = (shards: ReadonlyArray<Shard>, initial: boolean) => {
    for (const shard of shards) {
      if (shard.ShardId === undefined || readers.has(shard.ShardId)) continue
      readers.set(shard.ShardId, {
        shardId: shard.ShardId,
        order: readers.size,
        parents: [shard.ParentShardId, shard.AdjacentParentShardId].filter((id) => id !== undefined),
        initial,
        iterator: undefined,
        lastSequence: undefined,
        done: false
      })
    }
  }

  const iteratorOf = async (reader: Reader) => {
    const input: GetShardIteratorInput = {
      ...target(stream),
      ShardId: reader.shardId,
      ShardIteratorType: "TRIM_HORIZON"
    }
    if (reader.lastSequence !== undefined) {
      input.ShardIteratorType = "AFTER_SEQUENCE_NUMBER"
      input.StartingSequenceNumber = reader.lastSequence
    } else if (reader.initial && from === "latest") input.ShardIteratorType = "LATEST"
    else if (reader.initial && from === "at-timestamp" && !skipsOld) {
      input.ShardIteratorType = "AT_TIMESTAMP"
      input.Timestamp = options.timestamp
    }
    const answer = await call(
      "GetShardIterator",
      () => client.send(new GetShardIteratorCommand(input), sendOptions)
    )
    return answer.ShardIterator
  }

  // One page of a shard: its records, and whether reading moved on (records came, or the shard ended).
  const readPage = async (reader: Reader): Promise<{ records: Array<StoredRecord>; moved: boolean }> => {
    if (reader.iterator === undefined) {
      reader.iterator = await iteratorOf(reader)
      if (reader.iterator === undefined) {
        reader.done = true
        return { records: [], moved: true }
      }
    }
    const iterator = reader.iterator
    let page
    try {
      page = await call(
        "GetRecords",
        () => client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }), sendOptions)
      )
    } catch (error) {
      if (!(error instanceof ReadError) || error.code !== "ExpiredIteratorException") throw error
      // A fresh iterator after the last record read.
      reader.iterator = undefined
      return { records: [], moved: false }
    }
    const got = page.Records ?? []
    const records: Array<StoredRecord> = []
    for (const record of got) {
      reader.lastSequence = record.SequenceNumber
      // Older than `timestamp`, read only where the server could not start at it.
      if (skipsOld && reader.initial && (record.ApproximateArrivalTimestamp?.getTime() ?? 0) < since) continue
      if (!unpack) records.push(asStored(reader.shardId, record))
      else for (const user of userRecords(reader.shardId, record)) records.push(user)
    }
    reader.iterator = page.NextShardIterator
    // No next iterator: a closed shard read to its end; an empty page with nothing behind: an open one.
    if (reader.iterator === undefined) reader.done = true
    else if (got.length === 0 && !follow && (page.MillisBehindLatest ?? 0) === 0) reader.done = true
    return { records, moved: got.length > 0 || reader.done }
  }

  // A shard is read once its parents are: a key's records come out in the order they were stored.
  const ready = (reader: Reader) => !reader.done && reader.parents.every((id) => readers.get(id)?.done ?? true)

  try {
    addShards(await listShards(), true)
    let given = 0
    let listedAt = Date.now()
    while (given < limit && signal?.aborted !== true) {
      const open = [...readers.values()].filter((reader) => !reader.done)
      if (open.length === 0 && !follow) return
      const round = open.filter(ready)
      const read = await inTurn(round, options.concurrency ?? 4, readPage)
      let moved = false
      for (let i = 0; i < round.length && given < limit; i++) {
        moved ||= read[i].moved
        const records = read[i].records.slice(0, limit - given)
        given += records.length
        if (records.length > 0) yield { order: round[i].order, records }
      }
      if (given >= limit) return
      if (follow && Date.now() - listedAt > RELIST_MILLIS) {
        addShards(await listShards(), false)
        listedAt = Date.now()
      }
      if (!moved) await sleep(follow ? 1_000 : 200, undefined, { signal })
    }
  } catch (error) {
    if (signal?.aborted === true) return
    throw error
  }
}

// `f` over `items`, at most `concurrency` at once, the results in the items' order; the first failure stops it.
const inTurn = async <A, B>(items: ReadonlyArray<A>, concurrency: number, f: (item: A) => Promise<B>) => {
  const results = new Array<B>(items.length)
  let next = 0
  let failed = false
  const worker = async () => {
    while (next < items.length && !failed) {
      const index = next++
      try {
        results[index] = await f(items[index])
      } catch (error) {
        failed = true
        throw error
      }
    }
  }
  await Promise.all(Array.from({ length: Math.min(Math.max(1, concurrency), items.length) }, worker))
  return results
}
