/**
 * The `kinesis-writer` command line: `put`, `get` and `local`, their options and their help, and how the options
 * become a Kinesis client, writer options and the programs' configurations.
 */
import { Record } from "@effect-kinesis/core"
import { Kinesis, type KinesisClientConfig, type Retry } from "@effect-kinesis/writer"
import { Argument, CliConfig, CliError, CliOutput, Command, Flag, GlobalFlag } from "effect/cli"
import * as Console from "effect/Console"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Option from "effect/Option"
import * as Result from "effect/Result"
import * as Schedule from "effect/Schedule"
import * as Get from "./Get.js"
import * as Help from "./Help.js"
import * as Input from "./Input.js"
import * as Local from "./Local.js"
import * as Outcome from "./Outcome.js"
import * as Output from "./Output.js"
import * as Put from "./Put.js"
import * as Units from "./Units.js"

const parsed = (name: string, parse: (text: string) => Result.Result<number, string>) => (text: string) =>
  Result.match(parse(text), {
    onFailure: (reason) => Effect.fail(new CliError.ValidationError({ message: `--${name}: ${reason}` })),
    onSuccess: Effect.succeed
  })

const duration = (name: string, description: string) =>
  Flag.String(name).pipe(
    Flag.withMetavar("DURATION"),
    Flag.withDescription(description),
    Flag.mapEffect(parsed(name, Units.parseDuration)),
    Flag.optional
  )

const size = (name: string, description: string) =>
  Flag.String(name).pipe(
    Flag.withMetavar("SIZE"),
    Flag.withDescription(description),
    Flag.mapEffect(parsed(name, Units.parseSize)),
    Flag.optional
  )

const integer = (name: string, description: string) =>
  Flag.Int(name).pipe(Flag.withMetavar("N"), Flag.withDescription(description), Flag.optional)

// A switch: present or not. effect/cli would also read `--no-NAME` as its opposite, which no switch here needs.
const flag = (name: string, description: string) =>
  Flag.Boolean(name).pipe(Flag.withoutNegation, Flag.withDescription(description), Flag.withDefault(false))

const stream = Flag.String("stream").pipe(
  Flag.withAlias("s"),
  Flag.withMetavar("NAME|ARN"),
  Flag.withDescription("The stream: its name, or its ARN (arn:aws:kinesis:REGION:ACCOUNT:stream/NAME).")
)

const connection = {
  region: Flag.String("region").pipe(
    Flag.withMetavar("REGION"),
    Flag.withDescription("The AWS region (default: AWS_REGION, or the profile's region)."),
    Flag.optional
  ),
  endpoint: Flag.String("endpoint").pipe(
    Flag.withMetavar("URL"),
    Flag.withDescription(
      "A Kinesis endpoint of your own: LocalStack, kinesis-mock, effect-kinesis-local (http:// as HTTP/1.1)."
    ),
    Flag.optional
  ),
  profile: Flag.String("profile").pipe(
    Flag.withMetavar("NAME"),
    Flag.withDescription(
      "A profile of ~/.aws/config and ~/.aws/credentials (default: AWS_PROFILE, then the SDK's default " +
        "credential chain: environment, SSO, web identity, container and instance roles)."
    ),
    Flag.optional
  ),
  local: flag(
    "local",
    "Use the embedded Kinesis (kinesalite with AWS's per-shard limits) running in the background on 127.0.0.1, " +
      "started if needed; put creates the stream if it is missing. No AWS account needed."
  )
}

type ConnectionFlags = {
  readonly region: Option.Option<string>
  readonly endpoint: Option.Option<string>
  readonly profile: Option.Option<string>
  readonly local: boolean
}

class UsageError extends Error {}

const usage = (message: string) => Effect.fail(new UsageError(message))

