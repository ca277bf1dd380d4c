/**
 * The targets, as data: each a figure of one writer in one case (a median of per-round figures or ratios), a
 * comparison and a threshold, with the issue and item it comes from. One function checks any of them.
 */
import type { WriterName } from "./Job.js"
import { delivered, type Metric, type Results, type Summary } from "./Results.js"

/** One target. */
export interface Target {
  /** The issue and item it comes from: `18.1` is issue 18, item 1. */
  readonly item: string
  readonly name: string
  /** The case, or `core` for the pure core's records per second. */
  readonly case: string
  readonly writer: WriterName
  readonly metric: Metric
  readonly comparison: "<=" | ">="
  /** A number, or another writer: its figure in the same case. */
  readonly threshold: number | WriterName
}

/** A target checked. */
export interface Checked {
  readonly target: Target
  /** The figure, and the threshold it was held to; undefined: not measured. */
  readonly figure: number | undefined
  readonly threshold: number | undefined
  /** The rounds' figures the median comes from. */
  readonly rounds: ReadonlyArray<number>
  /** Undefined when its case was not run. */
  readonly met: boolean | undefined
  /** Why not met beyond the figure: records lost, a run failed. */
  readonly note: string
}

// One target a line: issue item, case, writer, metric, comparison, threshold, name.
const t = (
  item: string,
  case_: string,
  writer: WriterName,
  metric: Metric,
  comparison: "<=" | ">=",
  threshold: number | WriterName,
  name: string
): Target => ({ item, name, case: case_, writer, metric, comparison, threshold })

const ek: WriterName = "effect-kinesis"
const shared = (id: string, who: string, refused: number) => [
  t("18.2", id, ek, "capacityShare", ">=", 0.95, `${who}: record capacity`),
  t("18.2", id, ek, "refusedShare", "<=", refused, `${who}: sends refused`),
  t("18.2", id, ek, "shareDeviation", "<=", 0.25, `${who}: the most one is off an equal share`)
]
const ahead = (other: WriterName) => [
  t("4", "clean-32", ek, "ratio", ">=", other, `records/s ahead of ${other}`),
  t("4", "clean-32", ek, "cpuMicrosPerRecord", "<=", other, `CPU per record below ${other}'s`)
]

/** Every target: issue 18's, then those of the earlier issues (4: speed and memory; 7: shards; 8: aggregation). */
export const targets: ReadonlyArray<Target> = [
  t("18.1", "clean-32", ek, "cpuRatio", "<=", 1.25, "CPU per record, enqueue, over the hand loop's"),
  t("18.1", "clean-32", "effect-kinesis-sink", "cpuRatio", "<=", 1.1, "CPU per record, sink, over the hand loop's"),
  t(
    "18.1",
    "clean-32",
    "effect-kinesis-all",
    "cpuRatio",
    "<=",
    1.1,
    "CPU per record, enqueueAll, over the hand loop's"
  ),
  t("18.1", "clean", ek, "pacedCpuRatio", "<=", 1.1, "CPU per record paced (clean, 4 shards) over unpaced (clean-32)"),
  t("18.1", "clean-32", ek, "rssRatio", "<=", 1.25, "peak RSS, enqueue, over the hand loop's"),
  t("18.1", "clean-32", "effect-kinesis-sink", "rssRatio", "<=", 1.25, "peak RSS, sink, over the hand loop's"),
  t("18.1", "clean-32", "effect-kinesis-all", "rssRatio", "<=", 1.25, "peak RSS, enqueueAll, over the hand loop's"),
  ...shared("two-writers", "two writers", 0.03),
  ...shared("four-writers", "four writers", 0.05),
  t("18.3", "aggregated", "effect-kinesis-aggregated", "capacityShare", ">=", 0.9, "aggregation: byte capacity"),
  t("18.3", "aggregated", "effect-kinesis-aggregated", "refusedShare", "<=", 0.01, "aggregation: sends refused"),
  t("18.4", "random-refusals", ek, "blindTimeRatio", "<=", 1.5, "random refusals: time over shard-blind's"),
  t("4", "clean-32", ek, "ratio", ">=", 0.95, "records/s over the hand loop's"),
  ...ahead("shutterstock"),
  ...ahead("aws-kinesis-writable"),
  ...ahead("naive-port"),
  t("4", "core", ek, "recordsPerSecond", ">=", 2_000_000, "pure core records/s, one core"),
  t("4", "overload-10x", ek, "heapGrowth", "<=", 2, "overload: peak heap at 10x the load over 1x"),
  t("4", "overload-10x", ek, "rssGrowth", "<=", 2, "overload: peak RSS at 10x the load over 1x"),
  t("7", "aws-4x1.25", ek, "capacityShare", ">=", 0.97, "4 shards at 1.25x: record capacity"),
  t("7", "aws-4x1.25", ek, "refusedShare", "<=", 0.01, "4 shards at 1.25x: sends refused"),
  t("7", "hot-key", ek, "capacityShare", ">=", 0.95, "hot key: the hot shard's record capacity"),
  t("7", "hot-key", ek, "refusedShare", "<=", 0.02, "hot key: sends refused"),
  t("7", "split", ek, "splitToCapacitySeconds", "<=", 3, "split: seconds until both new shards are at capacity"),
  t("7", "clean", ek, "blindCpuRatio", "<=", 1.1, "shard-aware CPU per record over shard-blind's (4 shards)")
]

const find = (summaries: ReadonlyArray<Summary>, id: string, writer: WriterName) =>
  summaries.find((s) => s.case === id && s.writer === writer)

/** Checks one target against a run's results: every record delivered, and the figure on the right side. */
export const check = (target: Target, results: Pick<Results, "runs" | "summaries" | "core">): Checked => {
  if (target.case === "core") {
    const core = results.core
    const figure = core?.recordsPerSecond
    const threshold = target.threshold as number
    return {
      target,
      figure,
      threshold,
      rounds: core?.runs.map((run) => run.recordsPerSecond) ?? [],
      met: figure === undefined ? undefined : compare(target, figure, threshold) && core!.errors.length === 0,
      note: core === undefined || core.errors.length === 0 ? "" : core.errors[0]
    }
  }
  const mine = find(results.summaries, target.case, target.writer)
  const other = typeof target.threshold === "number"
    ? undefined
    : find(results.summaries, target.case, target.threshold)
  const threshold = typeof target.threshold === "number" ? target.threshold : other?.[target.metric]
  const figure = mine?.[target.metric]
  const rounds = results.runs.flatMap((run) =>
    run.case === target.case && run.writer === target.writer && run[target.metric] != null ? [run[target.metric]!] : []
  )
  if (mine === undefined || (typeof target.threshold !== "number" && other === undefined)) {
    return { target, figure, threshold, rounds, met: undefined, note: "" }
  }
  const lost = delivered(mine) ?
    "" :
    mine.missing > 0 ?
    `lost up to ${mine.missing} records` :
    `failed: ${mine.errors[0] ?? "a run did not finish"}`
  return {
    target,
    figure,
    threshold,
    rounds,
    met: lost === "" && figure !== undefined && threshold !== undefined && compare(target, figure, threshold),
    note: lost
  }
}

const compare = (target: Target, figure: number, threshold: number) =>
  target.comparison === "<=" ? figure <= threshold : figure >= threshold

/** Every target checked. */
export const checkAll = (results: Pick<Results, "runs" | "summaries" | "core">): Array<Checked> =>
  targets.map((target) => check(target, results))
