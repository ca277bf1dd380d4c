import { describe, it } from "vitest"
import { crashAndResume } from "../support/resume.js"

describe("kinesis-writer put --checkpoint, 200,000 lines", () => {
  it(
    "after SIGKILL at 3 random places, reruns of the same command store every line; sent twice at most the buffer per kill",
    async () => {
      await crashAndResume({
        lines: 200_000,
        files: 3,
        shards: 16,
        buffer: 5_000,
        kills: 3,
        seed: Date.now() % 100_000,
        runLimitMillis: 300_000
      })
    },
    1_800_000
  )
})