// The Kinesis client the flags ask for; with --local, the embedded one's (started first when `start`).
const kinesisLayer = (flags: ConnectionFlags, start: boolean) => {
  if (flags.local) {
    if (Option.isSome(flags.endpoint) || Option.isSome(flags.region) || Option.isSome(flags.profile)) {
      return usage("--local uses the embedded Kinesis: leave out --endpoint, --region and --profile")
    }
    return Effect.map(start ? Local.ensure() : Local.running, (server) => ({
      layer: Kinesis.layer(Local.clientConfig(server)),
      server: Option.some(server)
    }))
  }
  const config: KinesisClientConfig = {
    ...Option.match(flags.region, { onNone: () => ({}), onSome: (region) => ({ region }) }),
    ...Option.match(flags.endpoint, { onNone: () => ({}), onSome: (endpoint) => ({ endpoint }) }),
    ...Option.match(flags.profile, { onNone: () => ({}), onSome: (profile) => ({ profile }) })
  }
  return Effect.succeed({ layer: Kinesis.layer(config), server: Option.none<Local.Server>() })
}

const optionalField = <K extends string, A>(key: K, value: Option.Option<A>): { [P in K]?: A } =>
  Option.match(value, { onNone: () => ({}), onSome: (a) => ({ [key]: a }) as { [P in K]?: A } })

// Runs a program and makes its status the process's; usage mistakes and setup failures exit 2.
const exitWith = <E>(program: Effect.Effect<number, E>) =>
  program.pipe(
    Effect.catch((error) =>
      Effect.sync(() => {
        process.stderr.write(`kinesis-writer: ${error instanceof Error ? error.message : String(error)}\n`)
        return Outcome.FAILED
      })
    ),
    Effect.flatMap((code) =>
      Effect.sync(() => {
        process.exitCode = code
      })
    )
  )

const writerOptions = {
  linger: duration("linger", "Longest time a record waits for its batch to fill (default 100ms)."),
  maxBatchRecords: integer("max-batch-records", "Records per PutRecords request, 1 to 500 (default 500)."),
  maxBatchBytes: size("max-batch-bytes", "Bytes per PutRecords request, data + keys (default 5MiB, at most 10MiB)."),
  maxRecordBytes: size(
    "max-record-bytes",
    "Data + partition key bytes of one record (default 1MiB; up to 10MiB for streams raised to it). Longer lines " +
      "are bad lines."
  ),
  maxBufferedRecords: integer(
    "max-buffered-records",
    "Records held (waiting, retrying, in flight) before reading pauses (default 10000)."
  ),
  maxBufferedBytes: size("max-buffered-bytes", "Bytes held before reading pauses (default 64MiB)."),
  maxInFlight: integer("max-in-flight", "PutRecords requests at once (default 8)."),
  requestTimeout: duration("request-timeout", "A request with no answer by then is retried (default 10s)."),
  shutdownTimeout: duration("shutdown-timeout", "How long the final drain may take (default 30s)."),
  recordTtl: duration(
    "record-ttl",
    "How long a record is retried after its first failure before it fails (default 30s)."
  ),
  logBatches: flag("log-batches", "Log a line before and after each PutRecords request."),
  ordered: flag(
    "ordered",
    "Records with the same partition key are stored in the order read, also across retries (slower per key)."
  ),
  shardBlind: flag(
    "no-shard-aware",
    "Do not read the shard map nor pace each shard to its limits (shardAware: false)."
  ),
  shardCapacity: Flag.Finite("shard-capacity").pipe(
    Flag.withMetavar("FRACTION"),
    Flag.withDescription(
      "The fraction (0 to 1) of each shard's write limits to aim for, below 1 when other producers share the " +
        "stream (default 1)."
    ),
    Flag.optional
  ),
  shardMapRefresh: duration("shard-map-refresh", "How often the shard map is read again (default 1m)."),
  aggregate: flag(
    "aggregate",
    "Pack records into KPL aggregated records, many to a Kinesis record, per shard (the KCL and get unpack " +
      "them); not with --ordered."
  )
}

