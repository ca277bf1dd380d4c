/**
 * Where the writer's CPU per record goes, stage by stage, with no SDK and no HTTP: each stage adds one step of the
 * per-record path to the one before, and the difference between two stages is what that step costs. The last
 * stages run the whole Effect writer against a Kinesis that answers at once, in memory; what the clean cases
 * measure beyond them is the SDK, HTTP and the garbage both leave.
 *
 * Every stage runs in the same child process, after a warm-up of its own; CPU time is the process's, as in the
 * clean cases (garbage collection threads included).
 */
import type { PutRecordsCommandInput, PutRecordsCommandOutput } from "@aws-sdk/client-kinesis"
import { Batch, Record, ShardMap } from "@effect-kinesis/core"
import { Kinesis, KinesisWriter } from "@effect-kinesis/writer-effect3"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Core from "./Core.js"
import { payload } from "./Payload.js"

/** The stages, in order: each does what the one before did, and one step more. */
export const stages = [
  "encode",
  "place",
  "accumulate",
  "answer",
  "writer-enqueueAll",
  "writer-enqueue"
] as const

/** One of the stages. */
export type Stage = typeof stages[number]

/** What each stage does, for the report. */
export const describeStage: Readonly<Record<Stage, string>> = {
  encode: "`Record.encode`: check the message, UTF-8 into a shared slab, make the default key",
  place: "+ the key's MD5 and its shard among 32 (`ShardMap.partitionKeyLocator`, the route the accumulator takes)",
  accumulate: "+ the pure core as the writer runs it: `Accumulator.take` (into its shard's line), `pollSend` " +
    "(requests of 500), `entriesOf`, `handleResponse` with every record stored, `pollEvents`",
  answer: "the in-memory Kinesis's own work: answering each record with its shard (subtracted from the writer stages)",
  "writer-enqueueAll": "the whole writer (Effect layer: batching fiber, one fiber per request, metrics, spans) " +
    "fed with `enqueueAll`, 1,024 at a time, against the in-memory Kinesis",
  "writer-enqueue": "the same fed with `enqueue`, one record per `yield*`"
}

/** CPU per record of each stage, one measurement. */
export type StagesMeasured = ReadonlyArray<{ readonly stage: Stage; readonly cpuMicros: number }>

const SHARDS = 32
const CHUNK = 1024

// 32 shards over equal parts of the hash key space, as a stream created with 32 shards has them.
const shardList = Core.evenShards(SHARDS)
const map = ShardMap.fromShards(shardList)

const cpu = (work: () => void | Promise<void>, records: number): Promise<number> => {
  const start = process.cpuUsage()
  return Promise.resolve(work()).then(() => {
    const used = process.cpuUsage(start)
    return (used.user + used.system) / records
  })
}

const encodeAll = (messages: ReadonlyArray<string>, records: number, randomKey: () => string) => {
  const encoded: Array<Record.Encoded> = new Array(records)
  for (let i = 0; i < records; i++) {
    const result = Record.encode(messages[i % messages.length], undefined, randomKey, Record.DEFAULT_MAX_RECORD_BYTES)
    if (Record.isInvalid(result)) throw new Error(result.reason)
    encoded[i] = result
  }
  return encoded
}

// The in-memory Kinesis's answer to one request: every record stored, on the shard its key hashes to.
const answer = (
  input: PutRecordsCommandInput,
  locate: (key: string) => string | undefined
): PutRecordsCommandOutput => ({
  $metadata: {},
  Records: (input.Records ?? []).map((entry, i) => ({
    ShardId: entry.ExplicitHashKey === undefined ?
      locate(entry.PartitionKey!) :
      ShardMap.shardOf(map, ShardMap.toHex(entry.ExplicitHashKey)),
    SequenceNumber: `4960000000000000000000000000${i}`
  }))
})

