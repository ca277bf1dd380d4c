/**
 * The bench's driver of `@effect-kinesis/writer-effect3`, the Effect 3 line (`effect-kinesis-effect3`): the same
 * `prepare` as the Effect 4 line's driver (packages/bench-effect4/src/index.ts), `enqueue` one by one only. Its
 * loop and its run are that driver's, line for line: only the package they import differs, so the two lines are
 * measured doing the same thing, each on one copy of its Effect.
 */
import type { KinesisClient } from "@aws-sdk/client-kinesis"
import { type InvalidRecord, Kinesis, KinesisWriter, type WriterClosed } from "@effect-kinesis/writer-effect3"
import type * as EffectModule from "effect/Effect"
import * as fs from "node:fs"
import { createRequire } from "node:module"
import * as path from "node:path"
import { pathToFileURL } from "node:url"
import * as Clients from "../Clients.js"
import type { Job } from "../Job.js"
import type { Offer } from "../Offer.js"
import type { Prepared, Writer } from "./Writer.js"

/**
 * `effect/Effect` of the writer's own copy of Effect 3. npm gives each Effect 3 package of this repository a copy of
 * its own (the root's `effect` is Effect 4), so this file's `effect` would be the bench's copy: the writer's process
 * would run two, where a user's application has one (the Effect 4 line's driver and writer share the root's).
 */
const writersEffect = async (): Promise<typeof EffectModule> => {
  const writer = createRequire(import.meta.url).resolve("@effect-kinesis/writer-effect3")
  const manifest = createRequire(writer).resolve("effect/package.json")
  const { exports } = JSON.parse(fs.readFileSync(manifest, "utf8")) as {
    readonly exports: Record<string, { readonly import: string }>
  }
  return import(pathToFileURL(path.join(path.dirname(manifest), exports["./Effect"].import)).href)
}

const Effect = await writersEffect()

/** The writer's options, but the stream. */
export type Options = Omit<KinesisWriter.Options, "stream">

type Take = (writer: KinesisWriter.Service, offer: Offer) => EffectModule.Effect<void, InvalidRecord | WriterClosed>

// A user's loop: one `enqueue` per record.
const oneByOne: Take = (writer, offer) =>
  Effect.gen(function*() {
    for (let i = 0; offer.more(i); i++) {
      const paced = offer.pace(i)
      if (paced !== undefined) yield* Effect.promise(() => paced)
      yield* writer.enqueue(offer.data(i), offer.partitionKey(i))
    }
  })

/** Sets the writer up on `client` (which `close` destroys) for one run. */
export const prepare = (
  client: KinesisClient,
  stream: string,
  options: Options
): Prepared => {
  const take = oneByOne
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

/** Every default, as `effect-kinesis`'s (the Effect 4 line's). */
export const defaults: Writer = async (job: Job) => prepare(Clients.v3(job), job.stream, {})