const put = Command.make(
  "put",
  {
    stream,
    ...connection,
    files: Argument.String("FILE").pipe(
      Argument.withDescription("Files of newline-delimited records, read in turn; - is standard input (the default)."),
      Argument.variadic()
    ),
    format: Flag.Literals("format", Input.formats).pipe(
      Flag.withMetavar(Input.formats.join(" | ")),
      Flag.withDescription(
        "json: each line must be valid JSON and is sent as written; text: each line as it is; base64: each line " +
          "is the base64 of the record's bytes. Default: json."
      ),
      Flag.withDefault("json" as const)
    ),
    key: Flag.String("key").pipe(
      Flag.withMetavar("KEY"),
      Flag.withDescription("One partition key for every record."),
      Flag.optional
    ),
    keyField: Flag.String("key-field").pipe(
      Flag.withMetavar("PATH"),
      Flag.withDescription(
        "The JSON field holding each record's partition key, a dotted path such as user.id (--format json). " +
          "Without --key or --key-field: a random key per record, spreading records evenly over the shards."
      ),
      Flag.optional
    ),
    explicitHashKeyField: Flag.String("explicit-hash-key-field").pipe(
      Flag.withMetavar("PATH"),
      Flag.withDescription(
        "The JSON field holding each record's explicit hash key (a decimal string, 0 to 2^128 - 1), which " +
          "chooses the shard directly (--format json)."
      ),
      Flag.optional
    ),
    strict: flag("strict", "Stop at the first bad line (what was read before it is still sent)."),
    checkpoint: Flag.String("checkpoint").pipe(
      Flag.withMetavar("FILE"),
      Flag.withDescription(
        "Keep in FILE the line before which every line is stored: the same command, run again after Ctrl-C, a " +
          "crash or kill -9, goes on from there (files only, not standard input)."
      ),
      Flag.optional
    ),
    quiet: flag("quiet", "No progress line; bad lines, warnings and the summary still print."),
    shards: Flag.Int("shards").pipe(
      Flag.withMetavar("N"),
      Flag.withDescription("With --local: the shards of the stream when put creates it (default 4)."),
      Flag.withDefault(4)
    ),
    ...writerOptions
  },
  (flags) =>
    exitWith(Effect.gen(function*() {
      if (Option.isSome(flags.key) && Option.isSome(flags.keyField)) {
        return yield* usage("--key and --key-field: give one or the other")
      }
      if (flags.format !== "json" && (Option.isSome(flags.keyField) || Option.isSome(flags.explicitHashKeyField))) {
        return yield* usage("--key-field and --explicit-hash-key-field read JSON: they need --format json")
      }
      for (const field of [flags.keyField, flags.explicitHashKeyField]) {
        const problem = Option.isSome(field) ? Input.checkFieldPath(field.value) : undefined
        if (problem !== undefined) return yield* usage(problem)
      }
      if (Option.isSome(flags.key)) {
        const problem = Record.checkPartitionKey(flags.key.value)
        if (problem !== undefined) return yield* usage(`--key: ${problem}`)
      }
      const unreadable = flags.files.map(Put.checkInput).filter((problem) => problem !== undefined)
      if (unreadable.length > 0) return yield* usage(unreadable.join("; "))
      const { layer, server } = yield* kinesisLayer(flags, true)
      const maxRecordBytes = Option.getOrElse(flags.maxRecordBytes, () => Record.DEFAULT_MAX_RECORD_BYTES)
      const config: Put.Config = {
        inputs: flags.files,
        input: {
          format: flags.format,
          key: Option.getOrUndefined(flags.key),
          keyField: Option.getOrUndefined(Option.map(flags.keyField, Input.fieldPath)),
          explicitHashKeyField: Option.getOrUndefined(Option.map(flags.explicitHashKeyField, Input.fieldPath)),
          maxRecordBytes
        },
        writer: {
          stream: flags.stream,
          maxRecordBytes,
          ...optionalField("linger", flags.linger),
          ...optionalField("maxBatchRecords", flags.maxBatchRecords),
          ...optionalField("maxBatchBytes", flags.maxBatchBytes),
          ...optionalField("maxBufferedRecords", flags.maxBufferedRecords),
          ...optionalField("maxBufferedBytes", flags.maxBufferedBytes),
          ...optionalField("maxInFlight", flags.maxInFlight),
          ...optionalField("requestTimeout", flags.requestTimeout),
          ...optionalField("shutdownTimeout", flags.shutdownTimeout),
          ...optionalField("shardCapacity", flags.shardCapacity),
          ...optionalField("shardMapRefresh", flags.shardMapRefresh),
          ...optionalField(
            "retry",
            Option.map(flags.recordTtl, (ttl) => recordTtl(ttl))
          ),
          logBatches: flags.logBatches,
          ordered: flags.ordered,
          aggregate: flags.aggregate,
          shardAware: !flags.shardBlind
        },
        strict: flags.strict,
        quiet: flags.quiet,
        checkpoint: Option.getOrUndefined(flags.checkpoint)
      }
      return yield* Effect.gen(function*() {
        if (Option.isSome(server)) {
          const created = yield* Local.createStream(flags.stream, flags.shards)
          if (created) {
            process.stderr.write(
              `kinesis-writer: created stream ${flags.stream} with ${Units.plural(flags.shards, "shard")} in the ` +
                `embedded Kinesis at ${server.value.endpoint} (it stops after ${
                  Units.span(server.value.idleMillis)
                } without requests, or on kinesis-writer local stop)\n`
            )
          }
        }
        return yield* Put.run(config)
      }).pipe(Effect.provide(layer))
    }))
).pipe(Command.withDescription(
  "Reads newline-delimited records from files or standard input and writes them to a Kinesis stream, with " +
    "batching, retries and per-shard pacing. Progress goes to standard error (redrawn in place on a terminal), then " +
    "a summary. Bad lines (invalid JSON, a missing key field, too large) are reported as FILE:LINE and skipped. " +
    "Ctrl-C stops reading and drains what was taken; a second Ctrl-C stops waiting. The summary of a run that " +
    "stopped early says the line to resume from; with --checkpoint FILE a rerun starts there by itself. Exit " +
    "status: 0 every line was stored; 1 bad lines were skipped (every good one stored); 2 records were not stored, " +
    "or the run could not start; 130 (143 for SIGTERM) interrupted, every record taken stored."
))

