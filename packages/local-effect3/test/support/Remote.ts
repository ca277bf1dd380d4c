/**
 * The embedded Kinesis in a child process (`effect-kinesis-local`: local-server's `dist/serve.js`), so that a test can
 * measure its own memory without the server's: start it, send it commands, read a stream back through any
 * `Kinesis` service.
 */
import { type LocalKinesis, type StoredRecord, StreamReader } from "@effect-kinesis/local-effect3"
import { type Kinesis, Retry } from "@effect-kinesis/writer-effect3"
import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

/** The compiled entry point of `effect-kinesis-local`; `npm run test:reliability` builds it first. */
export const servePath = fileURLToPath(new URL("../../../local-server/dist/serve.js", import.meta.url))

/** A running child server. */
export interface Remote {
  readonly endpoint: string
  readonly kinesaliteEndpoint: string
  readonly region: string
  /** Sends one command and waits for its answer. */
  readonly command: (command: unknown) => Effect.Effect<unknown>
}

/** Starts `effect-kinesis-local` with `options`; the scope closing ends it. */
export const spawnLocal = (options: LocalKinesis.Options): Effect.Effect<Remote, Error, Scope.Scope> =>
  Effect.gen(function*() {
    if (!existsSync(servePath)) {
      return yield* Effect.fail(new Error(`${servePath} is missing: build first (npm run test:reliability does)`))
    }
    const child = yield* Effect.acquireRelease(
      Effect.sync(() =>
        spawn(process.execPath, [servePath, JSON.stringify(options)], { stdio: ["pipe", "pipe", "inherit"] })
      ),
      (child) =>
        Effect.async<void>((resume) => {
          if (child.exitCode !== null) return resume(Effect.void)
          child.once("exit", () => resume(Effect.void))
          child.stdin.end()
        })
    )
    const lines = createInterface({ input: child.stdout })
    const answers: Array<(line: string) => void> = []
    lines.on("line", (line) => answers.shift()?.(line))
    const next = Effect.async<string>((resume) => void answers.push((line) => resume(Effect.succeed(line))))
    const hello = JSON.parse(yield* next) as { endpoint: string; kinesaliteEndpoint: string; region: string }
    return {
      ...hello,
      command: (command) =>
        Effect.suspend(() => {
          const answer = next
          child.stdin.write(`${JSON.stringify(command)}\n`)
          return Effect.map(answer, (line) => JSON.parse(line) as unknown)
        })
    }
  })

/** Every record of a stream as stored, shard by shard, through `kinesis` (pointed at kinesalite, not the proxy). */
export const readAll = (kinesis: Kinesis.Service, stream: string): Effect.Effect<Array<StoredRecord>, unknown> =>
  Effect.tryPromise({
    try: (signal) => StreamReader.readAll(kinesis.client, stream, { unpack: false, signal }),
    catch: (error) =>
      error instanceof StreamReader.ReadError ?
        Retry.classify(error.operation, error.cause) :
        Retry.classify("GetRecords", error)
  })
