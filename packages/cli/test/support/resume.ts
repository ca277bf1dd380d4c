/**
 * The crash test of `put --checkpoint`: a file of numbered lines written by `kinesis-writer put` in a child process
 * that is killed with SIGKILL at random places, then run again with the same command until it ends; every line
 * must be in the stream, every line behind a checkpoint already there when the child died, and the lines sent twice
 * no more than the writer's buffer per kill.
 */
import { LocalServer } from "@effect-kinesis/local-server"
import { spawn } from "node:child_process"
import * as fs from "node:fs"
import * as os from "node:os"
import * as path from "node:path"
import { fileURLToPath } from "node:url"
import { expect } from "vitest"

const manifest = JSON.parse(fs.readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as {
  readonly name: string
  readonly bin: { readonly "kinesis-writer": string }
}
const root = fileURLToPath(new URL("../../../../", import.meta.url))
const bin = path.join(root, "node_modules", manifest.name, manifest.bin["kinesis-writer"])

/** What one crash test does. */
export interface Plan {
  /** Lines in all, spread over `files` files of about equal size. */
  readonly lines: number
  readonly files: number
  readonly shards: number
  /** The writer's buffer (`--max-buffered-records`): what a kill may send twice. */
  readonly buffer: number
  /** Kills, each once the checkpoint passed a random line of its own stretch of the input. */
  readonly kills: number
  /** The random draws' seed. */
  readonly seed: number
  /** How long one run may take before it counts as hung (far more than it takes on a busy machine). */
  readonly runLimitMillis: number
}

interface Ran {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  readonly stderr: string
  /** The checkpoint's line count when the child was killed (undefined when it was not). */
  readonly killedAt: number | undefined
}

// A small seeded generator (mulberry32): the kill places are random, and the same for a given seed.
const random = (seed: number) => () => {
  seed = (seed + 0x6d2b79f5) | 0
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed)
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296
}

const linesBehind = (checkpoint: string): number => {
  try {
    const { place } = JSON.parse(fs.readFileSync(checkpoint, "utf8")) as {
      readonly place: { readonly lines: number; readonly linesBefore: number }
    }
    return place.linesBefore + place.lines
  } catch {
    return 0 // not written yet (or, never, half written: it is replaced whole)
  }
}

// Runs the command; with `killAfter`, kills it with SIGKILL once the checkpoint is past that many lines.
const put = (
  args: ReadonlyArray<string>,
  env: NodeJS.ProcessEnv,
  checkpoint: string,
  limitMillis: number,
  killAfter?: number
) =>
  new Promise<Ran>((resolve, reject) => {
    const child = spawn(bin, args, { env, stdio: ["ignore", "ignore", "pipe"] })
    let stderr = ""
    let killedAt: number | undefined
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text
    })
    const watch = killAfter === undefined ? undefined : setInterval(() => {
      const behind = linesBehind(checkpoint)
      if (behind >= killAfter && killedAt === undefined) {
        killedAt = behind
        child.kill("SIGKILL")
      }
    }, 5)
    // A run that hangs fails the test here, with what it said, rather than at the test's timeout.
    const limit = setTimeout(() => child.kill("SIGKILL"), limitMillis)
    child.once("error", reject)
    child.once("close", (code, signal) => {
      clearTimeout(limit)
      if (watch !== undefined) clearInterval(watch)
      resolve({ code, signal, stderr, killedAt })
    })
  })

/**
 * The bin's `put` into a fresh stream of the embedded Kinesis with `lines` numbered lines in one file and `args`
 * after them (the checkpoint's among them); `during` runs once the run started, with the work directory. Gives how
 * it ended and the lines stored.
 */
export const putOnce = async (options: {
  readonly lines: number
  readonly args: (work: string, file: string) => ReadonlyArray<string>
  readonly during?: ((work: string) => Promise<void>) | undefined
  readonly limitMillis: number
}): Promise<{ readonly ran: Ran; readonly stored: ReadonlyArray<string>; readonly all: ReadonlyArray<string> }> => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "kinesis-writer-put-"))
  const server = await LocalServer.start({ streams: { backfill: 2 } })
  try {
    const all = Array.from({ length: options.lines }, (_, i) => JSON.stringify({ line: i + 1 }))
    const file = path.join(work, "lines.ndjson")
    fs.writeFileSync(file, `${all.join("\n")}\n`)
    const args = ["put", "--stream", "backfill", "--endpoint", server.endpoint, "--region", server.region]
    const running = put([...args, ...options.args(work, file)], envOf(), "", options.limitMillis)
    await options.during?.(work)
    const ran = await running
    const stored = (await server.readAll("backfill")).map((record) => Buffer.from(record.data).toString())
    return { ran, stored, all }
  } finally {
    await server.close()
    fs.rmSync(work, { recursive: true, force: true })
  }
}

