/**
 * This library's main line, `@effect-kinesis/writer` on Effect 4, used the way its README shows: `enqueue` each
 * record in an `Effect.gen` loop, then `flush`. Its driver is the package @effect-kinesis/bench-effect4, where
 * `effect` is the root's Effect 4 (here it is the bench's Effect 3); the Effect 3 line's driver is
 * EffectKinesisEffect3.ts, the same loop.
 *
 * `defaults` takes every default (shard-aware); `blind` turns shard awareness off, as the writer was before it;
 * `aggregated` packs records into KPL aggregates (`aggregate: true`); `tuned` raises `maxInFlight` and the buffer
 * and shortens `linger`. `sink` streams the records in through `writer.sink` and `all` hands them over with
 * `enqueueAll`, a chunk at a time, both with the defaults.
 */
import { type Intake, type Options, prepare } from "@effect-kinesis/bench-effect4"
import * as Clients from "../Clients.js"
import type { Job } from "../Job.js"
import type { Prepared, Writer } from "./Writer.js"

/** Entries per chunk of the sink and enqueueAll variants. */
export { CHUNK } from "@effect-kinesis/bench-effect4"

/** The options of the tuned variant, beside the stream. */
export const tuned = { maxInFlight: 16, maxBufferedRecords: 20_000, linger: "20 millis" } as const

const make = (options: Options, intake: Intake = "enqueue"): Writer => async (job: Job): Promise<Prepared> =>
  prepare(Clients.v3(job), job.stream, options, intake)

export const defaults: Writer = make({})
export const blind: Writer = make({ shardAware: false })
export const aggregated: Writer = make({ aggregate: true })
export const tunedWriter: Writer = make(tuned)
export const sink: Writer = make({}, "sink")
export const all: Writer = make({}, "all")
