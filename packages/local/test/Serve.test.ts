import { KinesisClient, ListStreamsCommand } from "@aws-sdk/client-kinesis"
import { describe, expect, it } from "@effect/vitest"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import * as Effect from "effect/Effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { createInterface } from "node:readline"
import { servePath } from "./support/Remote.js"

// The child's first line, its endpoint; or why it ended without one.
const firstLine = (child: ChildProcess) =>
  new Promise<string>((resolve, reject) => {
    createInterface({ input: child.stdout! }).once("line", resolve)
    child.once("exit", (code, signal) => reject(new Error(`serve.js ended first: ${code ?? signal}`)))
  })

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null) resolve(child.exitCode)
    else child.once("exit", (code) => resolve(code))
  })

describe("serve.js (kinesis-local)", () => {
  it("is the kinesis-local command: a bin of the package, run by node", async () => {
    const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as {
      readonly bin?: Record<string, string>
    }
    // A launcher that exists before the build, so that npm links it on a fresh install; it runs dist/serve.js.
    expect(pkg.bin).toEqual({ "kinesis-local": "./bin/kinesis-local.js" })
    const launcher = new URL("../bin/kinesis-local.js", import.meta.url)
    const text = await readFile(launcher, "utf8")
    expect(text.split("\n")[0]).toBe("#!/usr/bin/env node")
    expect(text).toContain("import \"../dist/serve.js\"")
    expect(existsSync(servePath), `${servePath} is missing: build first (npx tsc -b)`).toBe(true)
  })

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it.live(`runs in the background without stdin, serves the Kinesis API, and exits 0 promptly on ${signal}`, () =>
      Effect.gen(function*() {
        const child = yield* Effect.acquireRelease(
          Effect.sync(() =>
            spawn(process.execPath, [servePath, JSON.stringify({ streams: { events: 2 } })], {
              stdio: ["ignore", "pipe", "inherit"]
            })
          ),
          // A test that failed midway still stops its server.
          (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
        )
        const hello = JSON.parse(yield* Effect.promise(() => firstLine(child))) as { endpoint: string; region: string }
        expect(hello.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
        // Still serving a while later: the end of a missing stdin did not stop it.
        yield* Effect.sleep("300 millis")
        expect(child.exitCode).toBe(null)
        const client = new KinesisClient({
          endpoint: hello.endpoint,
          region: hello.region,
          credentials: { accessKeyId: "local", secretAccessKey: "local" },
          requestHandler: new NodeHttpHandler()
        })
        const streams = yield* Effect.promise(() => client.send(new ListStreamsCommand({})))
        client.destroy()
        expect(streams.StreamNames).toEqual(["events"])
        const sent = Date.now()
        child.kill(signal)
        const code = yield* Effect.promise(() => exited(child))
        expect(code).toBe(0)
        expect(Date.now() - sent).toBeLessThan(2_000)
      }).pipe(Effect.scoped))
  }
})
