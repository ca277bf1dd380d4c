/**
 * What a bench run found, as `results.json` holds it: every run's figures, their ratios to other runs of the same
 * round (per-round ratios, so that a slow moment of a shared machine weighs on both sides), and each writer's
 * medians per case. The report, the chart and the targets are made of these; nothing here renders.
 */
import type { CoreMeasured } from "./Core.js"
import type { RunResult } from "./Harness.js"
import { baseline, type WriterName, writers } from "./Job.js"
import type { Machine } from "./Machine.js"
import { type Case, laterFieldDefaults, type Plan, scenarios, SHARD_RECORDS_PER_SECOND } from "./Scenarios.js"
import type { Stage } from "./Stages.js"
import { median } from "./Stats.js"
import * as Utilization from "./Utilization.js"

const MiB = 2 ** 20

/** The figures of a run, each a number, undefined where the run did not measure it; a summary holds their medians. */
export const metrics = [
  "elapsedSeconds",
  "recordsPerSecond",
  /** CPU of the writer process (every thread, user + system) over the run, per record offered. */
  "cpuMicrosPerRecord",
  /** The same from the middle record offered on: once compiled and warm. */
  "steadyCpuMicrosPerRecord",
  "baselineRssMiB",
  "baselineHeapMiB",
  "peakRssMiB",
  "peakHeapMiB",
  "reportedFailed",
  /** PutRecords requests the server received, records it received (first sends and re-sends) and refused. */
  "requests",
  "sent",
  "refused",
  "refusedShare",
  /** Records read back, copies included; their user bytes; Kinesis records and bytes the proxy counted stored. */
  "stored",
  "userBytes",
  "kinesisRecords",
  "kinesisBytes",
  "usersPerRecord",
  "requestsPerRecord",
  "sendsPerRecord",
  /** Gauged cases: records (or bytes) stored over the most the shards could store while records were offered. */
  "capacityShare",
  "rateShare",
  "storedShare",
  "measuredSeconds",
  /** Seconds from a split until both new shards stored at their limit; undefined: never. */
  "splitToCapacitySeconds",
  // Several processes: capacity used after the first one's offer ended; the most one was off an equal share of
  // the records stored while all offered; the slowest one's time over the fastest one's.
  "afterFirstEndShare",
  "shareDeviation",
  "timeSpread",
  // Ratios to another run of the same round: see `relations`.
  "ratio",
  "cpuRatio",
  "steadyCpuRatio",
  "rssRatio",
  "plainRatio",
  "blindTimeRatio",
  "blindCpuRatio",
  "pacedCpuRatio",
  "heapGrowth",
  "rssGrowth",
  "effect3CpuRatio",
  "effect3RateRatio",
  "effect3SteadyCpuRatio"
] as const

export type Metric = typeof metrics[number]

export type Figures = { readonly [K in Metric]?: number | undefined }

/** One writer's run of one case in one round. */
export interface Run extends Figures {
  readonly case: string
  readonly round: number
  /** Its place in the round's order (0 first). */
  readonly order: number
  readonly writer: WriterName
  /** Every record read back and the writer finished: the only runs other runs are compared with. */
  readonly ok: boolean
  readonly error: string | undefined
  readonly records: number
  readonly missing: number
  readonly duplicates: number
  readonly foreign: number
  readonly hotShard?: string | undefined
  readonly split?: {
    readonly parent: string
    readonly children: ReadonlyArray<string>
    /** Seconds from the first record offered to the split. */
    readonly atSeconds: number
  } | undefined
  /** Several processes: seconds from the window's start to each one's last record offered; their stored records. */
  readonly offerEnds?: ReadonlyArray<number> | undefined
  readonly shares?: ReadonlyArray<number> | undefined
  /** What each shard stored and refused per second from the first record offered (gauged cases). */
  readonly seconds?: ReadonlyArray<Utilization.Second> | undefined
}

/** One writer in one case: the medians of its rounds' figures (of every run, delivered or not). */
export interface Summary extends Figures {
  readonly case: string
  readonly writer: WriterName
  readonly runs: number
  /** Runs that lost records or did not finish. */
  readonly failedRuns: number
  /** The most records one run lost, and the most copies one run stored. */
  readonly missing: number
  readonly duplicates: number
  readonly errors: ReadonlyArray<string>
}

