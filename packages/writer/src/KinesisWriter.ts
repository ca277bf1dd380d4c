/**
 * The `KinesisWriter` service: takes records with `enqueue` and `put`, sends them in PutRecords batches from a
 * background fiber, retries what Kinesis rejects with a `Schedule`, and drains when its scope closes.
 */
import { Settings } from "@effect-kinesis/core"
import * as Config from "effect/Config"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Result from "effect/Result"
import * as Schema from "effect/Schema"
import * as SchemaIssue from "effect/SchemaIssue"
import type * as Scope from "effect/Scope"
import * as internalOptions from "./internal/options.js"
import * as internal from "./internal/writer.js"
import type { Kinesis } from "./Kinesis.js"

const { variables } = Settings

/** One `ConfigError` naming every problem (each starts with the option it is about). */
const configErrorOf = (problems: ReadonlyArray<string>) =>
  new Config.ConfigError(new Schema.SchemaError(new SchemaIssue.InvalidValue({ message: problems.join("; ") })))

// The variables' texts, each optional; no variable at all (none under a prefix) reads as none set.
const Texts = Schema.UndefinedOr(
  Schema.Struct(
    Object.fromEntries(Object.values(variables).map((name) => [name, Schema.optional(Schema.String)])) as {
      readonly [Option in Settings.Variable as (typeof variables)[Option]]: Schema.optional<Schema.String>
    }
  )
)

const fromTexts = (texts: typeof Texts.Type) => Settings.fromVariables((option) => texts?.[variables[option]])

/** Writes records to one Kinesis stream. `yield* KinesisWriter` gives the service. */
export class KinesisWriter extends Context.Service<KinesisWriter, KinesisWriter.Service>()(
  "@effect-kinesis/writer/KinesisWriter"
) {
  /** Builds a writer in the current scope: one per stream, as many as you like; invalid options are a defect. */
  static readonly make = (
    options: KinesisWriter.Options
  ): Effect.Effect<KinesisWriter.Service, never, Kinesis | Scope.Scope> =>
    Result.match(internalOptions.resolve(options), { onFailure: Effect.die, onSuccess: internal.make })

  /** The writer as a layer; releasing the layer stops intake and drains. Invalid options are a defect. */
  static readonly layer = (options: KinesisWriter.Options): Layer.Layer<KinesisWriter, never, Kinesis> =>
    Layer.effect(KinesisWriter, KinesisWriter.make(options))

  /**
   * The writer as a layer whose options come from `Config`: by default, the `KINESIS_*` environment variables.
   * A bad value fails with a `ConfigError` at its variable (or, for a config of your own, at the option's name).
   */
  static readonly layerConfig = (
    config: Config.Config<KinesisWriter.Options> | Config.Wrap<KinesisWriter.Options> = KinesisWriter.config
  ): Layer.Layer<KinesisWriter, Config.ConfigError, Kinesis> =>
    Layer.effect(
      KinesisWriter,
      Effect.flatMap(
        (Config.isConfig(config) ? config : Config.unwrap(config)) as Config.Config<KinesisWriter.Options>,
        (options) =>
          Result.match(internalOptions.resolve(options), {
            onFailure: (invalid) => Effect.fail(configErrorOf(invalid.problems)),
            onSuccess: internal.make
          })
      )
    )

  /**
   * Options from the environment: `KINESIS_STREAM` (required), and optionally `KINESIS_LINGER`,
   * `KINESIS_MAX_BATCH_RECORDS`, `KINESIS_MAX_BATCH_BYTES`, `KINESIS_MAX_RECORD_BYTES`,
   * `KINESIS_MAX_BUFFERED_RECORDS`, `KINESIS_MAX_BUFFERED_BYTES`, `KINESIS_MAX_IN_FLIGHT`,
   * `KINESIS_REQUEST_TIMEOUT`, `KINESIS_SHUTDOWN_TIMEOUT`, `KINESIS_LOG_BATCHES`, `KINESIS_ORDERED`,
   * `KINESIS_SHARD_AWARE`, `KINESIS_SHARD_CAPACITY`, `KINESIS_SHARD_MAP_REFRESH` and `KINESIS_AGGREGATE`; durations
   * as `50ms`, `2s` or `100 millis`, sizes as `5MiB` or bytes. A bad configuration names every variable at fault.
   */
  static readonly config: Config.Config<KinesisWriter.Options> = Config.schema(
    // Read and checked by the core, in the language of the command line; each problem at its variable's path, so
    // a message names the variable with any prefix the config was nested under.
    Texts.check(Schema.makeFilter((texts) => {
      const read = fromTexts(texts)
      return read._tag === "Read" ?
        undefined :
        read.problems.map(({ message, option }) => ({ path: [variables[option]], issue: message }))
    }))
  ).pipe(Config.map((texts) => (fromTexts(texts) as { readonly input: Settings.Input }).input as KinesisWriter.Options))

  /** The defaults of every option but `stream`. */
  static readonly defaults = internalOptions.defaults
}

/** Types of the `KinesisWriter` service. */
export declare namespace KinesisWriter {
  /**
   * How the writer sends. Only `stream` is required:
   * - `stream`: a stream name, or an ARN (`arn:` prefix), sent as `StreamARN`.
   * - `linger` (100 millis): the longest a record waits for its batch to fill.
   * - `maxBatchRecords` (500), `maxBatchBytes` (5 MiB, at most 10 MiB): bounds of one PutRecords request.
   * - `maxRecordBytes` (1 MiB, at most 10 MiB): data + partition key bytes of one record.
   * - `maxBufferedRecords` (10,000), `maxBufferedBytes` (64 MiB): what the writer holds before `enqueue` waits.
   * - `maxInFlight` (8): PutRecords requests at once.
   * - `retry`: a `Schedule` stepped with each failure of a record; its delay says when to send it again,
   *   its end fails the record. Default: exponential from 100 ms, capped at 1 s, jittered, for 30 s.
   * - `requestTimeout` (10 seconds): a PutRecords request with no answer by then is retried.
   * - `shutdownTimeout` (30 seconds): how long closing may drain.
   * - `logBatches` (false): a Debug line before and after each request.
   * - `ordered` (false): records with the same partition key are stored in the order taken, also across retries.
   * - `shardAware` (true): predict each record's shard from the stream's shard map and pace each shard to its
   *   write limits, adapting to throttling; `false` sends shard-blind.
   * - `shardCapacity` (1): the fraction of each shard's limits this writer aims for, below 1 when other
   *   producers share the stream.
   * - `shardMapRefresh` (1 minute): how often the shard map is reloaded (also at once after resharding).
   * - `aggregate` (false): pack user records of each predicted shard into KPL aggregates; `true`, or
   *   `{ maxBytes (50 KiB), maxRecords (1,000) }`. Needs `shardAware`; not combined with `ordered`.
   */
  export type Options = internalOptions.Options
  /** The writer's operations. */
  export interface Service extends internal.Service {}
  /** Where a stored record went. */
  export type RecordResult = internal.RecordResult
  /** The writer's counters. */
  export type Stats = internal.Stats
  /** One record for `enqueueAll` and `sink`: `{ message, key? }`, as `enqueue` takes them. */
  export type Entry = internal.Entry
}
