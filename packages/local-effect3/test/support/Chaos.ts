/**
 * Shared by the quick reliability tests and the long runs: numbered records, a tally of what a stream holds,
 * captured logs, a resident-memory sampler, and the chaos run (a writer against a fault plan, read back).
 */
import { type KinesisProxy, LocalKinesis, type StoredRecord } from "@effect-kinesis/local-effect3"
import { type DeliveryFailed, KinesisWriter, type RecordFailed } from "@effect-kinesis/writer-effect3"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Logger from "effect/Logger"
import * as Schedule from "effect/Schedule"

const decoder = new TextDecoder()

/** A record's text: its number, a colon, then padding up to `bytes` bytes in all. */
export const message = (id: number, bytes = 0): string => {
  const head = `${id}:`
  return head + "x".repeat(Math.max(0, bytes - head.length))
}

/** The number a record was written with. */
export const idOf = (data: Uint8Array): number => {
  const text = decoder.decode(data.subarray(0, 24))
  return Number(text.slice(0, text.indexOf(":")))
}

/** What a stream holds compared with what was written to it. */
export interface Tally {
  /** Records in the stream, copies included. */
  readonly stored: number
  /** Distinct records in the stream. */
  readonly distinct: number
  /** Copies beyond the first. */
  readonly duplicates: number
  /** Written records that are not in the stream. */
  readonly missing: ReadonlyArray<number>
  /** Records in the stream that nobody wrote. */
  readonly unexpected: number
  /** The numbers in the stream. */
  readonly ids: ReadonlySet<number>
}

/** Compares what a stream holds with the numbers written to it. */
export const tally = (records: ReadonlyArray<StoredRecord>, written: Iterable<number>): Tally => {
  const expected = new Set(written)
  const ids = new Set<number>()
  let unexpected = 0
  for (const record of records) {
    const id = idOf(record.data)
    if (!expected.has(id)) unexpected++
    ids.add(id)
  }
  const missing = [...expected].filter((id) => !ids.has(id))
  return { stored: records.length, distinct: ids.size, duplicates: records.length - ids.size, missing, unexpected, ids }
}

/** A logger that keeps every line, in place of the default one (so that large runs do not flood the console). */
export const captureLogs = () => {
  const lines: Array<{ readonly level: string; readonly message: string }> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push({ level: logLevel.label, message: Array.isArray(message) ? message.join(" ") : String(message) })
  })
  return { lines, layer: Logger.replace(Logger.defaultLogger, logger) }
}

/** The number of records the writer's warnings say it gave up on ("N record(s) not stored ..."). */
export const loggedFailures = (lines: ReadonlyArray<{ readonly level: string; readonly message: string }>): number =>
  lines
    .filter((line) => line.level === "WARN")
    .map((line) => /^(\d+) record\(s\) not stored/.exec(line.message))
    .reduce((sum, match) => sum + (match === null ? 0 : Number(match[1])), 0)

/**
 * Samples this process's resident memory every `every` until interrupted: `peak` is the highest seen, and
 * `timeline` the highest of each second since the start.
 */
export const sampleMemory = (every: Duration.DurationInput = "50 millis") =>
  Effect.gen(function*() {
    const started = Date.now()
    const state = { peak: process.memoryUsage.rss(), samples: 0, timeline: [] as Array<number> }
    const fiber = yield* Effect.sync(() => {
      const rss = process.memoryUsage.rss()
      const second = Math.floor((Date.now() - started) / 1000)
      state.peak = Math.max(state.peak, rss)
      state.timeline[second] = Math.max(state.timeline[second] ?? 0, rss)
      state.samples++
    }).pipe(Effect.repeat(Schedule.spaced(every)), Effect.forkScoped)
    return { state, stop: Fiber.interrupt(fiber) }
  })

/**
 * Heap and array-buffer memory that survives collection. V8 frees array buffers' stores on a background thread after
 * a collection, so a reading taken right after `gc()` can still count garbage (on a busy machine, tens of MiB):
 * collect, let the sweeper run, and keep the lowest of a few readings. Needs `--expose-gc`.
 */
export const retainedMemory = Effect.gen(function*() {
  let lowest: NodeJS.MemoryUsage | undefined
  for (let reading = 0; reading < 5; reading++) {
    globalThis.gc?.()
    yield* Effect.sleep("100 millis")
    const usage = process.memoryUsage()
    if (lowest === undefined || retained(usage) < retained(lowest)) lowest = usage
  }
  return lowest!
})

/** What a process retains of its memory usage: heap in use and array buffers (records' bytes live there). */
export const retained = (usage: NodeJS.MemoryUsage): number => usage.heapUsed + usage.arrayBuffers

