/**
 * `kinesis-writer put`: newline-delimited records from files or standard input into a stream, through the writer's
 * sink. Reading is pulled by the writer: a chunk of lines is read only once the writer took the one before, so
 * memory stays bounded by the writer's buffer whatever the size of the input.
 *
 * Bad lines are reported with their file and line number and counted; `--strict` stops at the first. Ctrl-C (or
 * SIGTERM) stops the reading and drains what was taken; a second Ctrl-C stops waiting. The summary and the exit
 * status are `Outcome`'s; a run that ends before the end of its input says the line before which every line is
 * stored, and `--checkpoint` keeps that place in a file for a rerun (`Checkpoint`).
 */
import { DescribeStreamSummaryCommand } from "@aws-sdk/client-kinesis"
import { Settings } from "@effect-kinesis/core"
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
import * as Checkpoint from "./Checkpoint.js"
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
  /** A file that keeps the place before which every line is stored; a run finds it there and goes on from it. */
  readonly checkpoint?: string | undefined
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

// The bytes of one input from byte `start` on, pulled a chunk at a time.
const bytesOf = (input: string, start: number): Stream.Stream<Uint8Array, ReadFailed> =>
  Stream.suspend(() =>
    Stream.fromAsyncIterable<Uint8Array, ReadFailed>(
      input === "-" ? process.stdin : fs.createReadStream(input, { highWaterMark: READ_CHUNK_BYTES, start }),
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
          // An answer that is not Kinesis's is hopeless too, unless it may pass (a proxy's 502 is retried).
          if (!hopeless.has(error.code) && !(error.code === "NotKinesis" && !error.retriable)) return Effect.void
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

// Replaces the checkpoint file; fails with what to tell.
const saveCheckpoint = (file: string, checkpoint: Checkpoint.Checkpoint): Effect.Effect<void, string> =>
  Effect.tryPromise({
    try: () => Checkpoint.save(file, checkpoint),
    catch: (error) => `cannot write checkpoint ${file}: ${error instanceof Error ? error.message : String(error)}`
  })

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
    // Where this run starts: where the checkpoint says an earlier one stopped, once it fits this run's input.
    let from = Checkpoint.start
    let prints: ReadonlyArray<Checkpoint.Print> = []
    let behind = Checkpoint.behindStart() // the hash of the bytes behind the place, moved on with it
    const checkpointFile = config.checkpoint
    if (checkpointFile !== undefined) {
      if (inputs.includes("-")) {
        return yield* fatal("--checkpoint reads files again from where they stopped: standard input can not be")
      }
      prints = inputs.map(Checkpoint.printOf)
      const loaded = Checkpoint.load(checkpointFile, stream, prints)
      if (loaded._tag === "Mismatch") return yield* fatal(loaded.reason)
      if (loaded._tag === "Resume") {
        from = loaded.checkpoint.place
        behind = loaded.behind
        if (Checkpoint.isComplete(loaded.checkpoint)) {
          print(
            `kinesis-writer: every line of ${inputs.length === 1 ? inputs[0] : `the ${inputs.length} inputs`} is ` +
              `already stored in stream ${stream} (${
                Units.plural(Checkpoint.linesBehind(from), "line")
              }, checkpoint ${checkpointFile}): nothing to send`
          )
          return Outcome.OK
        }
      }
      // Written once before anything is sent: a checkpoint that can not be written (a directory that does not
      // exist) is said now, not after the buffer filled and the reading waited for a place that never comes.
      const written = yield* Effect.result(
        saveCheckpoint(checkpointFile, Checkpoint.make(stream, prints, from, new Date(), behind))
      )
      if (written._tag === "Failure") return yield* fatal(written.failure)
    }
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

    // Where each record taken came from, until it is stored.
    const tracker = Checkpoint.track(from)

    // The records of some lines of input `index`, and the first bad line that stops the run under --strict.
    const take = (index: number, linesBefore: number, pieces: ReadonlyArray<Lines.Piece>) => {
      const input = inputs[index]
      const entries: Array<KinesisWriter.Entry> = []
      for (const piece of pieces) {
        counters.lines++
        const place = { input: index, lines: piece.number, offset: piece.end, linesBefore }
        const parsed = piece._tag === "TooLong" ?
          { _tag: "Bad" as const, reason: tooLong(piece.length) } :
          Input.parse(config.input, piece.bytes, randomKey)
        if (parsed._tag === "Record") {
          entries.push({ message: parsed.message, key: parsed.key })
          Checkpoint.record(tracker, place)
        } else if (parsed._tag === "Bad") {
          counters.bad++
          const where = `${nameOf(input)}:${piece.number}`
          print(`${where}: ${parsed.reason}`)
          // Under --strict the bad line is where a rerun starts: it is not behind the place.
          if (config.strict) return { entries, stop: new StrictStop({ where, reason: parsed.reason }) }
          Checkpoint.readTo(tracker, place)
        } else Checkpoint.readTo(tracker, place)
      }
      return { entries, stop: undefined }
    }

    const entriesOf = (index: number): Stream.Stream<KinesisWriter.Entry, ReadFailed | StrictStop> =>
      Stream.suspend(() => {
        // An input starts where the one before ended, or where the checkpoint says.
        const start = index === from.input ? from : { lines: 0, offset: 0 }
        // The place read so far is this input's start: the checkpoint's, or the end of the input before.
        const linesBefore = tracker.read.linesBefore
        const splitter = Lines.make(Input.maxLineBytes(config.input), start)
        return bytesOf(inputs[index], start.offset).pipe(
          Stream.map((chunk) => ({ pieces: Lines.push(splitter, chunk), last: false })),
          Stream.concat(Stream.sync(() => ({ pieces: Lines.end(splitter), last: true }))),
          Stream.flatMap(({ last, pieces }) => {
            const { entries, stop } = take(index, linesBefore, pieces)
            if (last && stop === undefined) {
              Checkpoint.readTo(tracker, {
                input: index + 1,
                lines: 0,
                offset: 0,
                linesBefore: linesBefore + splitter.lines
              })
            }
            const taken = checkpointFile === undefined ? Stream.fromArray(entries) : admitted(entries)
            return stop === undefined ? taken : Stream.concat(taken, Stream.fail(stop))
          })
        )
      })

    // The place before which every line is stored, kept in the checkpoint file when there is one. A write is never
    // cut short: an older place written after a newer one would send lines again on a rerun.
    let saved = from
    let savedRecords = 0 // records behind the place saved
    let saveFailed = false
    let progress = Deferred.makeUnsafe<void>() // told when the place saved moves on
    const failedRecord = Deferred.makeUnsafe<void>()
    const checkpointFailed = Deferred.makeUnsafe<string>()
    const keepStored = Effect.gen(function*() {
      const { failed, storedPrefix } = yield* writer.stats
      // A record failed for good stops the stored prefix there: reading on would only pile up lines to send again.
      if (failed > 0) Deferred.doneUnsafe(failedRecord, Exit.void)
      const place = Checkpoint.storedPlace(tracker, storedPrefix)
      if (checkpointFile === undefined || place === saved) return place
      yield* saveCheckpoint(checkpointFile, Checkpoint.make(stream, prints, place, new Date(), behind))
        .pipe(
          Effect.tap(() =>
            Effect.sync(() => {
              saved = place
              savedRecords = storedPrefix
              const told = progress
              progress = Deferred.makeUnsafe<void>()
              Deferred.doneUnsafe(told, Exit.void)
            })
          ),
          Effect.catch((message) =>
            Effect.sync(() => {
              // The reading stops: the place saved can no longer move, so the reading would wait for it for ever
              // once the buffer is full, and a crash would send again everything after it. The records taken still
              // go; the place saved last stays true, and a rerun goes on from it.
              if (!saveFailed) print(`kinesis-writer: ${message}`)
              saveFailed = true
              Deferred.doneUnsafe(checkpointFailed, Exit.succeed(message))
            })
          ),
          Effect.uninterruptible
        )
      return place
    })
    const keeper = yield* Effect.forkChild(
      Effect.forever(
        Effect.andThen(Effect.sleep(checkpointFile === undefined ? "200 millis" : "25 millis"), keepStored)
      )
    )

    // With a checkpoint, the records handed to the writer and not yet behind the place saved stay within the
    // writer's buffer: a crash then sends again at most that many lines. They go in slices, so that a chunk of
    // lines larger than the buffer still fits.
    const maxAhead = config.writer.maxBufferedRecords ?? Settings.defaults.maxBufferedRecords
    const slice = Math.max(1, Math.floor(maxAhead / 4))
    let handed = 0
    const admit = (count: number): Effect.Effect<void> =>
      Effect.suspend(() => {
        if (handed - savedRecords + count <= maxAhead || handed === savedRecords) {
          handed += count
          return Effect.void
        }
        return Effect.andThen(Deferred.await(progress), admit(count))
      })
    const admitted = (entries: ReadonlyArray<KinesisWriter.Entry>): Stream.Stream<KinesisWriter.Entry> =>
      entries.length === 0 ? Stream.empty : Stream.range(0, Math.ceil(entries.length / slice) - 1).pipe(
        Stream.mapEffect((i) => {
          const part = entries.slice(i * slice, (i + 1) * slice)
          return Effect.as(admit(part.length), part)
        }),
        Stream.flatMap((part) => Stream.fromArray(part))
      )

    if (inputs.includes("-") && process.stdin.isTTY === true) {
      print("kinesis-writer: reading standard input (Ctrl-D ends it)")
    }
    const reading = yield* Effect.forkChild(
      Stream.range(from.input, inputs.length - 1).pipe(Stream.flatMap(entriesOf), Stream.run(writer.sink))
    )
    const ended = yield* Effect.raceAll([
      Effect.map(Fiber.await(reading), (exit) => ({ _tag: "Read" as const, exit })),
      Effect.map(Deferred.await(signals.first), (signal) => ({ _tag: "Signal" as const, signal })),
      Effect.as(Deferred.await(failedRecord), { _tag: "Failed" as const }),
      Effect.map(Deferred.await(checkpointFailed), (message) => ({ _tag: "Unsaved" as const, message }))
    ])
    let stop: Outcome.Stop | undefined
    if (ended._tag === "Failed") {
      yield* Fiber.interrupt(reading)
      stop = { _tag: "Failed" }
    } else if (ended._tag === "Unsaved") {
      yield* Fiber.interrupt(reading)
      stop = { _tag: "Fatal", message: `${ended.message}: reading stopped, and what was taken was drained` }
    } else if (ended._tag === "Signal") {
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
    yield* Fiber.interrupt(keeper)
    const storedUpTo = yield* keepStored
    if (drained._tag === "Flushed") yield* Scope.close(writerScope, Exit.void)
    else abandoned = stats.bufferedRecords
    // Records taken as the writer counts them: its metrics report them once per request, so they may lag.
    const final = { ...(yield* source), taken: stats.accepted }
    yield* display.stop
    const groups = Outcome.groupFailures(failures)
    if (unlisted > 0) {
      groups.push({ code: "(not listed)", detail: "failures beyond the writer's buffer", count: unlisted })
    }
    const result = outcome(final, {
      stop,
      abandoned,
      failures: groups,
      checkpoint: checkpointFile,
      skipped: Checkpoint.linesBehind(from),
      resume: storedUpTo.input < inputs.length ?
        { input: inputs[storedUpTo.input], line: storedUpTo.lines + 1, more: inputs.length - storedUpTo.input - 1 } :
        undefined
    })
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
