import * as fs from "node:fs"
import * as path from "node:path"
import { describe, expect, it } from "vitest"
import { crashAndResume, putOnce } from "./support/resume.js"

// The 200,000-line run of the issue is in test/reliability (npm run test:reliability).
describe("kinesis-writer put --checkpoint", () => {
  it(
    "after SIGKILL at 3 random places, reruns of the same command store every line of 2 files; sent twice at most the buffer per kill",
    async () => {
      await crashAndResume({
        lines: 20_000,
        files: 2,
        shards: 8,
        buffer: 1_000,
        kills: 3,
        seed: Date.now() % 100_000,
        runLimitMillis: 60_000
      })
    },
    400_000
  )
})

describe("kinesis-writer put --checkpoint, a checkpoint that cannot be written", () => {
  it(
    "refuses to start when the checkpoint's directory does not exist, rather than hang once the buffer is full",
    async () => {
      const { ran, stored } = await putOnce({
        lines: 2_000,
        args: (work, file) => ["--max-buffered-records", "100", "--checkpoint", path.join(work, "no", "ck.json"), file],
        limitMillis: 30_000
      })
      expect(ran.signal, ran.stderr).toBe(null)
      expect(ran.code, ran.stderr).toBe(2)
      expect(ran.stderr).toContain(`cannot write checkpoint`)
      expect(stored.length).toBe(0)
    },
    60_000
  )

  it("stops reading when the checkpoint can no longer be written, and says where to resume", async () => {
    const { all, ran, stored } = await putOnce({
      lines: 20_000,
      args: (work, file) => ["--max-buffered-records", "100", "--checkpoint", path.join(work, "ck", "ck.json"), file],
      during: async (work) => {
        const dir = path.join(work, "ck")
        fs.mkdirSync(dir)
        // Once the run has saved a place, the directory goes: every save after fails.
        for (let i = 0; i < 2_000 && !fs.existsSync(path.join(dir, "ck.json")); i++) {
          await new Promise((resolve) => setTimeout(resolve, 5))
        }
        fs.rmSync(dir, { recursive: true, force: true })
      },
      limitMillis: 30_000
    })
    expect(ran.signal, ran.stderr).toBe(null)
    expect(ran.code, ran.stderr).toBe(2)
    expect(ran.stderr).toContain("cannot write checkpoint")
    // Every line before the place it gives is stored.
    const line = Number(/resume +from line ([\d,]+) of/.exec(ran.stderr)?.[1]?.replace(/,/g, ""))
    expect(line, ran.stderr).toBeGreaterThan(0)
    const got = new Set(stored)
    expect(all.slice(0, line - 1).filter((text) => !got.has(text)).slice(0, 3)).toEqual([])
  }, 60_000)
})
