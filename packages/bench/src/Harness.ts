/**
 * The orchestrator's side of a run: a fresh embedded Kinesis with one stream (behind its proxy, with the run's
 * limits and faults), the writer in a child process, then the stream read back and counted. Nothing a writer
 * says about itself decides its result; the read-back does.
 */
import type { Shard } from "@aws-sdk/client-kinesis"
import { type KinesisProxy, LocalKinesis } from "@effect-kinesis/local-effect3"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Fiber from "effect/Fiber"
import * as Option from "effect/Option"
import { fork } from "node:child_process"
import type { Go, Job, Measured, Outcome, Started, Task, WriterName } from "./Job.js"
import { indexOf, type Tally, tally } from "./Payload.js"
import { runJob } from "./Run.js"
import type { Window } from "./Utilization.js"

/** Environment of every child: the SDKs' notices about Node versions and maintenance would only add noise. */
const childEnv = {
  ...process.env,
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
  AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE: "1"
}

/** Options of a child process. */
export interface ForkOptions {
  /** Kill the child after this long; a writer that never finishes is a result too. */
  readonly timeoutMs: number
  /** Called when the child is ready to offer records; it starts when the promise is done. */
  readonly onStart?: (() => Promise<void>) | undefined
}

/** Where a writer's task runs: a child process (`inChild`), or this one (`inProcess`, for tests). */
export type Executor = (task: Task & { readonly _tag: "Write" }, options: ForkOptions) => Promise<Outcome<Measured>>

/** Runs a task in a fresh Node process and returns its answer, or why there was none. */
export const inChild = <A>(task: Task, options: ForkOptions): Promise<Outcome<A>> =>
  new Promise((resolve) => {
    const process = fork(new URL("./child.js", import.meta.url), [JSON.stringify(task)], {
      execArgv: ["--expose-gc"],
      env: childEnv,
      stdio: ["ignore", "pipe", "pipe", "ipc"]
    })
    let output = ""
    const keep = (chunk: Buffer) => {
      // The tail is what explains a crash; a chatty writer must not fill the orchestrator's memory.
      output = (output + chunk.toString()).slice(-4000)
    }
    process.stdout?.on("data", keep)
    process.stderr?.on("data", keep)
    let outcome: Outcome<A> | undefined
    const timer = setTimeout(() => {
      outcome ??= { _tag: "Crashed", error: `timed out after ${options.timeoutMs} ms` }
      process.kill("SIGKILL")
    }, options.timeoutMs)
    process.on("message", (message) => {
      if ((message as Started)._tag === "Started") {
        void (options.onStart?.() ?? Promise.resolve()).then(() => {
          if (process.connected) process.send({ _tag: "Go" } satisfies Go)
        })
      } else outcome ??= message as Outcome<A>
    })
    process.on("exit", (code, signal) => {
      clearTimeout(timer)
      resolve(outcome ?? { _tag: "Crashed", error: `exited (${signal ?? code}) without an answer\n${output}` })
    })
  })

/** Runs a writer's task in this process: no isolation of CPU or memory, for tests of the harness. */
export const inProcess: Executor = (task, options) =>
  runJob(task.job, options.onStart).then(
    (value): Outcome<Measured> => ({ _tag: "Done", value }),
    (error: unknown): Outcome<Measured> => ({ _tag: "Crashed", error: String(error) })
  )

/** What the embedded Kinesis's proxy saw of a run's PutRecords traffic. */
export interface ServerCounts {
  readonly requests: number
  /** Records received, first attempts and retries alike. */
  readonly offered: number
  /** Records refused: over a shard's limits, or failed by the fault plan. */
  readonly refused: number
  /** Per shard and second, what the stream's shards stored and refused. */
  readonly seconds: ReadonlyArray<KinesisProxy.ShardSecond>
}

/** A shard split during a run. */
export interface Split {
  /** Wall-clock time (epoch ms) the stream was active again with the new shards. */
  readonly atMs: number
  readonly parent: string
  readonly children: ReadonlyArray<string>
}

/** One writer process of a run of several. */
export interface ProcessResult {
  /** From its first record offered until it said every record was settled. */
  readonly elapsedMs: number
  /** Records of its own stored while every process was offering (copies included), by their arrival time. */
  readonly storedInWindow: number
}

/** One writer's run, as the read-back judged it. */
export interface RunResult {
  readonly writer: WriterName
  /** Records offered, by every process of the run. */
  readonly records: number
  /** Bytes of the user records read back (data and partition keys, aggregates unpacked), copies included. */
  readonly userBytes: number
  /**
   * What the writer process measured; with several, their sums (CPU, failures) and extremes (time, memory), and
   * the window while all of them were offering.
   */
  readonly measured: Measured | undefined
  /** When each process offered records: the first record to the last. */
  readonly windows: ReadonlyArray<Window>
  /** Each process's time and share of the stream, when every one finished (several processes only). */
  readonly processes: ReadonlyArray<ProcessResult> | undefined
  readonly error: string | undefined
  readonly tally: Tally
  readonly server: ServerCounts
  /** The shard split during the run, if the case asked for one and it happened before the writer finished. */
  readonly split: Split | undefined
}

