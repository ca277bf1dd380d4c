#!/usr/bin/env node
/**
 * The `kinesis-writer` executable: runs the command line on the process's arguments, with Node's file system,
 * paths and terminal; each command sets the exit status. Not `NodeRuntime.runMain`: its Ctrl-C interrupts the
 * whole program, where `put` stops reading on the first one and drains.
 */
import { NodeServices } from "@effect/platform-node"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as Cli from "./Cli.js"

// The SDK's notice about the Node version it will stop supporting is noise in a command line's output.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

const { version } = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  readonly version: string
}

// `get | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

const fiber = Effect.runFork(
  Cli.run(version).pipe(
    // effect/cli has told what was wrong with the command line.
    Effect.catch((error) =>
      Effect.sync(() => {
        process.exitCode = Cli.refusedStatus(error)
      })
    ),
    Effect.provide(NodeServices.layer)
  )
)

fiber.addObserver((exit) => {
  if (exit._tag === "Failure") {
    process.stderr.write(`kinesis-writer: ${Cause.pretty(exit.cause)}\n`)
    process.exitCode = 2
  }
  // A writer abandoned by a second Ctrl-C still holds sockets and timers: give the rest a moment, then leave.
  setTimeout(() => process.exit(), 1_000).unref()
})
