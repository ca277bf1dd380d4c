import { ListStreamsCommand } from "@aws-sdk/client-kinesis"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { readFile } from "node:fs/promises"
import { createInterface } from "node:readline"
import { setTimeout as sleep } from "node:timers/promises"
import { fileURLToPath } from "node:url"
import { describe, expect, it, onTestFinished } from "vitest"
import { clientOf } from "./support/Local.js"

/** The compiled entry point of `effect-kinesis-local`; `npx tsc -b` builds it. */
const servePath = fileURLToPath(new URL("../dist/serve.js", import.meta.url))

// Starts the server in a child process; a test that failed midway still stops it.
const serve = (args: ReadonlyArray<string>, stdin: "ignore" | "pipe") => {
  const child = spawn(process.execPath, [servePath, ...args], { stdio: [stdin, "pipe", "inherit"] })
  onTestFinished(() => void (child.exitCode === null && child.kill("SIGKILL")))
  const waiting: Array<{ readonly resolve: (line: string) => void; readonly reject: (error: Error) => void }> = []
  createInterface({ input: child.stdout! }).on("line", (line) => waiting.shift()?.resolve(line))
  child.once("exit", (code, signal) => {
    for (const { reject } of waiting.splice(0)) reject(new Error(`serve.js ended first: ${code ?? signal}`))
  })
  // The child's next line; or why it ended without one.
  const nextLine = () => new Promise<string>((resolve, reject) => void waiting.push({ resolve, reject }))
  return { child, nextLine }
}

// Its status, once it has ended and its output is read to the end.
const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => {
    if (child.exitCode !== null && child.stdout?.readableEnded !== false) resolve(child.exitCode)
    else child.once("close", (code) => resolve(code))
  })

describe("serve.js (effect-kinesis-local)", () => {
  it("is the effect-kinesis-local command: a bin of the package, run by node", async () => {
    const pkg = JSON.parse(await readFile(new URL("../package.json", import.meta.url), "utf8")) as {
      readonly bin?: Record<string, string>
    }
    // A launcher that exists before the build, so that npm links it on a fresh install; it runs dist/serve.js.
    expect(pkg.bin).toEqual({ "effect-kinesis-local": "./bin/effect-kinesis-local.js" })
    const launcher = new URL("../bin/effect-kinesis-local.js", import.meta.url)
    const text = await readFile(launcher, "utf8")
    expect(text.split("\n")[0]).toBe("#!/usr/bin/env node")
    expect(text).toContain("import \"../dist/serve.js\"")
    expect(existsSync(servePath), `${servePath} is missing: build first (npx tsc -b)`).toBe(true)
  })

  for (const signal of ["SIGTERM", "SIGINT"] as const) {
    it(`runs in the background without stdin, serves the Kinesis API, and exits 0 promptly on ${signal}`, async () => {
      const { child, nextLine } = serve([JSON.stringify({ streams: { events: 2 } })], "ignore")
      const hello = JSON.parse(await nextLine()) as { endpoint: string; region: string }
      expect(hello.endpoint).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/)
      // Still serving a while later: the end of a missing stdin did not stop it.
      await sleep(300)
      expect(child.exitCode).toBe(null)
      const client = clientOf({
        endpoint: hello.endpoint,
        region: hello.region,
        credentials: { accessKeyId: "local", secretAccessKey: "local" }
      })
      const streams = await client.send(new ListStreamsCommand({}))
      expect(streams.StreamNames).toEqual(["events"])
      const sent = Date.now()
      child.kill(signal)
      expect(await exited(child)).toBe(0)
      expect(Date.now() - sent).toBeLessThan(2_000)
    })
  }

  it("answers the commands of a piped stdin in order, one line each, and stops when that stdin ends", async () => {
    const { child, nextLine } = serve([JSON.stringify({ limits: true })], "pipe")
    await nextLine()
    const command = (value: unknown) => {
      const answer = nextLine()
      child.stdin!.write(`${JSON.stringify(value)}\n`)
      return answer.then((line) => JSON.parse(line) as Record<string, unknown>)
    }
    expect(await command({ createStream: "made", shards: 2 })).toEqual({ ok: true })
    expect(await command({ faults: { throttle: 0.5 } })).toEqual({ ok: true })
    expect(await command({ faults: { throttle: 2 } })).toEqual({
      error:
        "invalid fault plan: throttle must be a fraction from 0 to 1, not 2; throttle + internalFailure must not " +
        "exceed 1"
    })
    expect(await command({ limits: { recordsPerSecond: 0 } })).toEqual({
      error: "invalid limits: recordsPerSecond must be a positive number, not 0"
    })
    expect(await command({ counters: true })).toMatchObject({ requests: {}, records: { offered: 0 } })
    expect(await command({ resetCounters: true })).toEqual({ ok: true })
    expect((await command({ createStream: "made" })).error).toMatch(/^CreateStream failed: ResourceInUseException/)
    expect(await command({ what: true })).toEqual({ error: "unknown command" })
    child.stdin!.end()
    expect(await exited(child)).toBe(0)
  })

  it("prints its usage on --help, and fails with status 1 on a nonsensical plan", async () => {
    const help = serve(["--help"], "ignore")
    expect(await help.nextLine()).toBe("Usage: effect-kinesis-local [OPTIONS]")
    expect(await exited(help.child)).toBe(0)
    const refused = spawn(process.execPath, [servePath, JSON.stringify({ faults: { throttle: 2 } })], {
      stdio: ["ignore", "ignore", "pipe"]
    })
    const ended = new Promise<number | null>((resolve) => refused.once("close", resolve))
    let stderr = ""
    refused.stderr.on("data", (chunk: Buffer) => void (stderr += chunk.toString()))
    expect(await ended).toBe(1)
    expect(stderr).toContain("invalid fault plan: throttle must be a fraction from 0 to 1, not 2")
  })
})