/** What a run needs besides the writer. */
export interface RunSpec {
  readonly records: number
  readonly recordBytes: number
  readonly shards: number
  readonly ratePerSecond: number | undefined
  readonly concurrency: number
  readonly maxSockets: number
  /** Limits and fault plan of the embedded Kinesis's proxy. */
  readonly local: Pick<LocalKinesis.Options, "limits" | "faults" | "seed">
  readonly fork: ForkOptions
  /** Write a CPU profile of the writer's measured span here. */
  readonly profile?: string | undefined
  /** Share of the records on one partition key (0 by default). */
  readonly hotKeyShare?: number | undefined
  /** Writer processes at once, each offering `records` records of its own (1 by default). */
  readonly processes?: number | undefined
  /** Split the first shard this long after the first process starts offering. */
  readonly splitAfterMs?: number | undefined
  /** Offer records for this long at most (one process only: the read-back counts records 0 to what it offered). */
  readonly offerMs?: number | undefined
  /** Where the writers run (`inChild` by default). */
  readonly executor?: Executor | undefined
}

const utf8 = new TextEncoder()

/** What a stream held after a run: its user records counted, and their bytes. */
export interface ReadBack {
  readonly tally: Tally
  /** Data and partition key bytes of every user record of the run read back, copies included. */
  readonly userBytes: number
  /** With `shares`: each process's records stored (copies included) in the window, by arrival time. */
  readonly storedInWindow: ReadonlyArray<number>
}

/** How the records of a run are shared among its processes: `perProcess` each, numbered in turn. */
export interface Shares {
  readonly processes: number
  readonly perProcess: number
  readonly window: Window
}

/**
 * Reads a stream back (aggregates unpacked into their user records) and counts it against the records 0 to
 * `expected - 1`.
 */
export const readBack = (
  local: LocalKinesis.Service,
  stream: string,
  expected: number,
  shares?: Shares
): Effect.Effect<ReadBack, unknown> =>
  local.readAll(stream).pipe(Effect.map((records) => {
    let userBytes = 0
    const storedInWindow = new Array<number>(shares?.processes ?? 0).fill(0)
    for (const record of records) {
      const index = indexOf(record.data)
      if (index < 0 || index >= expected) continue
      userBytes += record.data.length + utf8.encode(record.partitionKey).length
      const arrived = record.arrivalTime?.getTime()
      if (
        shares !== undefined && arrived !== undefined && arrived >= shares.window.from && arrived < shares.window.until
      ) {
        storedInWindow[Math.floor(index / shares.perProcess)]++
      }
    }
    return { tally: tally(expected, records.map((record) => record.data)), userBytes, storedInWindow }
  }))

/** Reads a stream back and counts it against the records 0 to `expected - 1`. */
export const verify = (local: LocalKinesis.Service, stream: string, expected: number): Effect.Effect<Tally, unknown> =>
  Effect.map(readBack(local, stream, expected), (read) => read.tally)

const isOpen = (shard: Shard) => shard.SequenceNumberRange?.EndingSequenceNumber === undefined

/** Splits the stream's first open shard at the middle of its hash key range; done when the stream is active again. */
export const splitFirstShard = (local: LocalKinesis.Service, stream: string): Effect.Effect<Split, unknown> =>
  Effect.gen(function*() {
    const parent = (yield* local.listShards(stream)).find(isOpen)
    if (parent?.ShardId === undefined) return yield* Effect.fail(new Error(`stream ${stream} has no open shard`))
    const children = yield* local.splitShard(stream, parent.ShardId)
    return { atMs: Date.now(), parent: parent.ShardId, children: children.map((shard) => shard.ShardId!) }
  })

// One Measured for a run of several processes: CPU and failures add up; time and memory are the run's as a whole;
// the window is while every process was offering (they start together).
const combine = (all: ReadonlyArray<Measured>): Measured => ({
  elapsedMs: Math.max(...all.map((m) => m.elapsedMs)),
  cpuMs: all.reduce((sum, m) => sum + m.cpuMs, 0),
  secondHalf: all.every((m) => m.secondHalf !== undefined) ?
    {
      cpuMs: all.reduce((sum, m) => sum + m.secondHalf!.cpuMs, 0),
      records: all.reduce((sum, m) => sum + m.secondHalf!.records, 0)
    } :
    undefined,
  baselineRssBytes: Math.max(...all.map((m) => m.baselineRssBytes)),
  baselineHeapBytes: Math.max(...all.map((m) => m.baselineHeapBytes)),
  peakRssBytes: Math.max(...all.map((m) => m.peakRssBytes)),
  peakHeapBytes: Math.max(...all.map((m) => m.peakHeapBytes)),
  offered: all.reduce((sum, m) => sum + m.offered, 0),
  reportedFailed: all.reduce((sum, m) => sum + m.reportedFailed, 0),
  offeredFromMs: Math.max(...all.map((m) => m.offeredFromMs)),
  offeredUntilMs: Math.min(...all.map((m) => m.offeredUntilMs))
})

