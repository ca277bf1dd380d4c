/**
 * One run of one writer, as the orchestrator hands it to a child process, and what comes back.
 */

/**
 * The writers compared. `effect-kinesis` and its variants are the main line, `@effect-kinesis/writer` on Effect 4;
 * `effect-kinesis-effect3` is the Effect 3 line, `@effect-kinesis/writer-effect3`, with every default.
 */
export const writers = [
  "hand-loop",
  "effect-kinesis",
  "effect-kinesis-effect3",
  "effect-kinesis-blind",
  "effect-kinesis-aggregated",
  "effect-kinesis-tuned",
  "effect-kinesis-sink",
  "effect-kinesis-all",
  "shutterstock",
  "aws-kinesis-writable",
  "naive-port"
] as const

/** One of the writers compared. */
export type WriterName = typeof writers[number]

/** The writer every ratio is measured against: the ceiling for the same client and server. */
export const baseline: WriterName = "hand-loop"

/** What a child process runs. */
export interface Job {
  readonly writer: WriterName
  readonly endpoint: string
  readonly region: string
  readonly stream: string
  /** Records offered, numbered `firstIndex` to `firstIndex + records - 1`. */
  readonly records: number
  /** The number of the first record (0 by default): writers sharing a stream offer records of their own. */
  readonly firstIndex?: number | undefined
  /** Share of the records on one partition key (0 by default: every record a key of its own). */
  readonly hotKeyShare?: number | undefined
  /** Offer records for this long at most (ms from the first): then the writer settles what it took. */
  readonly offerMs?: number | undefined
  /** Bytes of each record's data. */
  readonly recordBytes: number
  /** Records offered per second; undefined offers them as fast as the writer takes them. */
  readonly ratePerSecond: number | undefined
  /** PutRecords requests at once, for every writer that has such a setting. */
  readonly concurrency: number
  /** Sockets of the shared HTTP agent settings (keep-alive), the same for every writer. */
  readonly maxSockets: number
  /** Write a CPU profile of the measured span here. */
  readonly profile?: string | undefined
}

/** What a child process measured. */
export interface Measured {
  /** From the first record offered until the writer said every record was settled. */
  readonly elapsedMs: number
  /** CPU time of the writer's process over that span, user and system. */
  readonly cpuMs: number
  /**
   * CPU time from the middle record offered to the end, and the records from it on: the steady cost, without the
   * compiling and warming up of the first half. Undefined when the offer ended before its middle.
   */
  readonly secondHalf?: { readonly cpuMs: number; readonly records: number } | undefined
  /** After loading the writer and a full GC, before the first record. */
  readonly baselineRssBytes: number
  readonly baselineHeapBytes: number
  /** The most the process held: RSS as the kernel counts it; heap (in use, plus external memory) as sampled. */
  readonly peakRssBytes: number
  readonly peakHeapBytes: number
  /** Records offered: `records`, or fewer when the offer's time ran out first. */
  readonly offered: number
  /** Records the writer itself reported as not delivered (errors, failure lists). */
  readonly reportedFailed: number
  /** Wall-clock time (epoch ms) of the first record offered and of the last: when the writer had records coming. */
  readonly offeredFromMs: number
  readonly offeredUntilMs: number
}

/** What a child process says before its answer: it is ready to offer records. */
export interface Started {
  readonly _tag: "Started"
}

/** What the orchestrator answers to `Started`: offer now. */
export interface Go {
  readonly _tag: "Go"
}

/** What a child process sends back: what it measured, or why it could not finish. */
export type Outcome<A> =
  | { readonly _tag: "Done"; readonly value: A }
  | { readonly _tag: "Crashed"; readonly error: string }

/** What a child process is asked to do: one writer's run, or one measurement of the pure core. */
export type Task =
  | { readonly _tag: "Write"; readonly job: Job }
  | {
    readonly _tag: "Core"
    readonly records: number
    readonly bytes: number
    readonly profile?: string | undefined
  }
  | { readonly _tag: "Stages"; readonly records: number; readonly bytes: number }
