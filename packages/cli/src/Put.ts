/**
 * `kinesis-writer put`: newline-delimited records from files or standard input into a stream, through the writer's
 * sink. Reading is pulled by the writer: a chunk of lines is read only once the writer took the one before, so
 * memory stays bounded by the writer's buffer whatever the size of the input.
 *
 * Bad lines are reported with their file and line number and counted; `--strict` stops at the first. Ctrl-C (or
 * SIGTERM) stops the reading and drains what was taken; a second Ctrl-C stops waiting. The summary and the exit
 * status are `Outcome`'s.
 */
import { DescribeStreamSummaryCommand } from "@aws-sdk/client-kinesis"
import { InvalidOptions, Kinesis, KinesisWriter, type RecordFailed } from "@effect-kinesis/writer"
import * as Cause from "effect/Cause"
import * as Data from "effect/Data"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import type * as LogLevel from "effect/LogLevel"
import * as Option from "effect/Option"
import * as References from "effect/References"
import * as Scope from "effect/Scope"
import * as Stream from "effect/Stream"
import * as fs from "node:fs"
import * as Input from "./Input.js"
import * as Lines from "./Lines.js"
import * as Outcome from "./Outcome.js"
import * as Progress from "./Progress.js"
import * as Status from "./Status.js"
import * as Units from "./Units.js"

/** What `put` was asked to do. */
export interface Config {
  /** Files to read in turn; `-` is standard input. None: standard input. */
  readonly inputs: ReadonlyArray<string>
  readonly input: Input.Options
  readonly writer: KinesisWriter.Options
  /** Stop at the first bad line. */
  readonly strict: boolean
  /** No status line (bad lines, warnings and the summary still print). */
  readonly quiet: boolean
  /** Where the status goes (standard error unless a test says otherwise). */
  readonly terminal?: Status.Terminal | undefined
  /**
   * Ends the process after a second Ctrl-C, once the summary is printed (default `process.exit`): the writer, left
   * draining, would otherwise go on sending records the summary already called unconfirmed.
   */
  readonly exit?: ((code: number) => void) | undefined
}

/** An input that could not be read. */
export class ReadFailed extends Data.TaggedError("ReadFailed")<{ readonly input: string; readonly reason: string }> {
  override get message(): string {
    return `cannot read ${this.input}: ${this.reason}`
  }
}

// The first bad line under --strict: where it is and why.
class StrictStop extends Data.TaggedError("StrictStop")<{ readonly where: string; readonly reason: string }> {}

const READ_CHUNK_BYTES = 256 * 1024

const nameOf = (input: string) => (input === "-" ? "stdin" : input)

const reasonOf = (error: unknown): string =>
  error instanceof Error ? ((error as NodeJS.ErrnoException).code ?? error.message) : String(error)

// The bytes of one input, pulled a chunk at a time.
const bytesOf = (input: string): Stream.Stream<Uint8Array, ReadFailed> =>
  Stream.suspend(() =>
    Stream.fromAsyncIterable<Uint8Array, ReadFailed>(
      input === "-" ? process.stdin : fs.createReadStream(input, { highWaterMark: READ_CHUNK_BYTES }),
      (error) => new ReadFailed({ input: nameOf(input), reason: reasonOf(error) })
    )
  )

/** Why an input can not be read, checked before anything is sent; undefined when it looks readable. */
export const checkInput = (input: string): string | undefined => {
  if (input === "-") return undefined
  try {
    const stat = fs.statSync(input)
    if (stat.isDirectory()) return `${input} is a directory`
    fs.accessSync(input, fs.constants.R_OK)
    return undefined
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code
    return code === "ENOENT" ? `${input}: no such file` : `${input}: ${reasonOf(error)}`
  }
}

// Ctrl-C and SIGTERM: the first stops the reading, the next ones stop waiting for the drain.
const listenToSignals = Effect.gen(function*() {
  const first = yield* Deferred.make<"SIGINT" | "SIGTERM">()
  const again = yield* Deferred.make<void>()
  let signalled = false
  const onSignal = (signal: "SIGINT" | "SIGTERM") => () => {
    if (signalled) Deferred.doneUnsafe(again, Exit.void)
    else Deferred.doneUnsafe(first, Exit.succeed(signal))
    signalled = true
  }
  const onInt = onSignal("SIGINT")
  const onTerm = onSignal("SIGTERM")
  yield* Effect.acquireRelease(
    Effect.sync(() => {
      process.on("SIGINT", onInt)
      process.on("SIGTERM", onTerm)
    }),
    () =>
      Effect.sync(() => {
        process.off("SIGINT", onInt)
        process.off("SIGTERM", onTerm)
      })
  )
  return { first, again }
})