const envOf = (): NodeJS.ProcessEnv => ({
  ...process.env,
  // The bin's `#!/usr/bin/env node` finds the Node running the tests (Effect 4 needs 22.19 or later).
  PATH: [path.dirname(process.execPath), process.env.PATH].join(path.delimiter),
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true"
})

/** Runs the crash test of `plan`; throws (through `expect`) at the first broken promise. */
export const crashAndResume = async (plan: Plan): Promise<void> => {
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "kinesis-writer-resume-"))
  let server: LocalServer.LocalServer | undefined
  try {
    server = await LocalServer.start({ streams: { backfill: plan.shards } })
    const all = Array.from({ length: plan.lines }, (_, i) => JSON.stringify({ line: i + 1, pad: "r".repeat(40) }))
    const per = Math.ceil(plan.lines / plan.files)
    const files = Array.from({ length: plan.files }, (_, f) => {
      const file = path.join(work, `part-${f}.ndjson`)
      fs.writeFileSync(file, `${all.slice(f * per, (f + 1) * per).join("\n")}\n`)
      return file
    })
    const checkpoint = path.join(work, "backfill.checkpoint")
    const args = [
      "put",
      "--stream",
      "backfill",
      "--endpoint",
      server.endpoint,
      "--region",
      server.region,
      "--max-buffered-records",
      String(plan.buffer),
      "--checkpoint",
      checkpoint,
      ...files
    ]
    const env = envOf()
    const stored = async () => (await server!.readAll("backfill")).map((record) => Buffer.from(record.data).toString())
    const draw = random(plan.seed)
    const stretch = plan.lines / (plan.kills + 1)
    for (let kill = 0; kill < plan.kills; kill++) {
      // A random line in this kill's stretch, away from its ends.
      const at = Math.floor(stretch * (kill + 0.6 + 0.8 * draw()))
      const before = linesBehind(checkpoint)
      const ran = await put(args, env, checkpoint, plan.runLimitMillis, at)
      expect(ran.killedAt, `run ${kill + 1} was to be killed past line ${at}: ${ran.stderr}`).toBeDefined()
      expect(ran.signal).toBe("SIGKILL")
      // The checkpoint moved on, and every line behind it is in the stream.
      const behind = linesBehind(checkpoint)
      expect(behind).toBeGreaterThanOrEqual(Math.max(at, before))
      const lines = new Set(await stored())
      const missing = all.slice(0, behind).filter((line) => !lines.has(line))
      expect(missing.slice(0, 3), `lines behind the checkpoint (${behind}) not stored`).toEqual([])
    }
    const resumeAt = linesBehind(checkpoint)
    const last = await put(args, env, checkpoint, plan.runLimitMillis)
    expect(last.code, last.stderr).toBe(0)
    // The summary says how many lines the run skipped: those behind the checkpoint it started from.
    const skipped = /([\d,]+) lines? skipped: an earlier run stored them/.exec(last.stderr)?.[1]
    expect(Number(skipped?.replace(/,/g, "")), last.stderr).toBe(resumeAt)
    const got = await stored()
    const counts = new Map<string, number>()
    for (const line of got) counts.set(line, (counts.get(line) ?? 0) + 1)
    // Every line stored; nothing else.
    expect(counts.size).toBe(plan.lines)
    expect(all.every((line) => counts.has(line))).toBe(true)
    // Sent twice: at most what each killed run held.
    const duplicates = got.length - counts.size
    expect(duplicates).toBeLessThanOrEqual(plan.kills * plan.buffer)
    // Run once more: nothing to send.
    const again = await put(args, env, checkpoint, plan.runLimitMillis)
    expect(again.code, again.stderr).toBe(0)
    expect(again.stderr).toContain("nothing to send")
    expect((await stored()).length).toBe(got.length)
  } catch (error) {
    // The seed places the kills again.
    if (error instanceof Error) error.message = `(seed ${plan.seed}) ${error.message}`
    throw error
  } finally {
    await server?.close()
    fs.rmSync(work, { recursive: true, force: true })
  }
}
