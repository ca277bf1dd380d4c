#!/usr/bin/env node
/**
 * The `kinesis-writer` executable: runs the command line on the process's arguments, with Node's file system,
 * paths and terminal; each command sets the exit status.
 */
import * as HelpDoc from "@effect/cli/HelpDoc"
import * as ValidationError from "@effect/cli/ValidationError"
import * as NodeContext from "@effect/platform-node/NodeContext"
import * as Cause from "effect/Cause"
import * as Console from "effect/Console"
import * as Effect from "effect/Effect"
import * as fs from "node:fs"
import * as Cli from "./Cli.js"

// This program runs on Node 20 on purpose (the project's pinned runtime); the SDK's notice about Node 22 is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true"

const { version } = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  readonly version: string
}

// `get | head` closes the pipe early: that is the reader's choice, not an error.
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  if (error.code === "EPIPE") process.exit(0)
  throw error
})

const ansi = /\x1b\[[0-9;]*m/g
const colors = (tty: boolean | undefined) => tty === true && process.env.NO_COLOR === undefined
const plain = (args: ReadonlyArray<unknown>) =>
  args.map((arg) => (typeof arg === "string" ? arg.replace(ansi, "") : arg))

// Help and usage errors in color on a terminal only: escape codes are noise in a file or a pipe.
const colorOnTerminals = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Console.consoleWith((console) =>
    Effect.withConsole(effect, {
      ...console,
      log: (...args) => console.log(...(colors(process.stdout.isTTY) ? args : plain(args))),
      error: (...args) => console.error(...(colors(process.stderr.isTTY) ? args : plain(args)))
    })
  )

// @effect/cli's own help for the root lists each command with its whole usage; this one fits a terminal.
const rootHelp = ["--help", "-h"].includes(process.argv[2] ?? "--help") && process.argv.length <= 3

const fiber = Effect.runFork(
  (rootHelp ? Console.log(HelpDoc.toAnsiText(Cli.help(version))) : Cli.run(version)(process.argv)).pipe(
    // @effect/cli has printed what was wrong with the command line.
    Effect.catchIf(ValidationError.isValidationError, () =>
      Effect.sync(() => {
        process.exitCode = 2
      })),
    colorOnTerminals,
    Effect.provide(NodeContext.layer)
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
