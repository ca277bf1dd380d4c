/**
 * The orchestrator's side of a run: a fresh embedded Kinesis with one stream (behind its proxy, with the run's
 * limits and faults), the writer in a child process, then the stream read back and counted. Nothing a writer
 * says about itself decides its result; the read-back does.
 */
import { LocalKinesis } from "@effect-kinesis/local"
import * as Effect from "effect/Effect"
import { fork } from "node:child_process"
import type { Job, Measured, Outcome, Task, WriterName } from "./Job.js"
import { type Tally, tally } from "./Payload.js"

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
}

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
    process.on("message", (message) => (outcome ??= message as Outcome<A>))
    process.on("exit", (code, signal) => {
      clearTimeout(timer)
      resolve(outcome ?? { _tag: "Crashed", error: `exited (${signal ?? code}) without an answer\n${output}` })
    })
  })

/** What the embedded Kinesis's proxy saw of a run's PutRecords traffic. */
export interface ServerCounts {
  readonly requests: number
  /** Records received, first attempts and retries alike. */
  readonly offered: number
  /** Records refused: over a shard's limits, or failed by the fault plan. */
  readonly refused: number
}

/** One writer's run, as the read-back judged it. */
export interface RunResult {
  readonly writer: WriterName
  readonly measured: Measured | undefined
  readonly error: string | undefined
  readonly tally: Tally
  readonly server: ServerCounts
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
}

/** Reads a stream back and counts it against the records 0 to `expected - 1`. */
export const verify = (local: LocalKinesis.Service, stream: string, expected: number): Effect.Effect<Tally, unknown> =>
  local.readAll(stream).pipe(Effect.map((records) => tally(expected, records.map((record) => record.data))))

/** One run of `writer` against a fresh embedded Kinesis, read back and counted. */
export const run = (writer: WriterName, spec: RunSpec): Promise<RunResult> =>
  Effect.gen(function*() {
    const stream = "bench"
    const local = yield* LocalKinesis.make({ ...spec.local, streams: { [stream]: spec.shards } })
    const job: Job = {
      writer,
      endpoint: local.endpoint,
      region: local.region,
      stream,
      records: spec.records,
      recordBytes: spec.recordBytes,
      ratePerSecond: spec.ratePerSecond,
      concurrency: spec.concurrency,
      maxSockets: spec.maxSockets,
      profile: spec.profile
    }
    const outcome = yield* Effect.promise(() => inChild<Measured>({ _tag: "Write", job }, spec.fork))
    const counted = yield* verify(local, stream, spec.records)
    const counters = yield* local.proxy.counters
    return {
      writer,
      measured: outcome._tag === "Done" ? outcome.value : undefined,
      error: outcome._tag === "Crashed" ? outcome.error : undefined,
      tally: counted,
      server: {
        requests: counters.requests["PutRecords"] ?? 0,
        offered: counters.records.offered,
        refused: counters.records.throttled + counters.records.faulted
      }
    }
  }).pipe(Effect.scoped, Effect.runPromise)
