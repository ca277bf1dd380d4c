#!/usr/bin/env node
/**
 * Runs the embedded Kinesis (kinesalite behind the proxy) as a process of its own, `kinesis-local`, for tests and
 * benchmarks in other processes or languages, for development in the background, and for measuring a writer's
 * memory without the server's in it.
 *
 * `kinesis-local '{"streams":{"s":1},"limits":true}' &` (the argument: `LocalKinesis.Options` as JSON) prints one
 * line, `{"endpoint":...,"kinesaliteEndpoint":...,"region":...}`, and runs until SIGTERM or SIGINT. It also answers
 * commands on stdin, one JSON object per line, each with one line: `{"faults":PLAN}`, `{"limits":LIMITS}`,
 * `{"counters":true}`, `{"resetCounters":true}`, `{"createStream":NAME,"shards":N}`. Standard input is optional:
 * when it is a pipe, its end stops the server too (a parent that dies takes its server along); any other stdin
 * (none, /dev/null, a terminal, a file) is read for commands and its end changes nothing.
 */
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Fiber from "effect/Fiber"
import { fstatSync } from "node:fs"
import { createInterface } from "node:readline"
import { LocalKinesis } from "./LocalKinesis.js"

// This program runs on Node 20 on purpose (the project's pinned runtime); the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

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

const print = (value: unknown) => Effect.sync(() => process.stdout.write(`${JSON.stringify(value)}\n`))

// Whether stdin is a pipe from a parent, whose end means "stop"; fd 0 may also be closed altogether.
const stdinIsPipe = (): boolean => {
  try {
    const stat = fstatSync(0)
    return stat.isFIFO() || stat.isSocket()
  } catch {
    return false
  }
}

/** Answers the commands on stdin; returns when a piped stdin ends, and otherwise runs until interrupted. */
const serveCommands = (local: LocalKinesis.Service, stopAtEnd: boolean): Effect.Effect<void> =>
  Effect.async<void>((resume) => {
    const lines = createInterface({ input: process.stdin })
    let queue = Promise.resolve()
    lines.on("line", (line) => {
      if (line.trim() === "") return
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
    lines.on("close", () => {
      if (stopAtEnd) void queue.then(() => resume(Effect.void))
    })
    // Reading stdin would keep the process alive after the servers stopped.
    return Effect.sync(() => {
      lines.close()
      process.stdin.destroy()
    })
  })

const main = Effect.gen(function*() {
  const options = JSON.parse(process.argv[2] ?? "{}") as LocalKinesis.Options
  const local = yield* LocalKinesis.make(options)
  yield* print({ endpoint: local.endpoint, kinesaliteEndpoint: local.kinesaliteEndpoint, region: local.region })
  yield* serveCommands(local, stdinIsPipe())
}).pipe(Effect.scoped)

const fiber = Effect.runFork(main)
// Closing the scope stops both servers; then the process ends by itself, with status 0.
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => Effect.runFork(Fiber.interrupt(fiber)))
fiber.addObserver((exit) => {
  if (exit._tag === "Failure" && !Cause.isInterruptedOnly(exit.cause)) {
    process.stderr.write(`${Cause.pretty(exit.cause)}\n`)
    process.exitCode = 1
  }
})
