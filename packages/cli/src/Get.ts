/**
 * `kinesis-writer get`: reads a stream back, one line per user record (aggregated records are unpacked, as the KCL
 * does), shard after shard with parents before their children. Without `--follow` it stops once every shard is
 * read to its end; with it, it polls for new records (and new shards) until Ctrl-C or `--limit`.
 */
import {
  type _Record,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type GetShardIteratorInput,
  ListShardsCommand,
  type Shard
} from "@aws-sdk/client-kinesis"
import { Aggregation, Kinesis, type KinesisError } from "@effect-kinesis/writer"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Schedule from "effect/Schedule"
import type { Writable } from "node:stream"
import * as Output from "./Output.js"

/** Where reading starts in each shard that exists when `get` starts. */
export type From = "trim-horizon" | "latest" | "at-timestamp"

/** Every starting point, for the command line. */
export const froms: ReadonlyArray<From> = ["trim-horizon", "latest", "at-timestamp"]

/** What `get` was asked to do. */
export interface Config {
  readonly stream: string
  readonly from: From
  /** With `at-timestamp`: the first arrival time to read. */
  readonly timestamp?: Date | undefined
  /** Stop after this many user records. */
  readonly limit?: number | undefined
  /** Keep polling for new records instead of stopping at the end. */
  readonly follow: boolean
  readonly format: Output.Format
  /** Where records go (standard output unless a test says otherwise). */
  readonly out?: Writable | undefined
  /** Where warnings go (standard error unless a test says otherwise). */
  readonly err?: ((text: string) => void) | undefined
  /**
   * The stream is in the embedded Kinesis: `at-timestamp` reads from the trim horizon and skips older records here,
   * since kinesalite never answers GetShardIterator AT_TIMESTAMP for a shard with no record that recent.
   */
  readonly embedded?: boolean | undefined
}

// One shard being read.
interface Reader {
  readonly shardId: string
  readonly parents: ReadonlyArray<string>
  /** It existed when `get` started: read from `--from`; shards born later are read from their start. */
  readonly initial: boolean
  iterator: string | undefined
  lastSequence: string | undefined
  done: boolean
}

const target = (stream: string) => (stream.startsWith("arn:") ? { StreamARN: stream } : { StreamName: stream })

// Throttling of reads (5 a second per shard) and other passing failures are waited out.
const retrying = <A>(effect: Effect.Effect<A, KinesisError>) =>
  Effect.retry(effect, {
    schedule: Schedule.exponential("100 millis", 2).pipe(Schedule.upTo("30 seconds")),
    while: (error) => error.retriable
  })

const listShards = (kinesis: Kinesis.Service, stream: string) =>
  retrying(kinesis.send("ListShards", async (client, abortSignal) => {
    const shards: Array<Shard> = []
    let next: string | undefined
    do {
      const page = await client.send(
        new ListShardsCommand(next === undefined ? target(stream) : { NextToken: next }),
        { abortSignal }
      )
      shards.push(...(page.Shards ?? []))
      next = page.NextToken
    } while (next !== undefined)
    return shards
  }))

/** The user records of one Kinesis record: itself, or those it aggregates; and why it could not be unpacked. */
export const userRecords = (
  shardId: string,
  record: _Record
): { readonly records: ReadonlyArray<Output.Read>; readonly broken?: string | undefined } => {
  const data = record.Data ?? new Uint8Array()
  const base = {
    shardId,
    sequenceNumber: record.SequenceNumber ?? "",
    partitionKey: record.PartitionKey ?? "",
    arrivalTime: record.ApproximateArrivalTimestamp
  }
  const whole: Output.Read = { ...base, data }
  if (!Aggregation.isAggregated(data)) return { records: [whole] }
  const decoded = Aggregation.decode({ partitionKey: base.partitionKey, data })
  if (Either.isLeft(decoded)) return { records: [whole], broken: decoded.left }
  return {
    records: decoded.right.map((user, index) => ({
      ...base,
      subSequenceNumber: index,
      partitionKey: user.partitionKey,
      explicitHashKey: user.explicitHashKey,
      data: user.data
    }))
  }
}

