/**
 * The bench's driver of `@effect-kinesis/writer`, the Effect 4 line, used the way its README shows: `enqueue` each
 * record in an `Effect.gen` loop, then `flush`. Every record's bytes and key are the bench's, made before the clock
 * starts, as the hand loop's are. It is a package of its own so that `effect` here is the root's
 * Effect 4: the bench's own files resolve `effect` to the bench's Effect 3. The Effect 3 line's driver
 * (packages/bench/src/writers/EffectKinesisEffect3.ts) does the same, line for line.
 *
 * Besides `enqueue` one by one, the records can be streamed into `writer.sink` or handed over with `enqueueAll`, a
 * chunk at a time (the bench's sink and enqueueAll variants).
 */
import type { KinesisClient } from "@aws-sdk/client-kinesis"
import { type InvalidRecord, Kinesis, KinesisWriter, type WriterClosed } from "@effect-kinesis/writer"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Stream from "effect/Stream"

/** What the driver reads of the bench's offer (packages/bench/src/Offer.ts): record i while `more(i)`. */
export interface Offer {
  readonly more: (index: number) => boolean
  readonly pace: (index: number) => Promise<void> | undefined
  readonly data: (index: number) => Uint8Array
  readonly partitionKey: (index: number) => string
}

/** A writer set up for one run, as the bench's harness takes it (packages/bench/src/writers/Writer.ts). */
export interface Prepared {
  readonly run: (offer: Offer) => Promise<{ readonly reportedFailed: number }>
  readonly close: () => Promise<void>
}

/** The writer's options, but the stream. */
export type Options = Omit<KinesisWriter.Options, "stream">

/** How the records are handed to the writer: `enqueue` one by one, `writer.sink`, or `enqueueAll` by chunks. */
export type Intake = "enqueue" | "sink" | "all"

type Take = (writer: KinesisWriter.Service, offer: Offer) => Effect.Effect<void, InvalidRecord | WriterClosed>

// A user's loop: one `enqueue` per record.
const oneByOne: Take = (writer, offer) =>
  Effect.gen(function*() {
    for (let i = 0; offer.more(i); i++) {
      const paced = offer.pace(i)
      if (paced !== undefined) yield* Effect.promise(() => paced)
      yield* writer.enqueue(offer.data(i), offer.partitionKey(i))
    }
  })

/** Entries per chunk: a stream of lines read from a file comes in chunks of this order. */
export const CHUNK = 1024

// The offer's next chunk of entries from `from` on, paced as the offer says, and where the next one starts: none
// when this one ended short (the offer is over).
const nextChunk = (offer: Offer, from: number) =>
  Effect.gen(function*() {
    const entries: Array<KinesisWriter.Entry> = []
    let i = from
    while (entries.length < CHUNK && offer.more(i)) {
      const paced = offer.pace(i)
      if (paced !== undefined) yield* Effect.promise(() => paced)
      entries.push({ message: offer.data(i), key: offer.partitionKey(i) })
      i++
    }
    return [entries, entries.length < CHUNK ? Option.none<number>() : Option.some(i)] as const
  })

// A stream of entries run into `writer.sink`.
const streamed: Take = (writer, offer) =>
  Stream.paginate(0, (from) => nextChunk(offer, from)).pipe(Stream.run(writer.sink))

// `enqueueAll` a chunk at a time.
const inChunks: Take = (writer, offer) =>
  Effect.gen(function*() {
    let from: Option.Option<number> = Option.some(0)
    while (Option.isSome(from)) {
      const [entries, next] = yield* nextChunk(offer, from.value)
      if (entries.length > 0) yield* writer.enqueueAll(entries)
      from = next
    }
  })

const intakes: Record<Intake, Take> = { enqueue: oneByOne, sink: streamed, all: inChunks }

/** Sets the writer up on `client` (which `close` destroys) for one run. */
export const prepare = (
  client: KinesisClient,
  stream: string,
  options: Options,
  intake: Intake = "enqueue"
): Prepared => {
  const take = intakes[intake]
  return {
    run: (offer: Offer) =>
      Effect.gen(function*() {
        const writer = yield* KinesisWriter.make({ ...options, stream })
        yield* take(writer, offer)
        return yield* writer.flush.pipe(
          Effect.as({ reportedFailed: 0 }),
          Effect.catchTag("DeliveryFailed", (error) =>
            Effect.succeed({ reportedFailed: error.failures.length + error.unlisted }))
        )
      }).pipe(Effect.scoped, Effect.provide(Kinesis.fromClient(client)), Effect.orDie, Effect.runPromise),
    close: async () => client.destroy()
  }
}
