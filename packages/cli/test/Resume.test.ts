import { describe, it } from "vitest"
import { crashAndResume } from "./support/resume.js"

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
