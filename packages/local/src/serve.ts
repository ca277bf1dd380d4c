/**
 * Runs the embedded Kinesis (kinesalite behind the proxy) as a process of its own, for tests and benchmarks in
 * other processes or languages, and for measuring a writer's memory without the server's in it.
 *
 * `node dist/serve.js '{"streams":{"s":1},"limits":true}'` (the argument: `LocalKinesis.Options` as JSON) prints
 * one line, `{"endpoint":...,"kinesaliteEndpoint":...,"region":...}`, then answers commands on stdin, one JSON
 * object per line, each with one line: `{"faults":PLAN}`, `{"limits":LIMITS}`, `{"counters":true}`,
 * `{"resetCounters":true}`, `{"createStream":NAME,"shards":N}`. It stops when stdin closes, or on SIGTERM.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { createInterface } from "node:readline"
import { LocalKinesis } from "./LocalKinesis.js"

/** One command read from stdin. */
interface Command {
  readonly faults?: LocalKinesis.Options["faults"]
  readonly limits?: LocalKinesis.Options["limits"]
  readonly counters?: boolean
  readonly resetCounters?: boolean
  readonly createStream?: string
  readonly shards?: number
}

const run = (local: LocalKinesis.Service, command: Command): Effect.Effect<unknown, unknown> => {
  if (command.faults !== undefined) return Effect.as(local.proxy.setFaults(command.faults), { ok: true })
  if (command.limits !== undefined) return Effect.as(local.proxy.setLimits(command.limits), { ok: true })
  if (command.counters === true) return local.proxy.counters
  if (command.resetCounters === true) return Effect.as(local.proxy.resetCounters, { ok: true })
  if (command.createStream !== undefined) {
    return Effect.as(local.createStream(command.createStream, command.shards ?? 1), { ok: true })
  }
  return Effect.succeed({ error: "unknown command" })
}

const main = Effect.gen(function*() {
  const options = JSON.parse(process.argv[2] ?? "{}") as LocalKinesis.Options
  const local = yield* LocalKinesis.make(options)
  const print = (value: unknown) => Effect.sync(() => process.stdout.write(`${JSON.stringify(value)}\n`))
  yield* print({ endpoint: local.endpoint, kinesaliteEndpoint: local.kinesaliteEndpoint, region: local.region })
  const lines = createInterface({ input: process.stdin })
  yield* Effect.async<void>((resume) => {
    let queue = Promise.resolve()
    lines.on("line", (line) => {
      // Commands answer in the order they came.
      queue = queue.then(() =>
        Effect.runPromise(
          Effect.suspend(() => run(local, JSON.parse(line) as Command)).pipe(
            Effect.catchAllCause((cause) => {
              const error = Cause.squash(cause)
              return Effect.succeed({ error: error instanceof Error ? error.message : String(error) })
            }),
            Effect.flatMap(print),
            Effect.asVoid
          )
        )
      )
    })
    lines.on("close", () => void queue.then(() => resume(Effect.void)))
  })
}).pipe(Effect.scoped)

const fiber = Effect.runFork(main)
// Closing the scope stops both servers; then the process ends by itself.
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => Effect.runFork(Fiber.interrupt(fiber)))
fiber.addObserver((exit) => {
  if (exit._tag === "Failure" && !Cause.isInterruptedOnly(exit.cause)) {
    process.stderr.write(`${Cause.pretty(exit.cause)}\n`)
    process.exitCode = 1
  }
})
