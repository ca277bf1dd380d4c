#!/usr/bin/env node
/**
 * Runs the embedded Kinesis (kinesalite behind the proxy) as a process of its own, `effect-kinesis-local`, for tests
 * and benchmarks in other processes or languages, for development in the background, and for measuring a writer's
 * memory without the server's in it. (Not `kinesis-local`: that name is kinesis-mock's on npm.)
 *
 * `effect-kinesis-local '{"streams":{"s":1},"limits":true}' &` (the argument: `LocalServer.Options` as JSON) prints one
 * line, `{"endpoint":...,"kinesaliteEndpoint":...,"region":...}`, and runs until SIGTERM or SIGINT. It also answers
 * commands on stdin, one JSON object per line, each with one line: `{"faults":PLAN}`, `{"limits":LIMITS}`,
 * `{"counters":true}`, `{"resetCounters":true}`, `{"createStream":NAME,"shards":N}`. Standard input is optional:
 * when it is a pipe, its end stops the server too (a parent that dies takes its server along); any other stdin
 * (none, /dev/null, a terminal, a file) is read for commands and its end changes nothing.
 */
import { fstatSync } from "node:fs"
import { createInterface } from "node:readline"
import * as LocalServer from "./LocalServer.js"

// This program runs on Node 20 on purpose (the project's pinned runtime); the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

const usage = `Usage: effect-kinesis-local [OPTIONS]

Runs an embedded Kinesis (kinesalite on 127.0.0.1, behind a proxy with AWS's per-shard limits and a fault plan)
until SIGTERM or SIGINT, or until a piped stdin ends. Prints one line first:
  {"endpoint":"http://127.0.0.1:PORT","kinesaliteEndpoint":"http://127.0.0.1:PORT","region":"us-east-1"}

OPTIONS is one JSON object (default {}):
  {"streams":{"events":2},"limits":true,"faults":{"throttle":0.1,"seed":1},"port":4567}

Commands on stdin, one JSON object per line, each answered with one line:
  {"faults":PLAN}  {"limits":LIMITS}  {"counters":true}  {"resetCounters":true}  {"createStream":"NAME","shards":N}
`

/** One command read from stdin. */
interface Command {
  readonly faults?: LocalServer.Options["faults"]
  readonly limits?: LocalServer.Options["limits"]
  readonly counters?: boolean
  readonly resetCounters?: boolean
  readonly createStream?: string
  readonly shards?: number
}

const run = async (local: LocalServer.LocalServer, command: Command): Promise<unknown> => {
  if (command.faults !== undefined) {
    local.proxy.setFaults(command.faults)
    return { ok: true }
  }
  if (command.limits !== undefined) {
    local.proxy.setLimits(command.limits)
    return { ok: true }
  }
  if (command.counters === true) return local.proxy.counters()
  if (command.resetCounters === true) {
    local.proxy.resetCounters()
    return { ok: true }
  }
  if (command.createStream !== undefined) {
    await local.createStream(command.createStream, command.shards ?? 1)
    return { ok: true }
  }
  return { error: "unknown command" }
}

const print = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`)

// Whether stdin is a pipe from a parent, whose end means "stop"; fd 0 may also be closed altogether.
const stdinIsPipe = (): boolean => {
  try {
    const stat = fstatSync(0)
    return stat.isFIFO() || stat.isSocket()
  } catch {
    return false
  }
}

// A signal asks to stop; it may come while the server is still starting.
let stopRequested = false
let stop = () => {
  stopRequested = true
}
for (const signal of ["SIGTERM", "SIGINT"] as const) process.once(signal, () => stop())

/** Serves until a signal, or the end of a piped stdin; then stops both servers, and the process ends by itself. */
const main = async () => {
  const argument = process.argv[2]
  if (argument === "--help" || argument === "-h") {
    process.stdout.write(usage)
    return
  }
  const options = JSON.parse(argument ?? "{}") as LocalServer.Options
  const local = await LocalServer.start(options)
  try {
    if (stopRequested) return
    print({ endpoint: local.endpoint, kinesaliteEndpoint: local.kinesaliteEndpoint, region: local.region })
    const stopAtEnd = stdinIsPipe()
    const lines = createInterface({ input: process.stdin })
    let queue = Promise.resolve()
    lines.on("line", (line) => {
      if (line.trim() === "") return
      // Commands answer in the order they came.
      queue = queue.then(async () => {
        try {
          print(await run(local, JSON.parse(line) as Command))
        } catch (error) {
          print({ error: error instanceof Error ? error.message : String(error) })
        }
      })
    })
    await new Promise<void>((resolve) => {
      stop = resolve
      lines.on("close", () => {
        if (stopAtEnd) void queue.then(resolve)
      })
    })
    // Reading stdin would keep the process alive after the servers stopped.
    lines.close()
    process.stdin.destroy()
  } finally {
    await local.close()
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.stack ?? error.message : String(error)}\n`)
  process.exitCode = 1
})
