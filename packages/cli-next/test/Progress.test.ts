import { describe, expect, it } from "@effect/vitest"
import * as Progress from "../src/Progress.js"

describe("Progress", () => {
  it("measures rates between two snapshots", () => {
    const then = { ...Progress.empty(0), delivered: 100, deliveredBytes: 10_000 }
    const now = { ...Progress.empty(2_000), delivered: 2_100, deliveredBytes: 2_010_000, inFlight: 3, bad: 1 }
    expect(Progress.rates(then, now)).toEqual({ records: 1_000, bytes: 1_000_000 })
    expect(Progress.line(then, now)).toBe(
      "2,100 stored  1,000 records/s  1.00 MB/s  in flight 3  retries 0  throttled 0  failed 0  bad lines 1"
    )
  })

  it("cuts the status line to the terminal's width", () => {
    expect(Progress.fit("abcdef", 5)).toBe("abc…")
    expect(Progress.fit("abc", 5)).toBe("abc")
  })
})
