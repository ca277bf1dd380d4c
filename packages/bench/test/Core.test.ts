import { describe, expect, it } from "@effect/vitest"
import * as Chart from "../src/Chart.js"
import * as Core from "../src/Core.js"
import * as Report from "../src/Report.js"
import * as Results from "../src/Results.js"
import * as Scenarios from "../src/Scenarios.js"

const resultsWith = (core: Results.CoreResult): Results.Results => ({
  machine: { date: "", cpu: "", cores: 2, memoryGiB: 1, node: "", platform: "", loadAverage: 0, revision: "" },
  plan: { ...Scenarios.plan("quick"), cases: [] },
  settings: { tuned: {}, handLoop: "" },
  runs: [],
  summaries: [],
  core,
  targets: Results.targets([], core)
})

describe("Core", () => {
  it("runs every record down the production path: encoded, taken, sent in requests of 500, delivered", async () => {
    const measured = await Core.measure(25_000, 100)
    expect(measured.records).toBe(25_000)
    expect(measured.requests).toBe(50)
    expect(measured.recordsPerSecond).toBeGreaterThan(0)
  })

  it("names a figure of the production path, and an earlier bench's figure as what it was", () => {
    const run = { records: 1, elapsedMs: 1, recordsPerSecond: 1000, requests: 1 }
    const production = resultsWith({ path: "production", runs: [run], recordsPerSecond: 1000, errors: [] })
    expect(Report.markdown(production, "")).toContain("The path the writer runs in production")
    expect(Report.text(production)).toContain("production path")
    expect(Chart.svg(production)).toContain("production path")
    const earlier = resultsWith({ runs: [run], recordsPerSecond: 1000, errors: [] })
    expect(Report.markdown(earlier, "")).toContain("code production never ran")
    expect(earlier.targets.find((target) => target.name === "pure core")?.goal).toContain("Batch.cut")
  })
})
