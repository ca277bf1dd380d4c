/**
 * This library, used the way its README shows: `enqueue` each record in an `Effect.gen` loop, then `flush`.
 * `defaults` takes every default (shard-aware); `blind` turns shard awareness off, as the writer was before it;
 * `aggregated` packs records into KPL aggregates (`aggregate: true`); `tuned` raises `maxInFlight` and the buffer
 * and shortens `linger`. `sink` streams the records in through `writer.sink` and `all` hands them over with
 * `enqueueAll`, a chunk at a time, both with the defaults.
 */
import { type InvalidRecord, Kinesis, KinesisWriter, type WriterClosed } from "@effect-kinesis/writer-effect3"
import * as Chunk from "effect/Chunk"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"
import * as Clients from "../Clients.js"
import type { Job } from "../Job.js"
import type { Offer } from "../Offer.js"
import type { Prepared, Writer } from "./Writer.js"

/** The options of the tuned variant, beside the stream. */
export const tuned = { maxInFlight: 16, maxBufferedRecords: 20_000, linger: "20 millis" } as const

// How the records are handed to the writer: this is what the variants differ in.
type Intake = (writer: KinesisWriter.Service, offer: Offer) => Effect.Effect<void, InvalidRecord | WriterClosed>

// A user's loop: one `enqueue` per record.
const oneByOne: Intake = (writer, offer) =>
  Effect.gen(function*() {
    for (let i = 0; offer.more(i); i++) {
      const paced = offer.pace(i)
      if (paced !== undefined) yield* Effect.promise(() => paced)
      // Its own random keys unless the scenario chooses them (a hot key): those are what its users get.
      yield* offer.keyed ?
        writer.enqueue(offer.payload(i), offer.partitionKey(i)) :
        writer.enqueue(offer.payload(i))
    }
  })

/** Entries per chunk: a stream of lines read from a file comes in chunks of this order. */
export const CHUNK = 1024

// The offer's next chunk of entries from `from` on, paced as the offer says; none once the offer is over.
const nextChunk = (offer: Offer, from: number) =>
  Effect.gen(function*() {
    const entries: Array<KinesisWriter.Entry> = []
    let i = from
    while (entries.length < CHUNK && offer.more(i)) {
      const paced = offer.pace(i)
      if (paced !== undefined) yield* Effect.promise(() => paced)
      entries.push(
        offer.keyed ? { message: offer.payload(i), key: offer.partitionKey(i) } : { message: offer.payload(i) }
      )
      i++
    }
    return entries.length === 0 ? Option.none() : Option.some([entries, i] as const)
  })

// A stream of entries run into `writer.sink`.
const streamed: Intake = (writer, offer) =>
  Stream.unfoldChunkEffect(
    0,
    (from) =>
      Effect.map(nextChunk(offer, from), Option.map(([entries, next]) => [Chunk.unsafeFromArray(entries), next]))
  ).pipe(
    Stream.run(writer.sink)
  )

// `enqueueAll` a chunk at a time.
const inChunks: Intake = (writer, offer) =>
  Effect.gen(function*() {
    let from = 0
    while (true) {
      const chunk = yield* nextChunk(offer, from)
      if (Option.isNone(chunk)) return
      yield* writer.enqueueAll(chunk.value[0])
      from = chunk.value[1]
    }
  })

const make = (options: Omit<KinesisWriter.Options, "stream">, intake: Intake = oneByOne): Writer =>
async (
  job: Job
): Promise<Prepared> => {
  const client = Clients.v3(job)
  return {
    run: (offer: Offer) =>
      Effect.gen(function*() {
        const writer = yield* KinesisWriter.make({ ...options, stream: job.stream })
        yield* intake(writer, offer)
        return yield* writer.flush.pipe(
          Effect.as({ reportedFailed: 0 }),
          Effect.catchTag("DeliveryFailed", (error) =>
            Effect.succeed({ reportedFailed: error.failures.length + error.unlisted }))
        )
      }).pipe(Effect.scoped, Effect.provide(Kinesis.fromClient(client)), Effect.orDie, Effect.runPromise),
    close: async () => client.destroy()
  }
}

export const defaults: Writer = make({})
export const blind: Writer = make({ shardAware: false })
export const aggregated: Writer = make({ aggregate: true })
export const tunedWriter: Writer = make(tuned)
export const sink: Writer = make({}, streamed)
export const all: Writer = make({}, inChunks)