// Answers to a first call that every PutRecords would get too: no stream, no credentials, no server.
const hopeless = new Set([
  "ResourceNotFoundException",
  "CredentialsProviderError",
  "UnrecognizedClientException",
  "InvalidSignatureException",
  "ExpiredTokenException",
  "ENOTFOUND",
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EAI_AGAIN"
])

/**
 * Fails with the reason when the stream can not be written at all (it does not exist, there are no valid
 * credentials, the endpoint does not answer); other answers, such as access denied to DescribeStreamSummary, let
 * the run go on.
 */
export const checkStream = (stream: string): Effect.Effect<void, string, Kinesis> =>
  Effect.flatMap(Kinesis, (kinesis) =>
    kinesis.send("DescribeStreamSummary", (client, abortSignal) =>
      client.send(
        new DescribeStreamSummaryCommand(stream.startsWith("arn:") ? { StreamARN: stream } : { StreamName: stream }),
        { abortSignal }
      )).pipe(
        Effect.asVoid,
        Effect.catch((error) => {
          if (/^Region (is missing|not accepted)/.test(error.detail)) {
            return Effect.fail(
              `no AWS region: give --region, set AWS_REGION, or use a profile that has one (${error.detail})`
            )
          }
          if (!hopeless.has(error.code)) return Effect.void
          return Effect.fail(
            error.code === "ResourceNotFoundException" ?
              `stream ${stream} not found: ${error.detail}` :
              `cannot write to stream ${stream}: ${error.message}`
          )
        })
      ))

const messageText = (message: unknown): string =>
  Array.isArray(message) ? message.map(String).join(" ") : String(message)

// Levels as the command has always printed them (`warning:`, not Effect 4's `Warn`).
const levelText = (level: LogLevel.LogLevel): string => (level === "Warn" ? "warning" : level.toLowerCase())