/** Runs `get`; gives its exit status (0, or 2 when the stream can not be read). */
export const run = (config: Config): Effect.Effect<number, never, Kinesis> => {
  const out = config.out ?? process.stdout
  const warn = config.err ?? ((text: string) => process.stderr.write(`${text}\n`))
  const write = (text: string) =>
    Effect.async<void>((resume) => {
      if (out.write(text)) resume(Effect.void)
      else out.once("drain", () => resume(Effect.void))
    })

  return Effect.gen(function*() {
    const kinesis = yield* Kinesis
    const readers = new Map<string, Reader>()
    const addShards = (shards: ReadonlyArray<Shard>, initial: boolean) => {
      for (const shard of shards) {
        if (shard.ShardId === undefined || readers.has(shard.ShardId)) continue
        readers.set(shard.ShardId, {
          shardId: shard.ShardId,
          parents: [shard.ParentShardId, shard.AdjacentParentShardId].filter((id) => id !== undefined),
          initial,
          iterator: undefined,
          lastSequence: undefined,
          done: false
        })
      }
    }
    addShards(yield* listShards(kinesis, config.stream), true)

    const iteratorOf = (reader: Reader) => {
      const input: GetShardIteratorInput = {
        ...target(config.stream),
        ShardId: reader.shardId,
        ShardIteratorType: "TRIM_HORIZON"
      }
      if (reader.lastSequence !== undefined) {
        input.ShardIteratorType = "AFTER_SEQUENCE_NUMBER"
        input.StartingSequenceNumber = reader.lastSequence
      } else if (reader.initial && config.from === "latest") input.ShardIteratorType = "LATEST"
      else if (reader.initial && config.from === "at-timestamp" && config.embedded !== true) {
        input.ShardIteratorType = "AT_TIMESTAMP"
        input.Timestamp = config.timestamp
      }
      return retrying(
        kinesis.send(
          "GetShardIterator",
          (client, abortSignal) => client.send(new GetShardIteratorCommand(input), { abortSignal })
        )
      ).pipe(
        Effect.map((answer) => answer.ShardIterator)
      )
    }

    // Records older than --timestamp, read only where the server could not start at it.
    const tooOld = (reader: Reader, record: _Record) =>
      config.embedded === true && reader.initial && config.from === "at-timestamp" &&
      (record.ApproximateArrivalTimestamp?.getTime() ?? 0) < (config.timestamp?.getTime() ?? 0)
    let printed = 0
    let listedAt = Date.now()
    const limit = config.limit ?? Infinity
    // A shard is read once its parents are: a key's records come out in the order they were stored.
    const ready = (reader: Reader) => !reader.done && reader.parents.every((id) => readers.get(id)?.done ?? true)

    while (printed < limit) {
      const open = [...readers.values()].filter((reader) => !reader.done)
      if (open.length === 0 && !config.follow) break
      let gotAny = false
      for (const reader of open.filter(ready)) {
        if (reader.iterator === undefined) {
          reader.iterator = yield* iteratorOf(reader)
          if (reader.iterator === undefined) {
            reader.done = true
            continue
          }
        }
        const page = yield* retrying(
          kinesis.send(
            "GetRecords",
            (client, abortSignal) =>
              client.send(new GetRecordsCommand({ ShardIterator: reader.iterator, Limit: 10_000 }), { abortSignal })
          )
        ).pipe(
          Effect.catchIf((error) => error.code === "ExpiredIteratorException", () => Effect.succeed(undefined))
        )
        if (page === undefined) {
          reader.iterator = undefined
          continue
        }
        const records = page.Records ?? []
        let text = ""
        for (const record of records) {
          reader.lastSequence = record.SequenceNumber
          if (tooOld(reader, record)) continue
          const { broken, records: users } = userRecords(reader.shardId, record)
          if (broken !== undefined) {
            const where = `${reader.shardId} ${record.SequenceNumber}`
            warn(`kinesis-writer: ${where}: a broken aggregated record, shown whole: ${broken}`)
          }
          for (const user of users) {
            if (printed >= limit) break
            text += Output.line(config.format, user)
            printed++
          }
        }
        if (text !== "") yield* write(text)
        if (printed >= limit) break
        reader.iterator = page.NextShardIterator
        // No next iterator: a closed shard read to its end.
        if (reader.iterator === undefined) reader.done = true
        else if (records.length > 0) gotAny = true
        else if (!config.follow && (page.MillisBehindLatest ?? 0) === 0) reader.done = true
      }
      if (config.follow && Date.now() - listedAt > 10_000) {
        addShards(yield* listShards(kinesis, config.stream), false)
        listedAt = Date.now()
      }
      const waiting = config.follow || [...readers.values()].some((reader) => !reader.done)
      if (!gotAny && waiting && printed < limit) yield* Effect.sleep(config.follow ? 1_000 : 200)
    }
    return 0
  }).pipe(
    Effect.catchAll((error) =>
      Effect.sync(() => {
        warn(
          error.code === "ResourceNotFoundException" ?
            `kinesis-writer: stream ${config.stream} not found: ${error.detail}` :
            `kinesis-writer: ${error.operation}: ${error.message}`
        )
        return 2
      })
    )
  )
}
