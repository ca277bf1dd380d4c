/**
 * What a bench run found: every run as measured, each writer's medians per case, and the targets of issue 4
 * checked against them. This is what `results.json` holds, and what the table, chart and README are made from.
 */
import type { CoreMeasured } from "./Core.js"
import type { RunResult } from "./Harness.js"
import { baseline, type WriterName, writers } from "./Job.js"
import type { Machine } from "./Machine.js"
import type { Case, Plan } from "./Scenarios.js"
import { SHARD_RECORDS_PER_SECOND } from "./Scenarios.js"
import { median } from "./Stats.js"

const MiB = 2 ** 20

/** One writer's run, flattened for JSON. */
export interface Run {
  readonly case: string
  readonly round: number
  /** Its place in the round's order (0 first). */
  readonly order: number
  readonly writer: WriterName
  /** True when every record was read back and the writer finished: the only runs whose speed counts. */
  readonly ok: boolean
  readonly error: string | undefined
  readonly elapsedMs: number | undefined
  readonly recordsPerSecond: number | undefined
  /** Records per second over the hand loop's in the same round. */
  readonly ratio: number | undefined
  readonly cpuMicrosPerRecord: number | undefined
  readonly baselineRssMiB: number | undefined
  readonly baselineHeapMiB: number | undefined
  readonly peakRssMiB: number | undefined
  readonly peakHeapMiB: number | undefined
  readonly missing: number
  readonly duplicates: number
  readonly foreign: number
  readonly reportedFailed: number | undefined
  /** PutRecords requests the server received, and records it refused (limits, injected throttling). */
  readonly requests: number
  readonly refused: number
}

/** One writer in one case: medians over its rounds. */
export interface Summary {
  readonly case: string
  readonly writer: WriterName
  readonly runs: number
  /** Runs that lost records or did not finish. */
  readonly failedRuns: number
  readonly recordsPerSecond: number
  readonly ratio: number
  readonly ratioMin: number
  readonly ratioMax: number
  /** Records per second over the stream's write capacity (cases with AWS limits only). */
  readonly capacityShare: number | undefined
  readonly cpuMicrosPerRecord: number
  readonly peakRssMiB: number
  readonly peakHeapMiB: number
  readonly baselineRssMiB: number
  readonly baselineHeapMiB: number
  /** The most records one run lost, and the most duplicates one run stored. */
  readonly missing: number
  readonly duplicates: number
  readonly reportedFailed: number
  /** Medians of the PutRecords requests sent and of the records the server refused. */
  readonly requests: number
  readonly refused: number
  readonly errors: ReadonlyArray<string>
}

/** A target of issue 4, checked. */
export interface Target {
  readonly name: string
  readonly goal: string
  readonly figure: string
  /** Undefined when its scenario was not run. */
  readonly met: boolean | undefined
}

/** The pure core's measurements. */
export interface CoreResult {
  readonly runs: ReadonlyArray<CoreMeasured>
  readonly recordsPerSecond: number
  readonly errors: ReadonlyArray<string>
}

/** Everything `results.json` holds. */
export interface Results {
  readonly machine: Machine
  readonly plan: Plan
  readonly settings: {
    readonly tuned: Readonly<Record<string, unknown>>
    readonly handLoop: string
  }
  readonly runs: ReadonlyArray<Run>
  readonly summaries: ReadonlyArray<Summary>
  readonly core: CoreResult | undefined
  readonly targets: ReadonlyArray<Target>
}