// The accumulator's work on the records, as the production path runs it (see `Core`), with 32 shards.
const accumulate = (encoded: ReadonlyArray<Record.Encoded>) => {
  const acc = Core.accumulator(map)
  const sent: Core.Sent = { requests: 0, delivered: 0 }
  for (let i = 0; i < encoded.length; i++) Core.feed(acc, encoded[i], 0, sent)
  Core.finish(acc, 0, sent, encoded.length)
}

const writer = (messages: ReadonlyArray<string>, records: number, oneByOne: boolean) => {
  const locate = ShardMap.partitionKeyLocator(map)
  const service: Kinesis.Service = {
    client: undefined as never,
    send: () => Effect.die("not used"),
    // Answered on the next turn of the event loop, as a response would be: the writer's fibers really wait.
    putRecords: (input) =>
      Effect.async<PutRecordsCommandOutput>((resume) => {
        setImmediate(() => resume(Effect.succeed(answer(input, locate))))
      }),
    listShards: () => Effect.succeed({ $metadata: {}, Shards: [...shardList] })
  }
  return Effect.gen(function*() {
    // 32 shards take 32,000 records a second: a limit this in-memory Kinesis does not enforce, and the writer's
    // pacing keeps to it, so this stage is not made faster by sending more than a real stream would take.
    const kinesisWriter = yield* KinesisWriter.make({ stream: "stages" })
    if (oneByOne) {
      for (let i = 0; i < records; i++) yield* kinesisWriter.enqueue(messages[i % messages.length])
    } else {
      for (let from = 0; from < records; from += CHUNK) {
        const entries: Array<KinesisWriter.Entry> = []
        for (let i = from; i < Math.min(records, from + CHUNK); i++) {
          entries.push({ message: messages[i % messages.length] })
        }
        yield* kinesisWriter.enqueueAll(entries)
      }
    }
    yield* kinesisWriter.flush
    const stats = yield* kinesisWriter.stats
    if (stats.delivered !== records) throw new Error(`the writer delivered ${stats.delivered} of ${records}`)
  }).pipe(Effect.scoped, Effect.provide(Layer.succeed(Kinesis, service)), Effect.runPromise)
}

const run = async (stage: Stage, messages: ReadonlyArray<string>, records: number): Promise<void> => {
  switch (stage) {
    case "encode":
      encodeAll(messages, records, Core.defaultKeys())
      return
    case "place": {
      const locate = ShardMap.partitionKeyLocator(map)
      const encoded = encodeAll(messages, records, Core.defaultKeys())
      for (const record of encoded) if (locate(record.partitionKey) === undefined) throw new Error("no shard")
      return
    }
    case "accumulate":
      accumulate(encodeAll(messages, records, Core.defaultKeys()))
      return
    case "answer": {
      const locate = ShardMap.partitionKeyLocator(map)
      const randomKey = Core.defaultKeys()
      for (let from = 0; from < records; from += Batch.MAX_BATCH_RECORDS) {
        const entries = Array.from({ length: Math.min(Batch.MAX_BATCH_RECORDS, records - from) }, () => ({
          Data: undefined,
          PartitionKey: randomKey()
        }))
        answer({ Records: entries }, locate)
      }
      return
    }
    case "writer-enqueueAll":
      return writer(messages, records, false)
    case "writer-enqueue":
      return writer(messages, records, true)
  }
}

const messagesOf = (bytes: number) => Array.from({ length: 10_000 }, (_, i) => payload(i, bytes))

/** CPU per record of one stage over `records` messages of `bytes` bytes, after a warm-up of a fifth of that. */
export const measureStage = async (stage: Stage, records: number, bytes: number): Promise<number> => {
  const messages = messagesOf(bytes)
  await run(stage, messages, Math.ceil(records / 5))
  globalThis.gc?.()
  return cpu(() => run(stage, messages, records), records)
}

/** Measures every stage over `records` messages of `bytes` bytes, each after a warm-up of a fifth of that. */
export const measure = async (records: number, bytes: number): Promise<StagesMeasured> => {
  const measured: Array<{ stage: Stage; cpuMicros: number }> = []
  for (const stage of stages) measured.push({ stage, cpuMicros: await measureStage(stage, records, bytes) })
  return measured
}
