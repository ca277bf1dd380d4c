/**
 * This library, used the way its README shows: `enqueue` each record in an `Effect.gen` loop, then `flush`.
 * `defaults` takes every default (shard-aware); `blind` turns shard awareness off, as the writer was before it;
 * `aggregated` packs records into KPL aggregates (`aggregate: true`); `tuned` raises `maxInFlight` and the buffer
 * and shortens `linger`.
 */
import { Kinesis, KinesisWriter } from "@effect-kinesis/writer"
import * as Effect from "effect/Effect"
import * as Clients from "../Clients.js"
import type { Job } from "../Job.js"
import type { Offer } from "../Offer.js"
import type { Prepared, Writer } from "./Writer.js"

/** The options of the tuned variant, beside the stream. */
export const tuned = { maxInFlight: 16, maxBufferedRecords: 20_000, linger: "20 millis" } as const

const make = (options: Omit<KinesisWriter.Options, "stream">): Writer => async (job: Job): Promise<Prepared> => {
  const client = Clients.v3(job)
  return {
    run: (offer: Offer) =>
      Effect.gen(function*() {
        const writer = yield* KinesisWriter.make({ ...options, stream: job.stream })
        for (let i = 0; offer.more(i); i++) {
          const paced = offer.pace(i)
          if (paced !== undefined) yield* Effect.promise(() => paced)
          // Its own random keys unless the scenario chooses them (a hot key): those are what its users get.
          yield* offer.keyed ?
            writer.enqueue(offer.payload(i), offer.partitionKey(i)) :
            writer.enqueue(offer.payload(i))
        }
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