// The default retry schedule, given up `ttl` after a record's first failure.
const recordTtl = (millis: number): Schedule.Schedule<unknown, Retry.RetryInput> =>
  Schedule.exponential("100 millis", 2).pipe(
    Schedule.modifyDelay(({ duration }) => Effect.succeed(Duration.min(duration, Duration.seconds(1)))),
    Schedule.jittered,
    Schedule.upTo({ duration: Duration.millis(millis) })
  )

const get = Command.make(
  "get",
  {
    stream,
    ...connection,
    from: Flag.Literals("from", Get.froms).pipe(
      Flag.withMetavar(Get.froms.join(" | ")),
      Flag.withDescription(
        "Where to start in each shard: its oldest record, new records only (with --follow), or the first record " +
          "that arrived at --timestamp or later. Default: trim-horizon."
      ),
      Flag.withDefault("trim-horizon" as const)
    ),
    timestamp: Flag.Date("timestamp").pipe(
      Flag.withMetavar("DATE"),
      Flag.withDescription("With --from at-timestamp: an ISO 8601 date and time, such as 2025-01-31T12:00:00Z."),
      Flag.optional
    ),
    limit: Flag.Int("limit").pipe(
      Flag.withMetavar("N"),
      Flag.withDescription("Stop after N records."),
      Flag.optional
    ),
    follow: flag("follow", "Keep reading new records as they arrive (and new shards), until Ctrl-C or --limit."),
    format: Flag.Literals("format", Output.formats).pipe(
      Flag.withMetavar(Output.formats.join(" | ")),
      Flag.withDescription(
        "text: each record's data as UTF-8; base64: its bytes in base64; json: {shardId, sequenceNumber, " +
          "subSequenceNumber (inside an aggregate), partitionKey, explicitHashKey, arrivalTime, data (UTF-8) or " +
          "base64}. Default: text."
      ),
      Flag.withDefault("text" as const)
    )
  },
  (flags) =>
    exitWith(Effect.gen(function*() {
      if (flags.from === "at-timestamp" && Option.isNone(flags.timestamp)) {
        return yield* usage("--from at-timestamp needs --timestamp")
      }
      if (flags.from !== "at-timestamp" && Option.isSome(flags.timestamp)) {
        return yield* usage("--timestamp goes with --from at-timestamp")
      }
      const { layer, server } = yield* kinesisLayer(flags, false)
      return yield* Get.run({
        embedded: Option.isSome(server),
        stream: flags.stream,
        from: flags.from,
        timestamp: Option.getOrUndefined(flags.timestamp),
        limit: Option.getOrUndefined(flags.limit),
        follow: flags.follow,
        format: flags.format
      }).pipe(Effect.provide(layer))
    }))
).pipe(Command.withDescription(
  "Reads a stream's records back, one line each, aggregated records unpacked: shard after shard (parents before " +
    "children), until every shard is read to its end, or with --follow until Ctrl-C. Exit status: 0, or 2 when " +
    "the stream can not be read."
))