/** Runs `put`; gives its exit status. Everything it says goes to standard error. */
export const run = (config: Config): Effect.Effect<number, never, Kinesis> => {
  const terminal = config.terminal ?? Status.stderr
  // Messages go straight to standard error until the status line exists, then through it.
  let print = (text: string) => terminal.write(`${text}\n`)
  const logger = Logger.make(({ logLevel, message }) =>
    print(`kinesis-writer: ${levelText(logLevel)}: ${messageText(message)}`)
  )
  const inputs = config.inputs.length === 0 ? ["-"] : config.inputs
  const stream = config.writer.stream

  const program = Effect.gen(function*() {
    const started = Date.now()
    const counters: Status.InputCounters = { lines: 0, bad: 0 }
    const outcome = (final: Progress.Snapshot, rest: Partial<Outcome.Outcome>): Outcome.Outcome => ({
      stream,
      inputs,
      elapsedMillis: Date.now() - started,
      final,
      abandoned: 0,
      failures: [],
      ...rest
    })
    const fatal = (message: string) => {
      const result = outcome(Progress.empty(Date.now()), { stop: { _tag: "Fatal", message } })
      return Effect.sync(() => {
        print(`kinesis-writer: ${message}`)
        return Outcome.exitCode(result)
      })
    }

    const unreadable = inputs.map(checkInput).filter((problem) => problem !== undefined)
    if (unreadable.length > 0) return yield* fatal(unreadable.join("; "))
    const missing = yield* Effect.flip(checkStream(stream)).pipe(Effect.option)
    if (Option.isSome(missing)) return yield* fatal(missing.value)

    const signals = yield* listenToSignals
    const source = yield* Status.fromMetrics(stream, counters)
    const writerScope = yield* Scope.make()
    const made = yield* Scope.provide(KinesisWriter.make(config.writer), writerScope).pipe(
      Effect.map(Option.some),
      Effect.catchDefect((defect) =>
        defect instanceof InvalidOptions ?
          Effect.as(Effect.sync(() => print(`kinesis-writer: ${defect.message}`)), Option.none()) :
          Effect.die(defect)
      )
    )
    if (Option.isNone(made)) return Outcome.FAILED
    const writer = made.value
    const display = yield* Status.start(source, terminal, { quiet: config.quiet })
    print = display.print

    const prefix = `${Math.floor(Math.random() * 0x7fffffff).toString(36)}-`
    let keys = 0
    // Distinct keys spread evenly over the shards (MD5); a counter makes them distinct at no cost.
    const randomKey = () => prefix + (keys++).toString(36)
    const tooLong = (length: number) =>
      `the line is ${Units.count(length)} bytes; a record takes at most ${
        Units.count(config.input.maxRecordBytes)
      } (--max-record-bytes)`

    // The records of some lines, and the first bad line that stops the run under --strict.
    const take = (input: string, pieces: ReadonlyArray<Lines.Piece>) => {
      const entries: Array<KinesisWriter.Entry> = []
      for (const piece of pieces) {
        counters.lines++
        const parsed = piece._tag === "TooLong" ?
          { _tag: "Bad" as const, reason: tooLong(piece.length) } :
          Input.parse(config.input, piece.bytes, randomKey)
        if (parsed._tag === "Record") {
          entries.push({ message: parsed.message, key: parsed.key })
        } else if (parsed._tag === "Bad") {
          counters.bad++
          const where = `${nameOf(input)}:${piece.number}`
          print(`${where}: ${parsed.reason}`)
          if (config.strict) return { entries, stop: new StrictStop({ where, reason: parsed.reason }) }
        }
      }
      return { entries, stop: undefined }
    }

    const entriesOf = (input: string): Stream.Stream<KinesisWriter.Entry, ReadFailed | StrictStop> =>
      Stream.suspend(() => {
        const splitter = Lines.make(Input.maxLineBytes(config.input))
        return bytesOf(input).pipe(
          Stream.map((chunk) => Lines.push(splitter, chunk)),
          Stream.concat(Stream.sync(() => Lines.end(splitter))),
          Stream.flatMap((pieces) => {
            const { entries, stop } = take(input, pieces)
            const taken = Stream.fromArray(entries)
            return stop === undefined ? taken : Stream.concat(taken, Stream.fail(stop))
          })
        )
      })

    if (inputs.includes("-") && process.stdin.isTTY === true) {
      print("kinesis-writer: reading standard input (Ctrl-D ends it)")
    }
    const reading = yield* Effect.forkChild(
      Stream.fromIterable(inputs).pipe(Stream.flatMap(entriesOf), Stream.run(writer.sink))
    )
    const ended = yield* Effect.raceFirst(
      Effect.map(Fiber.await(reading), (exit) => ({ _tag: "Read" as const, exit })),
      Effect.map(Deferred.await(signals.first), (signal) => ({ _tag: "Signal" as const, signal }))
    )
    let stop: Outcome.Stop | undefined
    if (ended._tag === "Signal") {
      yield* Fiber.interrupt(reading)
      stop = { _tag: "Signal", signal: ended.signal }
      // Reading has stopped: the writer takes nothing more, so this count is the one the summary gives too.
      const { accepted, bufferedRecords } = yield* writer.stats
      print(
        `kinesis-writer: ${ended.signal === "SIGINT" ? "Ctrl-C" : "SIGTERM"}: reading stopped; draining the ${
          Units.plural(accepted, "record")
        } taken (${Units.count(bufferedRecords)} not yet stored; Ctrl-C again to stop waiting)`
      )
    } else if (Exit.isFailure(ended.exit)) {
      const error = Cause.findErrorOption(ended.exit.cause)
      if (Option.isNone(error)) return yield* Effect.failCause(ended.exit.cause as Cause.Cause<never>)
      stop = error.value._tag === "StrictStop" ?
        { _tag: "Strict", where: error.value.where, reason: error.value.reason } :
        { _tag: "Fatal", message: error.value.message }
    }

    const drained = yield* Effect.raceFirst(
      Effect.map(Effect.result(writer.flush), (result) => ({ _tag: "Flushed" as const, result })),
      Effect.as(Deferred.await(signals.again), { _tag: "Abandoned" as const })
    )
    let failures: ReadonlyArray<RecordFailed> = []
    let unlisted = 0
    let abandoned = 0
    if (drained._tag === "Flushed") {
      if (drained.result._tag === "Failure") {
        failures = drained.result.failure.failures
        unlisted = drained.result.failure.unlisted
      }
    }
    const stats = yield* writer.stats
    if (drained._tag === "Flushed") yield* Scope.close(writerScope, Exit.void)
    else abandoned = stats.bufferedRecords
    // Records taken as the writer counts them: its metrics report them once per request, so they may lag.
    const final = { ...(yield* source), taken: stats.accepted }
    yield* display.stop
    const groups = Outcome.groupFailures(failures)
    if (unlisted > 0) {
      groups.push({ code: "(not listed)", detail: "failures beyond the writer's buffer", count: unlisted })
    }
    const result = outcome(final, { stop, abandoned, failures: groups })
    for (const line of Outcome.summary(result)) print(line)
    if (drained._tag === "Abandoned") (config.exit ?? process.exit)(Outcome.exitCode(result))
    return Outcome.exitCode(result)
  })

  return program.pipe(
    Effect.scoped,
    Effect.provide(Logger.layer([logger])),
    // The writer's batch log is Debug, shown while the minimum is Info; otherwise only warnings and errors.
    Effect.provideService(References.MinimumLogLevel, config.writer.logBatches === true ? "Info" : "Warn"),
    Effect.catchCause((cause) =>
      Effect.sync(() => {
        print(`kinesis-writer: ${Cause.pretty(cause)}`)
        return Outcome.FAILED
      })
    )
  )
}