/** One run of `writer` against a fresh embedded Kinesis, read back and counted. */
export const run = (writer: WriterName, spec: RunSpec): Promise<RunResult> =>
  Effect.gen(function*() {
    const stream = "bench"
    const local = yield* LocalKinesis.make({ ...spec.local, streams: { [stream]: spec.shards } })
    const processes = spec.processes ?? 1
    const executor = spec.executor ?? inChild<Measured>
    // Every process waits, ready, until all are: then they offer together, and the split's clock starts.
    const started = yield* Deferred.make<void>()
    let ready = 0
    const splitting = spec.splitAfterMs === undefined ?
      undefined :
      yield* Deferred.await(started).pipe(
        Effect.zipRight(Effect.sleep(spec.splitAfterMs)),
        Effect.zipRight(splitFirstShard(local, stream)),
        Effect.fork
      )
    const outcomes = yield* Effect.promise(() =>
      Promise.all(Array.from({ length: processes }, (_, p) => {
        const job: Job = {
          writer,
          endpoint: local.endpoint,
          region: local.region,
          stream,
          records: spec.records,
          firstIndex: p * spec.records,
          hotKeyShare: spec.hotKeyShare ?? 0,
          offerMs: spec.offerMs,
          recordBytes: spec.recordBytes,
          ratePerSecond: spec.ratePerSecond,
          concurrency: spec.concurrency,
          maxSockets: spec.maxSockets,
          // One profile per process: the second one's file gets a suffix.
          profile: spec.profile === undefined || p === 0 ?
            spec.profile :
            spec.profile.replace(/(\.cpuprofile)?$/, `-${p + 1}$1`)
        }
        return executor({ _tag: "Write", job }, {
          ...spec.fork,
          onStart: () => {
            if (++ready === processes) Deferred.unsafeDone(started, Effect.void)
            return Effect.runPromise(Deferred.await(started))
          }
        })
      }))
    )
    // A split still to come when the writers are done would measure nothing: it is called off.
    const split = splitting === undefined ?
      undefined :
      yield* Fiber.poll(splitting).pipe(
        Effect.flatMap((done) =>
          Option.isSome(done) ? Fiber.join(splitting) : Fiber.interrupt(splitting).pipe(Effect.as(undefined))
        ),
        Effect.either
      )
    const done = outcomes.flatMap((outcome) => outcome._tag === "Done" ? [outcome.value] : [])
    // A run whose offer ran out of time is counted against the records it offered; without an answer, all of them.
    const records = spec.offerMs !== undefined && processes === 1 && done.length === 1 ?
      done[0].offered :
      spec.records * processes
    const measured = done.length === processes ? combine(done) : undefined
    // Each process's share of the stream while all of them were offering: by when its records were stored.
    const shares = processes > 1 && measured !== undefined ?
      {
        processes,
        perProcess: spec.records,
        window: { from: measured.offeredFromMs, until: measured.offeredUntilMs }
      } :
      undefined
    const read = yield* readBack(local, stream, records, shares)
    const counters = yield* local.proxy.counters
    const errors = outcomes.flatMap((outcome) => outcome._tag === "Crashed" ? [outcome.error] : [])
    if (split !== undefined && Either.isLeft(split)) errors.push(`the split failed: ${String(split.left)}`)
    return {
      writer,
      records,
      measured,
      windows: done.map((m) => ({ from: m.offeredFromMs, until: m.offeredUntilMs })),
      processes: shares === undefined ?
        undefined :
        done.map((m, p) => ({ elapsedMs: m.elapsedMs, storedInWindow: read.storedInWindow[p] })),
      error: errors.length > 0 ? errors.join("\n") : undefined,
      tally: read.tally,
      userBytes: read.userBytes,
      server: {
        requests: counters.requests["PutRecords"] ?? 0,
        offered: counters.records.offered,
        refused: counters.records.throttled + counters.records.faulted,
        seconds: counters.shards.filter((second) => second.stream === stream)
      },
      split: split !== undefined && Either.isRight(split) ? split.right : undefined
    }
  }).pipe(Effect.scoped, Effect.runPromise)
