import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

// The compiled package: a script of a user runs what `npx tsc -b` built, not the sources.
const distIndex = new URL("../dist/index.js", import.meta.url)

// A user's script: the embedded Kinesis, one write through the proxy, then the end of its program.
const script = `
import { Kinesis } from "@effect-kinesis/writer"
import * as Effect from "effect/Effect"
import { LocalKinesis } from ${JSON.stringify(distIndex.href)}

const program = Effect.gen(function*() {
  const kinesis = yield* Kinesis
  const data = new TextEncoder().encode("hello")
  return yield* kinesis.putRecords({ StreamName: "events", Records: [{ Data: data, PartitionKey: "k" }] })
}).pipe(Effect.provide(LocalKinesis.layer({ streams: { events: 1 }, limits: true })))

const response = await Effect.runPromise(program)
console.log(JSON.stringify({ failed: response.FailedRecordCount }))
`

describe("LocalKinesis", () => {
  it.live("lets a script that used LocalKinesis.layer exit as soon as its program ends", () =>
    Effect.gen(function*() {
      expect(existsSync(distIndex), `${fileURLToPath(distIndex)} is missing: build first (npx tsc -b)`).toBe(true)
      const child = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawn(process.execPath, ["--input-type=module", "--eval", script], {
            // From the package's folder, so that the script finds its dependencies as a user's would.
            cwd: fileURLToPath(new URL("..", import.meta.url)),
            stdio: ["ignore", "pipe", "inherit"]
          })
        ),
        (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
      )
      const ended = yield* Effect.promise(() =>
        new Promise<{ readonly line: string; readonly at: number }>((resolve, reject) => {
          createInterface({ input: child.stdout }).once("line", (line) => resolve({ line, at: Date.now() }))
          child.once("exit", (code) => reject(new Error(`the script ended without its line: ${code}`)))
        })
      )
      expect(JSON.parse(ended.line)).toEqual({ failed: 0 })
      const code = yield* Effect.promise(() =>
        new Promise<number | null>((resolve) => {
          if (child.exitCode !== null) resolve(child.exitCode)
          else child.once("exit", (code) => resolve(code))
        })
      )
      expect(code).toBe(0)
      expect(Date.now() - ended.at).toBeLessThan(2_500)
    }).pipe(Effect.scoped))
})
