import { LocalKinesis } from "@effect-kinesis/local"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"

// The command as a user runs it: the bin that `npm ci && npm run build` links, of this package (another package
// of the workspace may declare the same bin name).
const root = fileURLToPath(new URL("../../../", import.meta.url))
const manifest = JSON.parse(fs.readFileSync(new URL("../package.json", import.meta.url), "utf8")) as {
  readonly name: string
  readonly bin: { readonly "kinesis-writer": string }
}
const bin = path.join(root, "node_modules", manifest.name, manifest.bin["kinesis-writer"])
const built = fileURLToPath(new URL("../dist/bin.js", import.meta.url))

const work = fs.mkdtempSync(path.join(os.tmpdir(), "kinesis-writer-test-"))
const env: NodeJS.ProcessEnv = {
  ...process.env,
  // The bin's `#!/usr/bin/env node` finds the Node running the tests (Effect 4 needs 22.19 or later).
  PATH: [path.dirname(process.execPath), process.env.PATH].join(path.delimiter),
  // A background embedded Kinesis of this test's own, stopped at the end.
  KINESIS_WRITER_HOME: path.join(work, "home"),
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true"
}

interface Ran {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

interface RunOptions {
  readonly stdin?: string | undefined
  readonly env?: NodeJS.ProcessEnv | undefined
  /** Called with standard error so far, as it grows; may signal the child. */
  readonly watch?: ((stderr: string, signal: (name: NodeJS.Signals) => void) => void) | undefined
}

const run = (command: string, args: ReadonlyArray<string>, options: RunOptions = {}) =>
  Effect.promise(() =>
    new Promise<Ran>((resolve, reject) => {
      const child = spawn(command, args, {
        env: { ...env, ...options.env },
        stdio: [options.stdin === undefined ? "ignore" : "pipe", "pipe", "pipe"]
      })
      let stdout = ""
      let stderr = ""
      child.stdout!.setEncoding("utf8").on("data", (text: string) => {
        stdout += text
      })
      child.stderr!.setEncoding("utf8").on("data", (text: string) => {
        stderr += text
        options.watch?.(stderr, (name) => child.kill(name))
      })
      if (options.stdin !== undefined) child.stdin!.end(options.stdin)
      child.once("error", reject)
      child.once("close", (code) => resolve({ code, stdout, stderr }))
    })
  )

const kinesisWriter = (args: ReadonlyArray<string>, options?: RunOptions) => run(bin, args, options)

const lines = (text: string) => text.split("\n").filter((line) => line !== "")
const sorted = (values: ReadonlyArray<string>) => [...values].sort()

// 50,000 NDJSON lines keyed by user.id, with bad ones at known places: invalid JSON, no user.id, a null user.id,
// and one line of 1.1 MB (over the 1 MiB record limit).
const TOTAL = 50_000
const makeInput = () => {
  const good: Array<string> = []
  const bad = new Map<number, string>()
  const all: Array<string> = []
  for (let i = 1; i <= TOTAL; i++) {
    let line = JSON.stringify({ id: i, user: { id: `u${i % 1000}` }, at: 1_700_000_000 + i, kind: "view" })
    if (i === 25_000) {
      line = JSON.stringify({ id: i, user: { id: "u0" }, blob: "x".repeat(1_100_000) })
      bad.set(i, "the line is")
    } else if (i % 1000 === 500) {
      const kind = Math.floor(i / 1000) % 3
      line = kind === 0 ? `{"id": ${i}, ` : kind === 1 ? `{"id": ${i}}` : `{"id": ${i}, "user": {"id": null}}`
      bad.set(i, kind === 0 ? "invalid JSON" : kind === 1 ? "no field user.id" : "field user.id is null")
    } else good.push(line)
    all.push(line)
  }
  const file = path.join(work, "events.ndjson")
  fs.writeFileSync(file, `${all.join("\n")}\n`)
  return { file, good, bad, all }
}

const input = makeInput()

// Every bad line reported once as FILE:LINE: REASON, and nothing else reported as a bad line.
const expectBadLinesReported = (stderr: string) => {
  const reported = lines(stderr).filter((line) => line.startsWith(`${input.file}:`))
  expect(reported).toHaveLength(input.bad.size)
  for (const [number, reason] of input.bad) {
    expect(reported).toContainEqual(expect.stringContaining(`${input.file}:${number}: ${reason}`))
  }
}

const storedIn = (stderr: string) => Number(/^([\d,]+) records? stored in stream/m.exec(stderr)?.[1].replace(/,/g, ""))

beforeAll(() => {
  // The bin must be linked before the build: npm links only files that exist when it installs.
  expect(fs.existsSync(bin), `${bin} is missing: npm ci links it`).toBe(true)
  expect(fs.existsSync(built), "build first (npx tsc -b)").toBe(true)
})

afterAll(async () => {
  await Effect.runPromise(kinesisWriter(["local", "stop"]))
  fs.rmSync(work, { recursive: true, force: true })
})

// Each test starts the command two or three times, a few seconds each on a loaded machine: timeouts to match.
describe("kinesis-writer", () => {
  it.live(
    "puts 50,000 NDJSON lines into --local, reports each bad line, and get reads every good record once",
    () =>
      Effect.gen(function*() {
        const put = yield* kinesisWriter([
          "put",
          "--local",
          "--stream",
          "events",
          "--shards",
          "10",
          "--key-field",
          "user.id",
          input.file
        ])
        expect(put.code, put.stderr).toBe(1)
        expectBadLinesReported(put.stderr)
        expect(put.stderr).toContain(
          `${(TOTAL - input.bad.size).toLocaleString("en-US")} records stored in stream events`
        )
        expect(put.stderr).toContain(`50,000 lines from ${input.file}; ${input.bad.size} bad lines skipped`)
        expect(put.stderr).toContain("exit       1: bad lines were skipped; every good line was stored")
        // Not a terminal: the progress comes as plain lines.
        expect(put.stderr).not.toContain("\r")

        const get = yield* kinesisWriter(["get", "--local", "--stream", "events"])
        expect(get.code, get.stderr).toBe(0)
        expect(sorted(lines(get.stdout))).toEqual(sorted(input.good))
      }),
    120_000
  )

  it.live(
    "puts the same file, aggregated, into an embedded Kinesis with AWS limits started by the test, through --endpoint",
    () =>
      Effect.gen(function*() {
        const local = yield* LocalKinesis.make({ streams: { events: 8 }, limits: true })
        const connection = ["--stream", "events", "--endpoint", local.endpoint, "--region", local.region]
        const credentials = { AWS_ACCESS_KEY_ID: "local", AWS_SECRET_ACCESS_KEY: "local" }
        const put = yield* kinesisWriter(["put", ...connection, "--key-field", "user.id", "--aggregate", input.file], {
          env: credentials
        })
        expect(put.code, put.stderr).toBe(1)
        expectBadLinesReported(put.stderr)
        expect(put.stderr).toContain(
          `${(TOTAL - input.bad.size).toLocaleString("en-US")} records stored in stream events`
        )
        // Aggregated: far fewer Kinesis records than lines.
        const counters = yield* local.proxy.counters
        expect(counters.records.stored).toBeLessThan((TOTAL - input.bad.size) / 20)

        const get = yield* kinesisWriter(["get", ...connection, "--format", "json"], { env: credentials })
        expect(get.code, get.stderr).toBe(0)
        const records = lines(get.stdout).map((line) =>
          JSON.parse(line) as { data: string; partitionKey: string; subSequenceNumber?: number }
        )
        expect(sorted(records.map((record) => record.data))).toEqual(sorted(input.good))
        for (const record of records) {
          expect(record.partitionKey).toBe((JSON.parse(record.data) as { user: { id: string } }).user.id)
          expect(record.subSequenceNumber).toBeTypeOf("number")
        }
      }).pipe(Effect.scoped),
    120_000
  )

  it.live("reads standard input", () =>
    Effect.gen(function*() {
      const text = Array.from({ length: 1_000 }, (_, i) => `line ${i} of standard input`)
      const put = yield* kinesisWriter(["put", "--local", "--stream", "piped", "--format", "text", "--key", "k"], {
        stdin: `${text.join("\n")}\n`
      })
      expect(put.code, put.stderr).toBe(0)
      expect(put.stderr).toContain("1,000 lines from standard input; 0 bad lines skipped")
      const get = yield* kinesisWriter(["get", "--local", "--stream", "piped"])
      // One key, so one shard, in the order written.
      expect(lines(get.stdout)).toEqual(text)
    }), 60_000)

  it.live("get --from at-timestamp reads the records that arrived from then on", () =>
    Effect.gen(function*() {
      const before = input.good.slice(0, 300)
      const after = input.good.slice(300, 320)
      const put = (lines: ReadonlyArray<string>) =>
        kinesisWriter(["put", "--local", "--stream", "timed", "--quiet"], { stdin: `${lines.join("\n")}\n` })
      expect((yield* put(before)).code).toBe(0)
      yield* Effect.sleep("100 millis")
      const timestamp = new Date().toISOString()
      yield* Effect.sleep("100 millis")
      expect((yield* put(after)).code).toBe(0)
      const get = yield* kinesisWriter([
        "get",
        "--local",
        "--stream",
        "timed",
        "--from",
        "at-timestamp",
        "--timestamp",
        timestamp
      ])
      expect(get.code, get.stderr).toBe(0)
      expect(sorted(lines(get.stdout))).toEqual(sorted(after))
    }), 60_000)

  it.live("--strict stops at the first bad line and stores what came before it", () =>
    Effect.gen(function*() {
      const file = path.join(work, "strict.ndjson")
      fs.writeFileSync(file, `${input.all.slice(0, 600).join("\n")}\n`)
      const put = yield* kinesisWriter(["put", "--local", "--stream", "strict", "--strict", file])
      expect(put.code, put.stderr).toBe(1)
      expect(put.stderr).toContain(`--strict: at the first bad line, ${file}:500: invalid JSON`)
      const get = yield* kinesisWriter(["get", "--local", "--stream", "strict"])
      expect(sorted(lines(get.stdout))).toEqual(sorted(input.all.slice(0, 499)))
    }), 60_000)

  it.live("on SIGINT stops reading, drains what was taken, says so, and exits 130", () =>
    Effect.gen(function*() {
      let sent = false
      const put = yield* kinesisWriter(
        [
          "put",
          "--local",
          "--stream",
          "interrupted",
          "--shards",
          "1",
          "--key-field",
          "user.id",
          "--max-buffered-records",
          "500",
          input.file
        ],
        {
          // Once some records are stored (one shard takes 1,000 a second, so the file would take 50 seconds).
          watch: (stderr, signal) => {
            if (!sent && /^[1-9][\d,]* stored/m.test(stderr)) {
              sent = true
              signal("SIGINT")
            }
          }
        }
      )
      expect(put.code, put.stderr).toBe(130)
      expect(put.stderr).toContain("kinesis-writer: Ctrl-C: reading stopped; draining")
      expect(put.stderr).toMatch(/Ctrl-C: reading stopped; the [\d,]+ records taken were drained/)
      expect(put.stderr).toContain("exit       130: interrupted; every record taken was stored")
      // The drain line and the summary count the same records taken.
      const draining = /draining the ([\d,]+) records? taken/.exec(put.stderr)?.[1]
      const drained = /the ([\d,]+) records? taken were drained/.exec(put.stderr)?.[1]
      expect(draining, put.stderr).toBeDefined()
      expect(draining).toBe(drained)
      const stored = storedIn(put.stderr)
      expect(Number(drained?.replace(/,/g, ""))).toBe(stored)
      expect(stored).toBeGreaterThan(0)
      expect(stored).toBeLessThan(10_000)
      const get = yield* kinesisWriter(["get", "--local", "--stream", "interrupted"])
      const got = lines(get.stdout)
      expect(got).toHaveLength(stored)
      expect(new Set(got).size).toBe(stored)
      const good = new Set(input.good)
      expect(got.every((line) => good.has(line))).toBe(true)
      // The line to resume from: every good line before it is stored, and none after it.
      const resume = Number(/resume +from line ([\d,]+) of /.exec(put.stderr)?.[1].replace(/,/g, ""))
      expect(resume, put.stderr).toBeGreaterThan(1)
      const before = input.all.slice(0, resume - 1).filter((line) => good.has(line))
      expect(sorted(got)).toEqual(sorted(before))
    }), 60_000)

  it.live("redraws the progress line in place on a terminal", () =>
    Effect.gen(function*() {
      const file = path.join(work, "tty.ndjson")
      fs.writeFileSync(file, `${input.good.slice(0, 2_500).join("\n")}\n`)
      // script(1) runs the command in a pseudo-terminal and copies what it shows to its standard output.
      const command = [bin, "put", "--local", "--stream", "tty", "--shards", "1", file].join(" ")
      const session = yield* run("script", ["-q", "-e", "-c", command, "/dev/null"], { env: { TERM: "xterm" } })
      expect(session.code, session.stdout).toBe(0)
      const redraws = Array.from(session.stdout.matchAll(/\r\x1b\[K[\d,]+ stored {2}[\d,]+ records\/s/g), (m) => m[0])
      expect(redraws.length).toBeGreaterThanOrEqual(3)
      // Redrawn in place: no newline between the first status line and the last one.
      const first = session.stdout.indexOf(redraws[0])
      const last = session.stdout.lastIndexOf(redraws[redraws.length - 1])
      expect(session.stdout.slice(first, last)).not.toContain("\n")
      // Cleared before the summary, which starts a line of its own.
      expect(session.stdout).toMatch(/\r\x1b\[K2,500 records stored in stream tty/)
    }), 60_000)

  it.live("--help describes every command, option and exit status", () =>
    Effect.gen(function*() {
      const help = yield* kinesisWriter(["--help"])
      expect(help.code).toBe(0)
      for (const text of ["put", "get", "local", "--region", "--profile", "--endpoint", "--local", "EXIT STATUS"]) {
        expect(help.stdout).toContain(text)
      }
      expect(help.stdout).not.toContain("\x1b[")
      const put = yield* kinesisWriter(["put", "--help"])
      for (
        const option of [
          "--stream",
          "--format json | text | base64",
          "--key ",
          "--key-field",
          "--explicit-hash-key-field",
          "--aggregate",
          "--ordered",
          "--strict",
          "--checkpoint FILE",
          "--linger",
          "--max-batch-records",
          "--max-batch-bytes",
          "--max-record-bytes",
          "--max-buffered-records",
          "--max-buffered-bytes",
          "--max-in-flight",
          "--request-timeout",
          "--shutdown-timeout",
          "--record-ttl",
          "--log-batches",
          "--no-shard-aware",
          "--shard-capacity",
          "--shard-map-refresh",
          "Exit status: 0"
        ]
      ) expect(put.stdout).toContain(option)
      const get = yield* kinesisWriter(["get", "--help"])
      for (const option of ["--from trim-horizon | latest | at-timestamp", "--timestamp", "--limit", "--follow"]) {
        expect(get.stdout).toContain(option)
      }
    }), 60_000)

  it.live(
    "each command's --help fits a screen, with no filler, and local's shows only its own commands",
    () =>
      Effect.gen(function*() {
        for (const command of [["put"], ["get"], ["local"], ["local", "start"]]) {
          const help = yield* kinesisWriter([...command, "--help"])
          expect(help.code).toBe(0)
          expect(lines(help.stdout).length, help.stdout).toBeLessThanOrEqual(70)
          expect(help.stdout).not.toContain("A user-defined piece of text")
          expect(help.stdout).not.toContain("This setting is optional")
          expect(help.stdout).not.toContain("\x1b[")
        }
        const local = yield* kinesisWriter(["local", "--help"])
        for (const command of ["start", "stop", "status"]) expect(local.stdout).toContain(command)
        for (const builtIn of ["--wizard", "--completions", "--log-level"]) expect(local.stdout).not.toContain(builtIn)
      }),
    60_000
  )

  it.live(
    "refuses an unknown option as such, naming the closest known one, and reads no file",
    () =>
      Effect.gen(function*() {
        const typo = yield* kinesisWriter(["put", "--local", "--stream", "s", "--lingr", "5ms", input.file])
        expect(typo.code).toBe(2)
        expect(typo.stderr).toContain("Unrecognized flag: --lingr")
        expect(typo.stderr).toMatch(/Did you mean this\?\s+--linger/)
        expect(typo.stderr).not.toContain("no such file")
        expect(typo.stdout).toBe("")
        const value = yield* kinesisWriter(["put", "--local", "--stream", "s", "--linger", "5 parsecs"])
        expect(value.code).toBe(2)
        expect(value.stderr).toContain("--linger: \"5 parsecs\" is not a duration")
      }),
    60_000
  )

  it.live("refuses contradictory options with status 2", () =>
    Effect.gen(function*() {
      const both = yield* kinesisWriter(["put", "--local", "--stream", "s", "--key", "k", "--key-field", "user.id"])
      expect(both.code).toBe(2)
      expect(both.stderr).toContain("--key and --key-field")
      const missing = yield* kinesisWriter(["put", "--local", "--stream", "s", path.join(work, "nothing.ndjson")])
      expect(missing.code).toBe(2)
      expect(missing.stderr).toContain("nothing.ndjson: no such file")
    }), 60_000)
})