/** Flattens the runs of one round of one case, with ratios against that round's hand loop. */
export const flatten = (testCase: Case, round: number, results: ReadonlyArray<RunResult>): Array<Run> => {
  const rate = (result: RunResult) =>
    result.measured === undefined ? undefined : testCase.records / (result.measured.elapsedMs / 1000)
  const reference = results.find((result) => result.writer === baseline)
  const referenceRate = reference !== undefined && isOk(reference) ? rate(reference) : undefined
  return results.map((result, order) => {
    const measured = result.measured
    const recordsPerSecond = rate(result)
    return {
      case: testCase.id,
      round,
      order,
      writer: result.writer,
      ok: isOk(result),
      error: result.error,
      elapsedMs: measured?.elapsedMs,
      recordsPerSecond,
      ratio: recordsPerSecond === undefined || referenceRate === undefined ?
        undefined :
        recordsPerSecond / referenceRate,
      cpuMicrosPerRecord: measured === undefined ? undefined : (measured.cpuMs * 1000) / testCase.records,
      baselineRssMiB: measured === undefined ? undefined : measured.baselineRssBytes / MiB,
      baselineHeapMiB: measured === undefined ? undefined : measured.baselineHeapBytes / MiB,
      peakRssMiB: measured === undefined ? undefined : measured.peakRssBytes / MiB,
      peakHeapMiB: measured === undefined ? undefined : measured.peakHeapBytes / MiB,
      missing: result.tally.missing,
      duplicates: result.tally.duplicates,
      foreign: result.tally.foreign,
      reportedFailed: measured?.reportedFailed,
      requests: result.server.requests,
      refused: result.server.refused
    }
  })
}

const isOk = (result: RunResult) =>
  result.error === undefined && result.tally.missing === 0 && result.tally.foreign === 0

const medianOf = (runs: ReadonlyArray<Run>, pick: (run: Run) => number | undefined): number =>
  median(runs.map(pick).filter((value): value is number => value !== undefined))

/** Each writer's medians in each case. Speed is the median of all runs that finished, lost records or not. */
export const summarize = (cases: ReadonlyArray<Case>, runs: ReadonlyArray<Run>): Array<Summary> =>
  cases.flatMap((testCase) =>
    writers.flatMap((writer): Array<Summary> => {
      const mine = runs.filter((run) => run.case === testCase.id && run.writer === writer)
      if (mine.length === 0) return []
      const ratios = mine.map((run) => run.ratio).filter((ratio): ratio is number => ratio !== undefined)
      const recordsPerSecond = medianOf(mine, (run) => run.recordsPerSecond)
      return [{
        case: testCase.id,
        writer,
        runs: mine.length,
        failedRuns: mine.filter((run) => !run.ok).length,
        recordsPerSecond,
        ratio: median(ratios),
        ratioMin: ratios.length === 0 ? Number.NaN : Math.min(...ratios),
        ratioMax: ratios.length === 0 ? Number.NaN : Math.max(...ratios),
        capacityShare: testCase.limits ? recordsPerSecond / (testCase.shards * SHARD_RECORDS_PER_SECOND) : undefined,
        cpuMicrosPerRecord: medianOf(mine, (run) => run.cpuMicrosPerRecord),
        peakRssMiB: medianOf(mine, (run) => run.peakRssMiB),
        peakHeapMiB: medianOf(mine, (run) => run.peakHeapMiB),
        baselineRssMiB: medianOf(mine, (run) => run.baselineRssMiB),
        baselineHeapMiB: medianOf(mine, (run) => run.baselineHeapMiB),
        missing: Math.max(...mine.map((run) => run.missing)),
        duplicates: Math.max(...mine.map((run) => run.duplicates)),
        reportedFailed: Math.max(0, ...mine.map((run) => run.reportedFailed ?? 0)),
        requests: medianOf(mine, (run) => run.requests),
        refused: medianOf(mine, (run) => run.refused),
        errors: [...new Set(mine.flatMap((run) => run.error === undefined ? [] : [firstLine(run.error)]))]
      }]
    })
  )

const firstLine = (text: string) => text.split("\n").find((line) => line.trim() !== "")?.trim() ?? text

/** Whether a writer's summary counts as a success: every run delivered every record. */
export const delivered = (summary: Summary): boolean => summary.failedRuns === 0

/**
 * How much a peak may grow from one load to ten times it and still be called flat. Not 1x: garbage between
 * collections lifts even a bounded writer's peak in a longer run (the hand loop's grows 1.4x to 1.8x); a writer
 * that holds the load grows toward 10x.
 */
export const FLAT_GROWTH = 2

/** The core's goal, records per second on one core. */
export const CORE_GOAL = 2_000_000

/** The clean case's goal, as a share of the hand loop's records per second. */
export const CLEAN_GOAL = 0.95