/** The pure core's measurements, and the stages'. */
export interface CoreResult {
  readonly path?: "production" | undefined
  readonly runs: ReadonlyArray<CoreMeasured>
  readonly recordsPerSecond: number
  readonly errors: ReadonlyArray<string>
  readonly stages?:
    | ReadonlyArray<{ readonly stage: Stage; readonly cpuMicros: number; readonly runs: ReadonlyArray<number> }>
    | undefined
  readonly stageRecords?: number | undefined
}

/** Everything `results.json` holds. */
export interface Results {
  readonly machine: Machine
  readonly plan: Plan
  readonly runs: ReadonlyArray<Run>
  readonly summaries: ReadonlyArray<Summary>
  readonly core: CoreResult | undefined
  /** Seconds the whole run took, and the load average when it ended. */
  readonly elapsedSeconds?: number | undefined
  readonly loadAverageAtEnd?: number | undefined
  /** Which run measured which cases, when `--merge` kept cases of an earlier one; absent: this run measured all. */
  readonly sources?: ReadonlyArray<Source> | undefined
}

/** A run whose figures `results.json` holds, and for which cases. */
export interface Source {
  readonly machine: Machine
  readonly mode: "quick" | "full"
  readonly cases: ReadonlyArray<string>
}

/**
 * A figure as a ratio to another run of the same round: another writer's in the same case, or the same writer's in
 * another case. The other run must have delivered every record.
 */
interface Relation {
  readonly as: Metric
  readonly of: Metric
  readonly writer?: WriterName | undefined
  /** The other case, by this run's case; this run's case otherwise. */
  readonly cases?: Readonly<Record<string, string>> | undefined
  /** Only for this writer's runs. */
  readonly only?: WriterName | undefined
}

export const relations: ReadonlyArray<Relation> = [
  { as: "ratio", of: "recordsPerSecond", writer: baseline },
  { as: "cpuRatio", of: "cpuMicrosPerRecord", writer: baseline },
  { as: "steadyCpuRatio", of: "steadyCpuMicrosPerRecord", writer: baseline },
  { as: "rssRatio", of: "peakRssMiB", writer: baseline },
  { as: "plainRatio", of: "recordsPerSecond", writer: "effect-kinesis", only: "effect-kinesis-aggregated" },
  { as: "blindTimeRatio", of: "elapsedSeconds", writer: "effect-kinesis-blind" },
  { as: "blindCpuRatio", of: "cpuMicrosPerRecord", writer: "effect-kinesis-blind" },
  // Paced (4 shards, where a shard-aware writer keeps to 4,000 records/s) over unpaced (32 shards).
  { as: "pacedCpuRatio", of: "cpuMicrosPerRecord", cases: { clean: "clean-32" } },
  { as: "heapGrowth", of: "peakHeapMiB", cases: { "overload-10x": "overload-1x" } },
  { as: "rssGrowth", of: "peakRssMiB", cases: { "overload-10x": "overload-1x" } },
  { as: "effect3CpuRatio", of: "cpuMicrosPerRecord", writer: "effect-kinesis-effect3", only: "effect-kinesis" },
  { as: "effect3RateRatio", of: "recordsPerSecond", writer: "effect-kinesis-effect3", only: "effect-kinesis" },
  {
    as: "effect3SteadyCpuRatio",
    of: "steadyCpuMicrosPerRecord",
    writer: "effect-kinesis-effect3",
    only: "effect-kinesis"
  }
]

/** Each run with its ratios to the other runs of its round (`relations`). */
export const relate = (runs: ReadonlyArray<Run>): Array<Run> => {
  const key = (id: string, writer: string, round: number) => `${id}\u0000${writer}\u0000${round}`
  const byKey = new Map(runs.map((run) => [key(run.case, run.writer, run.round), run]))
  return runs.map((run) => {
    const ratios: { -readonly [K in Metric]?: number } = {}
    for (const relation of relations) {
      if (relation.only !== undefined && relation.only !== run.writer) continue
      const other = relation.cases === undefined ? run.case : relation.cases[run.case]
      if (other === undefined) continue
      const reference = byKey.get(key(other, relation.writer ?? run.writer, run.round))
      const mine = run[relation.of]
      const theirs = reference?.ok === true ? reference[relation.of] : undefined
      if (mine !== undefined && theirs !== undefined && theirs > 0) ratios[relation.as] = mine / theirs
    }
    return { ...run, ...ratios }
  })
}

