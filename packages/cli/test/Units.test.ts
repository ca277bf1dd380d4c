import { describe, expect, it } from "@effect/vitest"
import * as Result from "effect/Result"
import * as Units from "../src/Units.js"

describe("Units", () => {
  it("reads durations as typed on a command line", () => {
    expect(["250ms", "2s", "1.5 seconds", "1m", "100 millis", "40"].map(Units.parseDuration)).toEqual(
      [250, 2_000, 1_500, 60_000, 100, 40].map(Result.succeed)
    )
    expect(Result.isFailure(Units.parseDuration("5 parsecs"))).toBe(true)
  })

  it("reads sizes with binary and decimal units", () => {
    expect(["1048576", "512KiB", "5MiB", "1MB", "1M"].map(Units.parseSize)).toEqual(
      [1_048_576, 524_288, 5_242_880, 1_000_000, 1_048_576].map(Result.succeed)
    )
    expect(Result.isFailure(Units.parseSize("lots"))).toBe(true)
  })

  it("writes numbers, sizes and durations for people", () => {
    expect(Units.count(12345.6)).toBe("12,346")
    expect(Units.megabytes(1_234_567)).toBe("1.23 MB")
    expect(Units.seconds(6_789)).toBe("6.79 s")
    expect(Units.plural(1, "line")).toBe("1 line")
    expect(Units.plural(2_000, "line")).toBe("2,000 lines")
    expect(Units.span(30 * 60_000)).toBe("30 minutes")
  })
})
