import { describe, expect, it } from "@effect/vitest"
import * as Chart from "../src/Chart.js"
import * as Core from "../src/Core.js"
import * as Report from "../src/Report.js"
import type * as Results from "../src/Results.js"
import * as Scenarios from "../src/Scenarios.js"
import * as Targets from "../src/Targets.js"

const resultsWith = (core: Results.CoreResult): Results.Results => ({
  machine: { date: "", cpu: "", cores: 2, memoryGiB: 1, node: "", platform: "", loadAverage: 0, revision: "" },
  plan: { ...Scenarios.plan("quick"), cases: [] },
  runs: [],
  summaries: [],
  core
})

describe("Core", () => {
  it("runs every record down the production path: encoded, taken, sent in requests of 500, delivered", async () => {
    const measured = await Core.measure(25_000, 100)
    expect(measured.records).toBe(25_000)
    expect(measured.requests).toBe(50)
    expect(measured.recordsPerSecond).toBeGreaterThan(0)
  })

  it("checks the pure core's target, and reports it in the table, the chart and the README", () => {
    const run = { records: 1, elapsedMs: 1, recordsPerSecond: 1_000, requests: 1 }
    const slow = resultsWith({ path: "production", runs: [run], recordsPerSecond: 1_000, errors: [] })
    const target = Targets.targets.find((t) => t.case === "core")!
    expect(Targets.check(target, slow)).toMatchObject({ figure: 1_000, met: false })
    const fast = resultsWith({ path: "production", runs: [run], recordsPerSecond: 3e6, errors: [] })
    expect(Targets.check(target, fast).met).toBe(true)
    expect(Report.report(fast, "text")).toMatch(/pure core records\/s, one core .* 3,000,000 .* yes/)
    expect(Report.report(fast, "md")).toContain("## How it measures")
    expect(Chart.svg(fast)).toContain("3,000,000")
  })
})
