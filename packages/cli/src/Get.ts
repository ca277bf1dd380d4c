/**
 * `kinesis-writer get`: reads a stream back, one line per user record (aggregated records are unpacked, as the KCL
 * does), shard after shard with parents before their children. Without `--follow` it stops once every shard is
 * read to its end; with it, it polls for new records (and new shards) until Ctrl-C or `--limit`.
 */
import { StreamReader } from "@effect-kinesis/local-server"
import { Kinesis, Retry } from "@effect-kinesis/writer"
import * as Effect from "effect/Effect"
import type { Writable } from "node:stream"
import * as Output from "./Output.js"

/** Where reading starts in each shard that exists when `get` starts. */
export type From = "trim-horizon" | "latest" | "at-timestamp"

/** Every starting point, for the command line. */
export const froms: ReadonlyArray<From> = ["trim-horizon", "latest", "at-timestamp"]

/** What `get` was asked to do. */
export interface Config {
  readonly stream: string
  readonly from: From
  /** With `at-timestamp`: the first arrival time to read. */
  readonly timestamp?: Date | undefined
  /** Stop after this many user records. */
  readonly limit?: number | undefined
  /** Keep polling for new records instead of stopping at the end. */
  readonly follow: boolean
  readonly format: Output.Format
  /** Where records go (standard output unless a test says otherwise). */
  readonly out?: Writable | undefined
  /** Where warnings go (standard error unless a test says otherwise). */
  readonly err?: ((text: string) => void) | undefined
  /**
   * The stream is in the embedded Kinesis: `at-timestamp` reads from the trim horizon and skips older records here,
   * since kinesalite never answers GetShardIterator AT_TIMESTAMP for a shard with no record that recent.
   */
  readonly embedded?: boolean | undefined
}

// Throttling of reads (5 a second per shard) and other passing failures are waited out this long.
const RETRY_FOR_MILLIS = 30_000

/** Runs `get`; gives its exit status (0, or 2 when the stream can not be read). */
export const run = (config: Config): Effect.Effect<number, never, Kinesis> => {
  const out = config.out ?? process.stdout
  const warn = config.err ?? ((text: string) => process.stderr.write(`${text}\n`))
  const write = (text: string) =>
    Effect.callback<void>((resume) => {
      if (out.write(text)) resume(Effect.void)
      else out.once("drain", () => resume(Effect.void))
    })

  return Effect.gen(function*() {
    const kinesis = yield* Kinesis
    // Stops the reader when `get` ends or is interrupted (Ctrl-C).
    const stop = yield* Effect.acquireRelease(
      Effect.sync(() => new AbortController()),
      (controller) => Effect.sync(() => controller.abort())
    )
    const pages = StreamReader.pages(kinesis.client, config.stream, {
      from: config.from,
      timestamp: config.timestamp,
      limit: config.limit,
      follow: config.follow,
      signal: stop.signal,
      retryFor: RETRY_FOR_MILLIS,
      kinesalite: config.embedded
    })
    while (true) {
      const next = yield* Effect.tryPromise({
        try: () => pages.next(),
        catch: (error) =>
          error instanceof StreamReader.ReadError ?
            Retry.classify(error.operation, error.cause) :
            Retry.classify("GetRecords", error)
      })
      if (next.done === true) return 0
      let text = ""
      for (const record of next.value) {
        if (record.malformed !== undefined) {
          const where = `${record.shardId} ${record.sequenceNumber}`
          warn(`kinesis-writer: ${where}: a broken aggregated record, shown whole: ${record.malformed}`)
        }
        text += Output.line(config.format, record)
      }
      yield* write(text)
    }
  }).pipe(
    Effect.scoped,
    Effect.catch((error) =>
      Effect.sync(() => {
        warn(
          error.code === "ResourceNotFoundException" ?
            `kinesis-writer: stream ${config.stream} not found: ${error.detail}` :
            `kinesis-writer: ${error.operation}: ${error.message}`
        )
        return 2
      })
    )
  )
}