const isOk = (result: RunResult) =>
  result.error === undefined && result.tally.missing === 0 && result.tally.foreign === 0

// How evenly several writer processes shared the stream: their records stored in the window against an equal share.
const spread = (processes: RunResult["processes"]) => {
  if (processes === undefined || processes.length < 2) return {}
  const shares = processes.map((p) => p.storedInWindow)
  const equal = shares.reduce((sum, n) => sum + n, 0) / shares.length
  const times = processes.map((p) => p.elapsedMs)
  return {
    shares,
    shareDeviation: equal === 0 ? undefined : Math.max(...shares.map((n) => Math.abs(n - equal))) / equal,
    timeSpread: Math.max(...times) / Math.min(...times)
  }
}

const finite = (value: number | undefined) => value !== undefined && Number.isFinite(value) ? value : undefined

/** The runs of one round of one case, as measured (their ratios come with `relate`). */
export const flatten = (testCase: Case, round: number, results: ReadonlyArray<RunResult>): Array<Run> =>
  results.map((result, order): Run => {
    const measured = result.measured
    const stored = result.tally.delivered + result.tally.duplicates
    const half = measured?.secondHalf
    const window = measured === undefined ? undefined : { from: measured.offeredFromMs, until: measured.offeredUntilMs }
    const used = testCase.gauge === undefined || window === undefined ?
      undefined :
      Utilization.measure(testCase, result.server.seconds, window, result.split, result.userBytes)
    const recordsPerSecond = measured === undefined ? undefined : result.records / (measured.elapsedMs / 1000)
    const kinesisRecords = Utilization.storedRecords(result.server.seconds)
    return {
      case: testCase.id,
      round,
      order,
      writer: result.writer,
      ok: isOk(result),
      error: result.error,
      records: result.records,
      missing: result.tally.missing,
      duplicates: result.tally.duplicates,
      foreign: result.tally.foreign,
      elapsedSeconds: measured === undefined ? undefined : measured.elapsedMs / 1000,
      recordsPerSecond,
      cpuMicrosPerRecord: measured === undefined ? undefined : (measured.cpuMs * 1000) / result.records,
      steadyCpuMicrosPerRecord: half === undefined || half.records === 0 ? undefined : half.cpuMs * 1000 / half.records,
      baselineRssMiB: measured === undefined ? undefined : measured.baselineRssBytes / MiB,
      baselineHeapMiB: measured === undefined ? undefined : measured.baselineHeapBytes / MiB,
      peakRssMiB: measured === undefined ? undefined : measured.peakRssBytes / MiB,
      peakHeapMiB: measured === undefined ? undefined : measured.peakHeapBytes / MiB,
      reportedFailed: measured?.reportedFailed,
      requests: result.server.requests,
      sent: result.server.offered,
      refused: result.server.refused,
      refusedShare: result.server.offered === 0 ? 0 : result.server.refused / result.server.offered,
      stored,
      userBytes: result.userBytes,
      kinesisRecords,
      kinesisBytes: Utilization.storedBytes(result.server.seconds),
      usersPerRecord: kinesisRecords === 0 ? undefined : stored / kinesisRecords,
      requestsPerRecord: result.server.requests / stored,
      sendsPerRecord: result.server.offered / stored,
      // Without a gauge, a case with AWS's limits: delivered records/s over the stream's capacity.
      capacityShare: used !== undefined ?
        finite(used.capacityShare) :
        testCase.limits && recordsPerSecond !== undefined ?
        recordsPerSecond / (testCase.shards * SHARD_RECORDS_PER_SECOND) :
        undefined,
      rateShare: finite(used?.rateShare),
      storedShare: finite(used?.storedShare),
      measuredSeconds: used?.seconds,
      splitToCapacitySeconds: used?.splitToCapacitySeconds,
      hotShard: used?.hotShard,
      split: result.split === undefined || window === undefined ?
        undefined :
        {
          parent: result.split.parent,
          children: result.split.children,
          atSeconds: (result.split.atMs - window.from) / 1000
        },
      offerEnds: result.windows.length < 2 || window === undefined ?
        undefined :
        result.windows.map((w) => (w.until - window.from) / 1000),
      afterFirstEndShare: result.windows.length < 2 || testCase.gauge === undefined ?
        undefined :
        finite(Utilization.rateShare(result.server.seconds, {
          from: Math.min(...result.windows.map((w) => w.until)),
          until: Math.max(...result.windows.map((w) => w.until))
        }, testCase.shards)),
      ...spread(result.processes),
      seconds: testCase.gauge === undefined || window === undefined ?
        undefined :
        Utilization.relative(result.server.seconds, window.from)
    }
  })