/** Bytes as MiB, one decimal. */
export const mib = (bytes: number): number => Math.round((bytes / 1024 / 1024) * 10) / 10

/** A retry schedule that keeps quick tests quick: 10 ms doubling up to 200 ms, for up to `within`. */
export const quickRetry = (within: Duration.DurationInput = "20 seconds") =>
  Schedule.exponential("10 millis").pipe(
    Schedule.modifyDelay((delay) => Duration.min(delay, Duration.millis(200))),
    Schedule.jittered,
    Schedule.upTo(within)
  )

/** What a chaos run is. */
export interface ChaosOptions {
  readonly records: number
  readonly shards: number
  readonly plan: KinesisProxy.FaultPlan
  readonly limits?: boolean | KinesisProxy.Limits | undefined
  /** Fibers enqueuing at once; the records are dealt out among them. */
  readonly producers?: number | undefined
  /** Bytes of each record's data. */
  readonly recordBytes?: number | undefined
  readonly writer?: Omit<KinesisWriter.Options, "stream"> | undefined
}

/** What a chaos run measured. */
export interface ChaosFigures {
  readonly offered: number
  readonly tally: Tally
  readonly flush: Either.Either<void, DeliveryFailed>
  readonly failedReported: ReadonlyArray<RecordFailed>
  readonly loggedFailures: number
  readonly stats: KinesisWriter.Stats
  readonly counters: KinesisProxy.Counters
  readonly elapsedMillis: number
  readonly peakRss: number
}

/**
 * Writes `records` numbered records with `enqueue` from a few fibers, through the proxy with `plan` in force,
 * then flushes, closes the writer and reads the whole stream back.
 */
export const chaos = (options: ChaosOptions): Effect.Effect<ChaosFigures, unknown> => {
  const logs = captureLogs()
  return Effect.gen(function*() {
    const local = yield* LocalKinesis
    const memory = yield* sampleMemory()
    const started = Date.now()
    const producers = options.producers ?? 4
    const run = Effect.gen(function*() {
      const writer = yield* KinesisWriter.make({ stream: "chaos", ...options.writer })
      yield* Effect.forEach(
        Array.from({ length: producers }, (_, p) => p),
        (p) =>
          Effect.gen(function*() {
            for (let id = p; id < options.records; id += producers) {
              yield* writer.enqueue(message(id, options.recordBytes ?? 64))
            }
          }),
        { concurrency: "unbounded", discard: true }
      )
      const flush = yield* Effect.either(writer.flush)
      return { flush, writer }
    }).pipe(Effect.scoped)
    const { flush, writer } = yield* run
    const elapsedMillis = Date.now() - started
    yield* memory.stop
    const stats = yield* writer.stats
    const stored = yield* local.readAll("chaos")
    return {
      offered: options.records,
      tally: tally(stored, Array.from({ length: options.records }, (_, i) => i)),
      flush,
      failedReported: Either.isLeft(flush) ? flush.left.failures : [],
      loggedFailures: loggedFailures(logs.lines),
      stats,
      counters: yield* local.proxy.counters,
      elapsedMillis,
      peakRss: memory.state.peak
    }
  }).pipe(
    Effect.scoped,
    Effect.provide(
      LocalKinesis.layer({ streams: { chaos: options.shards }, limits: options.limits, faults: options.plan })
    ),
    Effect.provide(logs.layer)
  )
}

/** One row of the figures table in docs/reliability.md. */
export interface FiguresRow {
  readonly run: string
  readonly offered: number
  readonly distinct: number
  readonly duplicates: number
  readonly failedReported: number
  readonly lost: number
  readonly peakRss: string
  readonly seconds: number
}

/** Prints figure rows as a Markdown table, ready to paste. */
export const printFigures = (rows: ReadonlyArray<FiguresRow>): void => {
  const cells = (values: ReadonlyArray<string>) => `| ${values.join(" | ")} |`
  const header = cells([
    "run",
    "records offered",
    "stored (distinct)",
    "duplicates",
    "failed and reported",
    "lost",
    "peak memory (RSS)",
    "time"
  ])
  const count = (n: number) => n.toLocaleString("en")
  const lines = rows.map((row) =>
    cells([
      row.run,
      count(row.offered),
      count(row.distinct),
      count(row.duplicates),
      count(row.failedReported),
      count(row.lost),
      row.peakRss,
      `${row.seconds.toFixed(1)} s`
    ])
  )
  process.stdout.write(`\n${[header, "|---|---:|---:|---:|---:|---:|---|---:|", ...lines].join("\n")}\n\n`)
}
