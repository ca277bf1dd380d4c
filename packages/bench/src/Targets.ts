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

const enqueue: WriterName = "effect-kinesis"
const cpu = (case_: string, writer: WriterName, threshold: number, name: string): Target => ({
  item: "18.1",
  name,
  case: case_,
  writer,
  metric: "cpuRatio",
  comparison: "<=",
  threshold
})
const shared = (id: string, processes: string, refused: number): ReadonlyArray<Target> => [
  {
    item: "18.2",
    name: `${processes}: record capacity`,
    case: id,
    writer: enqueue,
    metric: "capacityShare",
    comparison: ">=",
    threshold: 0.95
  },
  {
    item: "18.2",
    name: `${processes}: sends refused`,
    case: id,
    writer: enqueue,
    metric: "refusedShare",
    comparison: "<=",
    threshold: refused
  },
  {
    item: "18.2",
    name: `${processes}: most off an equal share`,
    case: id,
    writer: enqueue,
    metric: "shareDeviation",
    comparison: "<=",
    threshold: 0.25
  }
]
const ahead = (other: WriterName): ReadonlyArray<Target> => [
  {
    item: "4",
    name: `records/s ahead of ${other}`,
    case: "clean-32",
    writer: enqueue,
    metric: "ratio",
    comparison: ">=",
    threshold: other
  },
  {
    item: "4",
    name: `CPU per record below ${other}'s`,
    case: "clean-32",
    writer: enqueue,
    metric: "cpuMicrosPerRecord",
    comparison: "<=",
    threshold: other
  }
]

/** Every target: issue 18's, then those of the earlier issues (4: speed and memory; 7: shards; 8: aggregation). */
export const targets: ReadonlyArray<Target> = [
  cpu("clean-32", enqueue, 1.25, "CPU per record, enqueue, over the hand loop's"),
  cpu("clean-32", "effect-kinesis-sink", 1.1, "CPU per record, sink, over the hand loop's"),
  cpu("clean-32", "effect-kinesis-all", 1.1, "CPU per record, enqueueAll, over the hand loop's"),
  {
    item: "18.1",
    name: "CPU per record paced (clean, 4 shards) over unpaced (clean-32)",
    case: "clean",
    writer: enqueue,
    metric: "pacedCpuRatio",
    comparison: "<=",
    threshold: 1.1
  },
  {
    item: "18.1",
    name: "peak RSS, enqueue, over the hand loop's",
    case: "clean-32",
    writer: enqueue,
    metric: "rssRatio",
    comparison: "<=",
    threshold: 1.25
  },
  {
    item: "18.1",
    name: "peak RSS, sink, over the hand loop's",
    case: "clean-32",
    writer: "effect-kinesis-sink",
    metric: "rssRatio",
    comparison: "<=",
    threshold: 1.25
  },
  {
    item: "18.1",
    name: "peak RSS, enqueueAll, over the hand loop's",
    case: "clean-32",
    writer: "effect-kinesis-all",
    metric: "rssRatio",
    comparison: "<=",
    threshold: 1.25
  },
  ...shared("two-writers", "two writers", 0.03),
  ...shared("four-writers", "four writers", 0.05),
  {
    item: "18.3",
    name: "aggregation: byte capacity, 100-byte records",
    case: "aggregated",
    writer: "effect-kinesis-aggregated",
    metric: "capacityShare",
    comparison: ">=",
    threshold: 0.9
  },
  {
    item: "18.3",
    name: "aggregation: sends refused",
    case: "aggregated",
    writer: "effect-kinesis-aggregated",
    metric: "refusedShare",
    comparison: "<=",
    threshold: 0.01
  },
  {
    item: "18.4",
    name: "random refusals: time over shard-blind's",
    case: "random-refusals",
    writer: enqueue,
    metric: "blindTimeRatio",
    comparison: "<=",
    threshold: 1.5
  },
  {
    item: "4",
    name: "records/s over the hand loop's",
    case: "clean-32",
    writer: enqueue,
    metric: "ratio",
    comparison: ">=",
    threshold: 0.95
  },
  ...ahead("shutterstock"),
  ...ahead("aws-kinesis-writable"),
  ...ahead("naive-port"),
  {
    item: "4",
    name: "pure core records/s, one core",
    case: "core",
    writer: enqueue,
    metric: "recordsPerSecond",
    comparison: ">=",
    threshold: 2_000_000
  },
  {
    item: "4",
    name: "overload: peak heap at 10x the load over 1x",
    case: "overload-10x",
    writer: enqueue,
    metric: "heapGrowth",
    comparison: "<=",
    threshold: 2
  },
  {
    item: "4",
    name: "overload: peak RSS at 10x the load over 1x",
    case: "overload-10x",
    writer: enqueue,
    metric: "rssGrowth",
    comparison: "<=",
    threshold: 2
  },
  {
    item: "7",
    name: "4 shards at 1.25x: record capacity",
    case: "aws-4x1.25",
    writer: enqueue,
    metric: "capacityShare",
    comparison: ">=",
    threshold: 0.97
  },
  {
    item: "7",
    name: "4 shards at 1.25x: sends refused",
    case: "aws-4x1.25",
    writer: enqueue,
    metric: "refusedShare",
    comparison: "<=",
    threshold: 0.01
  },
  {
    item: "7",
    name: "hot key: the hot shard's record capacity",
    case: "hot-key",
    writer: enqueue,
    metric: "capacityShare",
    comparison: ">=",
    threshold: 0.95
  },
  {
    item: "7",
    name: "hot key: sends refused",
    case: "hot-key",
    writer: enqueue,
    metric: "refusedShare",
    comparison: "<=",
    threshold: 0.02
  },
  {
    item: "7",
    name: "split: seconds until both new shards are at 90% of their limit",
    case: "split",
    writer: enqueue,
    metric: "splitToCapacitySeconds",
    comparison: "<=",
    threshold: 3
  },
  {
    item: "7",
    name: "shard-aware CPU per record over shard-blind's (clean, 4 shards)",
    case: "clean",
    writer: enqueue,
    metric: "blindCpuRatio",
    comparison: "<=",
    threshold: 1.1
  }
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
