import { describe, expect, it } from "@effect/vitest"
import * as Outcome from "../src/Outcome.js"
import * as Progress from "../src/Progress.js"

const outcome = (final: Partial<Progress.Snapshot>, rest: Partial<Outcome.Outcome> = {}): Outcome.Outcome => ({
  stream: "events",
  inputs: ["events.ndjson"],
  elapsedMillis: 2_000,
  final: { ...Progress.empty(0), ...final },
  abandoned: 0,
  failures: [],
  ...rest
})

describe("Outcome", () => {
  it("exits 0 when every line was stored, 1 with bad lines, 2 with failures, 130 on Ctrl-C", () => {
    expect(Outcome.exitCode(outcome({ delivered: 10 }))).toBe(0)
    expect(Outcome.exitCode(outcome({ delivered: 10, bad: 1 }))).toBe(1)
    expect(Outcome.exitCode(outcome({ delivered: 9, failed: 1, bad: 1 }))).toBe(2)
    expect(Outcome.exitCode(outcome({}, { stop: { _tag: "Fatal", message: "no" } }))).toBe(2)
    const sigint = { _tag: "Signal", signal: "SIGINT" } as const
    expect(Outcome.exitCode(outcome({ bad: 1 }, { stop: sigint }))).toBe(130)
    expect(Outcome.exitCode(outcome({}, { stop: { _tag: "Signal", signal: "SIGTERM" } }))).toBe(143)
    expect(Outcome.exitCode(outcome({}, { stop: sigint, abandoned: 3 }))).toBe(2)
    expect(Outcome.exitCode(outcome({ bad: 1 }, { stop: { _tag: "Strict", where: "f:1", reason: "x" } }))).toBe(1)
  })

  it("says where to resume a run that stopped early, and what a resumed run skipped", () => {
    const stopped = Outcome.summary(outcome(
      { delivered: 5, taken: 5, lines: 7 },
      { stop: { _tag: "Signal", signal: "SIGINT" }, resume: { input: "a.ndjson", line: 6, more: 1 } }
    ))
    expect(stopped).toContain("  stopped    Ctrl-C: reading stopped; the 5 records taken were drained")
    expect(stopped).toContain(
      "  resume     from line 6 of a.ndjson, then the 1 input after it: every line before it is stored (tail -n +6 " +
        "a.ndjson; with --checkpoint FILE, a rerun resumes by itself)"
    )
    const failed = Outcome.summary(outcome(
      { delivered: 5, failed: 1 },
      {
        stop: { _tag: "Failed" },
        checkpoint: "ck.json",
        skipped: 1_000,
        resume: { input: "a.ndjson", line: 1_006, more: 0 }
      }
    ))
    expect(Outcome.exitCode(outcome({ delivered: 5 }, { stop: { _tag: "Failed" } }))).toBe(2)
    expect(failed).toContain("  resumed    1,000 lines skipped: an earlier run stored them (checkpoint ck.json)")
    expect(failed).toContain(
      "  resume     from line 1,006 of a.ndjson: every line before it is stored; run the same command again to go on " +
        "from there"
    )
    expect(failed).toContain(
      "  stopped    a record failed for good: reading stopped there, and what was taken was drained"
    )
  })

  it("summarizes what was stored, read, retried and lost, and why it exits as it does", () => {
    const lines = Outcome.summary(outcome(
      { delivered: 9, failed: 1, lines: 11, bad: 1, deliveredBytes: 2_000_000, requests: 3, retried: 4, throttled: 2 },
      { failures: Outcome.groupFailures([{ code: "AccessDeniedException", detail: "denied" }]) }
    ))
    expect(lines).toEqual([
      "9 records stored in stream events (2.00 MB) in 2.00 s, 5 records/s",
      "  input      11 lines from events.ndjson; 1 bad line skipped",
      "  requests   3 PutRecords; 4 records sent again (2 throttled); 1 failed",
      "  not stored 1 x AccessDeniedException: denied",
      "  exit       2: records were not stored"
    ])
  })
})