const firstLine = (text: string) => text.split("\n").find((line) => line.trim() !== "")?.trim() ?? text

/** Each writer's medians in each case: of every run that measured the figure. */
export const summarize = (cases: ReadonlyArray<Case>, runs: ReadonlyArray<Run>): Array<Summary> =>
  cases.flatMap((testCase) =>
    writers.flatMap((writer): Array<Summary> => {
      const mine = runs.filter((run) => run.case === testCase.id && run.writer === writer)
      if (mine.length === 0) return []
      const figures: { -readonly [K in Metric]?: number } = {}
      for (const metric of metrics) {
        const values = mine.map((run) => run[metric]).filter((value): value is number => value != null)
        if (values.length > 0) figures[metric] = median(values)
      }
      // A split: the slowest run's time to capacity; a run whose new shards never got there makes it never.
      if (testCase.splitAfterSeconds !== undefined) {
        figures.splitToCapacitySeconds = Math.max(...mine.map((run) => run.splitToCapacitySeconds ?? Infinity))
      }
      return [{
        ...figures,
        case: testCase.id,
        writer,
        runs: mine.length,
        failedRuns: mine.filter((run) => !run.ok).length,
        missing: Math.max(...mine.map((run) => run.missing)),
        duplicates: Math.max(...mine.map((run) => run.duplicates)),
        errors: [...new Set(mine.flatMap((run) => run.error === undefined ? [] : [firstLine(run.error)]))]
      }]
    })
  )

/** Whether a writer's summary counts as a success: every run delivered every record. */
export const delivered = (summary: Summary): boolean => summary.failedRuns === 0

/** The cases (and `core`) each run of `results` measured. */
export const sourcesOf = (results: Results): ReadonlyArray<Source> =>
  results.sources ?? [{
    machine: results.machine,
    mode: results.plan.mode,
    cases: [...results.plan.cases.map((c) => c.id), ...(results.core === undefined ? [] : ["core"])]
  }]

/** `latest` with the cases of `earlier` it did not measure again, their ratios and medians made again. */
export const merge = (earlier: Results, latest: Results): Results => {
  const again = new Set(sourcesOf(latest).flatMap((source) => source.cases))
  const kept = (id: string) => !again.has(id)
  const cases = [
    ...earlier.plan.cases.filter((c) => kept(c.id)).map((c): Case => ({ ...laterFieldDefaults, ...c })),
    ...latest.plan.cases
  ].sort((a, b) => scenarios.indexOf(a.scenario) - scenarios.indexOf(b.scenario))
  const runs = relate([...earlier.runs.filter((run) => kept(run.case)), ...latest.runs])
  return {
    ...latest,
    plan: { ...latest.plan, cases, core: latest.core === undefined ? earlier.plan.core : latest.plan.core },
    runs,
    summaries: summarize(cases, runs),
    core: latest.core ?? earlier.core,
    sources: [
      ...sourcesOf(latest),
      ...sourcesOf(earlier).map((source) => ({ ...source, cases: source.cases.filter(kept) }))
    ].filter((source) => source.cases.length > 0)
  }
}