const fmt = (value: number, digits = 2) => Number.isFinite(value) ? value.toFixed(digits) : "n/a"

/** Checks the targets of issue 4 against the summaries. */
export const targets = (summaries: ReadonlyArray<Summary>, core: CoreResult | undefined): Array<Target> => {
  const find = (id: string, writer: WriterName) => summaries.find((s) => s.case === id && s.writer === writer)
  const list: Array<Target> = []
  const mine = find("clean", "effect-kinesis")
  if (mine === undefined) {
    list.push({ name: "clean vs hand loop", goal: `>= ${CLEAN_GOAL}x`, figure: "not run", met: undefined })
    list.push({ name: "clean vs other writers", goal: "ahead of each", figure: "not run", met: undefined })
  } else {
    list.push({
      name: "clean vs hand loop",
      goal: `>= ${CLEAN_GOAL}x the hand loop's records/s, every record delivered`,
      figure: `${fmt(mine.ratio)}x (rounds ${fmt(mine.ratioMin)}-${fmt(mine.ratioMax)}); ${
        delivered(mine) ? "all delivered" : `lost up to ${mine.missing}`
      }`,
      met: delivered(mine) && mine.ratio >= CLEAN_GOAL
    })
    const ours: ReadonlyArray<WriterName> = [baseline, "effect-kinesis", "effect-kinesis-tuned"]
    const others = summaries.filter((s) => s.case === "clean" && !ours.includes(s.writer))
    // A writer that lost records is beaten whatever its speed: it did not do the job.
    const ahead = others.filter((other) => !delivered(other) || other.ratio < mine.ratio)
    list.push({
      name: "clean vs other writers",
      goal: "ahead of every other writer (median ratio to the hand loop)",
      // Our own spread beside theirs: a lead smaller than it is a tie, whatever this run's medians say.
      figure: `effect-kinesis ${fmt(mine.ratio)}x (rounds ${fmt(mine.ratioMin)}-${fmt(mine.ratioMax)}); ` +
        others.map((other) => `${other.writer} ${fmt(other.ratio)}x${delivered(other) ? "" : " (lost records)"}`)
          .join(", "),
      met: delivered(mine) && ahead.length === others.length
    })
  }
  list.push(
    core === undefined ?
      { name: "pure core", goal: `>= ${CORE_GOAL / 1e6}M records/s`, figure: "not run", met: undefined } :
      {
        name: "pure core",
        goal: `>= ${CORE_GOAL / 1e6}M records/s on one core (Record.encode + Batch.cut, 100-byte strings)`,
        figure: `${fmt(core.recordsPerSecond / 1e6)}M records/s`,
        met: core.recordsPerSecond >= CORE_GOAL
      }
  )
  const low = find("overload-1x", "effect-kinesis")
  const high = find("overload-10x", "effect-kinesis")
  if (low === undefined || high === undefined) {
    list.push({ name: "overload memory", goal: "flat", figure: "not run", met: undefined })
  } else {
    const heap = high.peakHeapMiB / low.peakHeapMiB
    const rss = high.peakRssMiB / low.peakRssMiB
    const reference = [find("overload-1x", baseline), find("overload-10x", baseline)]
    const context = reference[0] === undefined || reference[1] === undefined ?
      "" :
      `; the hand loop: heap ${fmt(reference[1].peakHeapMiB / reference[0].peakHeapMiB)}x, RSS ${
        fmt(reference[1].peakRssMiB / reference[0].peakRssMiB)
      }x`
    list.push({
      name: "overload memory",
      goal: `flat: peak heap and RSS at 10x the load <= ${FLAT_GROWTH}x those at 1x (defaults)`,
      figure: `heap ${fmt(low.peakHeapMiB, 0)} -> ${fmt(high.peakHeapMiB, 0)} MiB (${fmt(heap)}x), RSS ${
        fmt(low.peakRssMiB, 0)
      } -> ${fmt(high.peakRssMiB, 0)} MiB (${fmt(rss)}x)${context}`,
      met: delivered(low) && delivered(high) && heap <= FLAT_GROWTH && rss <= FLAT_GROWTH
    })
  }
  return list
}