const start = Command.make(
  "start",
  {
    idle: Flag.String("idle").pipe(
      Flag.withMetavar("DURATION"),
      Flag.withDescription("Stop after this long without a request (default 30m)."),
      Flag.mapEffect(parsed("idle", Units.parseDuration)),
      Flag.withDefault(Local.DEFAULT_IDLE_MILLIS)
    )
  },
  ({ idle }) =>
    exitWith(Effect.map(Local.ensure(idle), (server) => {
      process.stdout.write(`${JSON.stringify(server)}\n`)
      return Outcome.OK
    }))
).pipe(Command.withDescription(
  "Starts the embedded Kinesis of --local in the background (if it is not running) and prints its endpoint, pid " +
    "and region as JSON, for other tools (--endpoint)."
))

const stop = Command.make("stop", {}, () =>
  exitWith(Effect.map(Local.stop, (stopped) => {
    process.stderr.write(
      stopped ? "kinesis-writer: stopped the embedded Kinesis\n" : "kinesis-writer: no embedded Kinesis was running\n"
    )
    return Outcome.OK
  }))).pipe(Command.withDescription("Stops the embedded Kinesis of --local; its streams are gone with it."))

const status = Command.make("status", {}, () =>
  exitWith(Effect.map(Local.find, (found) => {
    process.stdout.write(
      Option.match(found, { onNone: () => "not running\n", onSome: (s) => `${JSON.stringify(s)}\n` })
    )
    return Option.isSome(found) ? Outcome.OK : 3
  }))).pipe(Command.withDescription("Prints the embedded Kinesis as JSON, or `not running` (exit 3)."))

const local = Command.make("local").pipe(
  Command.withDescription(
    "The embedded Kinesis that --local uses: a background process on 127.0.0.1, with AWS's per-shard limits, in " +
      `memory; it stops after 30 minutes without requests. Its state and log are in $KINESIS_WRITER_HOME (default ` +
      "<tmpdir>/kinesis-writer-<uid>)."
  ),
  Command.withSubcommands([start, stop, status])
)

/** The whole command line. */
export const command = Command.make("kinesis-writer").pipe(
  Command.withDescription(
    "Pipes newline-delimited records into an Amazon Kinesis data stream, and reads them back. Built on " +
      "@effect-kinesis/writer: batches that respect every Kinesis limit, retries, per-shard pacing, bounded memory."
  ),
  Command.withSubcommands([put, get, local])
)

// Help and refusals as `Help` writes them: the root's own page, each command's options one a line, and a refused
// command line told on standard error without the whole page.
const presenter = (version: string): CliOutput.Presenter => ({
  present: (event) => {
    switch (event._tag) {
      case "Help":
        return Console.log(
          event.commandPath.length <= 1 ?
            Help.root(version, Help.styleFor(process.stdout)) :
            Help.command(event.helpDoc, Help.styleFor(process.stdout))
        )
      case "InvalidInvocation":
        return Console.error(Help.refusal(event.errors, event.commandPath))
      case "Version":
        return Console.log(version)
    }
  }
})

/** The exit status of a command line that effect/cli refused (2), or answered with help alone (0). */
export const refusedStatus = (error: CliError.CliError): number =>
  error._tag === "ShowHelp" && error.errors.length === 0 ? Outcome.OK : Outcome.FAILED

/**
 * Runs the command line on the process's arguments. The commands set the exit status; a command line effect/cli
 * refused (an unknown option, a missing or bad value) fails with its `CliError`, already told on standard error.
 * Only --help and --version are built in: no wizard, completions or log level.
 */
export const run = (version: string) =>
  Command.run(command, { version }).pipe(
    Effect.provideService(CliConfig.CliConfig, CliConfig.make({ builtIns: [GlobalFlag.Help, GlobalFlag.Version] })),
    Effect.provideService(CliOutput.Presenter, presenter(version))
  )
