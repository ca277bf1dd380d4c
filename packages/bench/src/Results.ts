/**
 * What a bench run found: every run as measured, each writer's medians per case, and the targets of issues 4, 7 and 8
 * checked against them. This is what `results.json` holds, and what the table, chart and README are made from.
 */
import type { CoreMeasured } from "./Core.js"
import type { RunResult } from "./Harness.js"
import { baseline, type WriterName, writers } from "./Job.js"
import type { Machine } from "./Machine.js"
import type { Case, Plan } from "./Scenarios.js"
import { laterFieldDefaults, scenarios, SHARD_RECORDS_PER_SECOND } from "./Scenarios.js"
import type { Stage } from "./Stages.js"
import { median } from "./Stats.js"
import * as Utilization from "./Utilization.js"

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
  /** Records per second over plain effect-kinesis's in the same round (the aggregation case). */
  readonly plainRatio: number | undefined
  readonly cpuMicrosPerRecord: number | undefined
  /** CPU per record of the second half of the records (once the code is compiled and warm). */
  readonly steadyCpuMicrosPerRecord?: number | undefined
  /** CPU per record, and peak RSS, over the hand loop's in the same round (undefined for older results). */
  readonly cpuRatio?: number | undefined
  readonly steadyCpuRatio?: number | undefined
  readonly rssRatio?: number | undefined
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
  /** Records offered (by every process of the run), and copies of them read back. */
  readonly records: number
  readonly stored: number
  /** Bytes (data + partition keys) of the user records read back, copies included. */
  readonly userBytes: number
  /** Kinesis records the proxy counted stored (an aggregate is one), and their bytes. */
  readonly kinesisRecords: number
  readonly kinesisBytes: number
  /** Records the server received: first sends and re-sends. */
  readonly sent: number
  /** Refused over sent. */
  readonly refusedShare: number
  /** PutRecords requests, and records sent, per record stored. */
  readonly requestsPerRecord: number
  readonly sendsPerRecord: number
  /**
   * Records stored over the most the case's shards could have stored in the seconds offered (cases with a gauge);
   * `rateShare` leaves the shards' burst out of that most; `storedShare` is what the proxy counted (for the byte
   * gauge, Kinesis bytes, aggregation overhead included, where capacity used counts user bytes).
   */
  readonly capacityShare: number | undefined
  readonly rateShare: number | undefined
  readonly storedShare: number | undefined
  /** Seconds that capacity share was measured over. */
  readonly measuredSeconds: number | undefined
  /** The shard the hot-key case measured. */
  readonly hotShard: string | undefined
  /** The shard split during the run, and how soon its new shards took records at their limit. */
  readonly split: {
    readonly parent: string
    readonly children: ReadonlyArray<string>
    /** Seconds from the first record offered to the split. */
    readonly atSeconds: number
    readonly toCapacitySeconds: number | undefined
  } | undefined
  /**
   * With several writer processes: seconds from the window's start to the end of each one's offer, and the
   * capacity used from the first end to the last, when the others had stopped offering.
   */
  readonly offerEnds: ReadonlyArray<number> | undefined
  readonly afterFirstEndShare: number | undefined
  /**
   * With several writer processes: each one's records stored while all of them were offering; the most one of
   * them is off an equal share of their sum (0.1: 10% off); and the slowest one's time over the fastest one's.
   */
  readonly shares?: ReadonlyArray<number> | undefined
  readonly shareDeviation?: number | undefined
  readonly timeSpread?: number | undefined
  /** Time to settle every record over effect-kinesis-blind's in the same round. */
  readonly blindTimeRatio?: number | undefined
  /** What each shard stored and refused per second, from the second the first record was offered (gauged cases). */
  readonly seconds: ReadonlyArray<Utilization.Second> | undefined
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
  /** Median records/s over plain effect-kinesis's in the same round (the aggregation case). */
  readonly plainRatio: number | undefined
  /** Records per second over the stream's write capacity (cases with AWS limits only). */
  readonly capacityShare: number | undefined
  /** Median of what the proxy counted over the same capacity (for the byte gauge: Kinesis bytes). */
  readonly storedShare: number | undefined
  /** Median user records stored per Kinesis record stored: 1 without aggregation. */
  readonly usersPerRecord: number
  readonly cpuMicrosPerRecord: number
  /** Median CPU per record of the second half of the records, and its ratio to the hand loop's. */
  readonly steadyCpuMicrosPerRecord: number
  readonly steadyCpuRatio: number
  /** Medians of the rounds' CPU per record and peak RSS over the hand loop's in the same round. */
  readonly cpuRatio: number
  readonly rssRatio: number
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
  /** Medians: records stored, records sent, refused over sent, requests and sends per stored record. */
  readonly stored: number
  readonly sent: number
  readonly refusedShare: number
  readonly requestsPerRecord: number
  readonly sendsPerRecord: number
  /** Median capacity used after the first of several writer processes stopped offering, while the others went on. */
  readonly afterFirstEndShare: number | undefined
  /** Several writer processes: medians of the most one was off an equal share, and of slowest over fastest time. */
  readonly shareDeviation?: number | undefined
  readonly timeSpread?: number | undefined
  /** Median seconds to settle every record, and median of the rounds' ratio to effect-kinesis-blind's. */
  readonly elapsedSeconds?: number | undefined
  readonly blindTimeRatio?: number | undefined
  /** The slowest run's seconds from a split to its new shards at capacity; Infinity: some run never got there. */
  readonly splitToCapacitySeconds: number | undefined
  readonly errors: ReadonlyArray<string>
}

/** A target of issue 4, 7 or 8, checked. */
export interface Target {
  readonly name: string
  readonly goal: string
  readonly figure: string
  /** Undefined when its scenario was not run. */
  readonly met: boolean | undefined
}

/** The pure core's measurements. */
export interface CoreResult {
  /**
   * `production`: `Record.encode` then the Accumulator, the path the writer runs. Absent in results of an earlier
   * bench, which measured `Record.tryEncode` then `Batch.cut`, code production never ran.
   */
  readonly path?: "production" | undefined
  readonly runs: ReadonlyArray<CoreMeasured>
  readonly recordsPerSecond: number
  readonly errors: ReadonlyArray<string>
  /** CPU per record of each stage of the per-record path: medians, and every round's figure (older results: none). */
  readonly stages?:
    | ReadonlyArray<{ readonly stage: Stage; readonly cpuMicros: number; readonly runs: ReadonlyArray<number> }>
    | undefined
  /** Records each stage measurement took. */
  readonly stageRecords?: number | undefined
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
  /**
   * Which run measured which cases (`core` for the pure core), this run first: several when `--merge` kept the
   * cases of an earlier `results.json` that this run did not measure again. Absent: this run measured all.
   */
  readonly sources?: ReadonlyArray<Source> | undefined
}

/** A run whose figures `results.json` holds, and for which cases. */
export interface Source {
  readonly machine: Machine
  readonly mode: "quick" | "full"
  readonly cases: ReadonlyArray<string>
}

/** The cases (and `core`) each run of `results` measured. */
export const sourcesOf = (results: Results): ReadonlyArray<Source> =>
  results.sources ?? [{
    machine: results.machine,
    mode: results.plan.mode,
    cases: [...results.plan.cases.map((c) => c.id), ...(results.core === undefined ? [] : ["core"])]
  }]

/**
 * `latest` with the cases of `earlier` it did not measure again: their runs, summaries and sources kept as they
 * were, the targets checked again over all of them.
 */
export const merge = (earlier: Results, latest: Results): Results => {
  const again = new Set(sourcesOf(latest).flatMap((source) => source.cases))
  const kept = (id: string) => !again.has(id)
  // Cases of a results.json older than some fields: those fields at their defaults.
  const defaults = laterFieldDefaults
  const cases = [
    ...earlier.plan.cases.filter((c) => kept(c.id)).map((c): Case => ({ ...defaults, ...c })),
    ...latest.plan.cases
  ].sort((a, b) => scenarios.indexOf(a.scenario) - scenarios.indexOf(b.scenario))
  const core = latest.core ?? earlier.core
  const summaries = [...earlier.summaries.filter((s) => kept(s.case)), ...latest.summaries]
  const sources = [
    ...sourcesOf(latest),
    ...sourcesOf(earlier).map((source) => ({ ...source, cases: source.cases.filter(kept) }))
  ].filter((source) => source.cases.length > 0)
  return {
    ...latest,
    plan: { ...latest.plan, cases, core: latest.core === undefined ? earlier.plan.core : latest.plan.core },
    runs: [...earlier.runs.filter((run) => kept(run.case)), ...latest.runs],
    summaries,
    core,
    targets: targets(summaries, core),
    sources
  }
}

/** Flattens the runs of one round of one case, with ratios against that round's hand loop. */
export const flatten = (testCase: Case, round: number, results: ReadonlyArray<RunResult>): Array<Run> => {
  const rate = (result: RunResult) =>
    result.measured === undefined ? undefined : result.records / (result.measured.elapsedMs / 1000)
  const okRate = (writer: WriterName) => {
    const reference = results.find((result) => result.writer === writer)
    return reference !== undefined && isOk(reference) ? rate(reference) : undefined
  }
  const referenceRate = okRate(baseline)
  const referenceRun = results.find((result) => result.writer === baseline)
  const reference = referenceRun?.measured
  const cpuPerRecord = (result: RunResult) =>
    result.measured === undefined ? undefined : result.measured.cpuMs / result.records
  const referenceCpu = referenceRun === undefined ? undefined : cpuPerRecord(referenceRun)
  const steadyPerRecord = (result: RunResult | undefined) => {
    const half = result?.measured?.secondHalf
    return half === undefined || half.records === 0 ? undefined : half.cpuMs / half.records
  }
  const referenceSteady = steadyPerRecord(referenceRun)
  const plainRate = testCase.gauge === "stream-bytes" ? okRate("effect-kinesis") : undefined
  const blindRun = results.find((result) => result.writer === "effect-kinesis-blind")
  const blindMs = blindRun !== undefined && isOk(blindRun) ? blindRun.measured?.elapsedMs : undefined
  return results.map((result, order): Run => {
    const measured = result.measured
    const recordsPerSecond = rate(result)
    const stored = result.tally.delivered + result.tally.duplicates
    const steady = steadyPerRecord(result)
    const window = measured === undefined ?
      undefined :
      { from: measured.offeredFromMs, until: measured.offeredUntilMs }
    const used = testCase.gauge === undefined || window === undefined ?
      undefined :
      Utilization.measure(testCase, result.server.seconds, window, result.split, result.userBytes)
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
      plainRatio: recordsPerSecond === undefined || plainRate === undefined ? undefined : recordsPerSecond / plainRate,
      cpuMicrosPerRecord: measured === undefined ? undefined : (measured.cpuMs * 1000) / result.records,
      cpuRatio: referenceCpu === undefined || measured === undefined ? undefined : cpuPerRecord(result)! / referenceCpu,
      steadyCpuMicrosPerRecord: steady === undefined ? undefined : steady * 1000,
      steadyCpuRatio: referenceSteady === undefined || steady === undefined ? undefined : steady / referenceSteady,
      rssRatio: reference === undefined || measured === undefined ?
        undefined :
        measured.peakRssBytes / reference.peakRssBytes,
      baselineRssMiB: measured === undefined ? undefined : measured.baselineRssBytes / MiB,
      baselineHeapMiB: measured === undefined ? undefined : measured.baselineHeapBytes / MiB,
      peakRssMiB: measured === undefined ? undefined : measured.peakRssBytes / MiB,
      peakHeapMiB: measured === undefined ? undefined : measured.peakHeapBytes / MiB,
      missing: result.tally.missing,
      duplicates: result.tally.duplicates,
      foreign: result.tally.foreign,
      reportedFailed: measured?.reportedFailed,
      requests: result.server.requests,
      refused: result.server.refused,
      records: result.records,
      stored,
      userBytes: result.userBytes,
      kinesisRecords: Utilization.storedRecords(result.server.seconds),
      kinesisBytes: Utilization.storedBytes(result.server.seconds),
      sent: result.server.offered,
      refusedShare: result.server.offered === 0 ? 0 : result.server.refused / result.server.offered,
      requestsPerRecord: result.server.requests / stored,
      sendsPerRecord: result.server.offered / stored,
      capacityShare: used?.capacityShare,
      rateShare: used?.rateShare,
      storedShare: used?.storedShare,
      measuredSeconds: used?.seconds,
      hotShard: used?.hotShard,
      split: result.split === undefined || window === undefined ?
        undefined :
        {
          parent: result.split.parent,
          children: result.split.children,
          atSeconds: (result.split.atMs - window.from) / 1000,
          toCapacitySeconds: used?.splitToCapacitySeconds
        },
      offerEnds: result.windows.length < 2 || window === undefined ?
        undefined :
        result.windows.map((w) => (w.until - window.from) / 1000),
      afterFirstEndShare: result.windows.length < 2 || testCase.gauge === undefined ?
        undefined :
        Utilization.rateShare(result.server.seconds, {
          from: Math.min(...result.windows.map((w) => w.until)),
          until: Math.max(...result.windows.map((w) => w.until))
        }, testCase.shards),
      ...spread(result.processes),
      blindTimeRatio: blindMs === undefined || measured === undefined ? undefined : measured.elapsedMs / blindMs,
      seconds: testCase.gauge === undefined || window === undefined ?
        undefined :
        Utilization.relative(result.server.seconds, window.from)
    }
  })
}

// How evenly several writer processes shared the stream: their stored records in the window against an equal share.
const spread = (processes: RunResult["processes"]) => {
  if (processes === undefined || processes.length < 2) return {}
  const shares = processes.map((p) => p.storedInWindow)
  const equal = shares.reduce((sum, n) => sum + n, 0) / shares.length
  const times = processes.map((p) => p.elapsedMs)
  return {
    shares,
    shareDeviation: equal === 0 ? Number.NaN : Math.max(...shares.map((n) => Math.abs(n - equal))) / equal,
    timeSpread: Math.max(...times) / Math.min(...times)
  }
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
        plainRatio: testCase.gauge === "stream-bytes" ? medianOf(mine, (run) => run.plainRatio) : undefined,
        capacityShare: testCase.gauge !== undefined ?
          medianOf(mine, (run) => run.capacityShare) :
          testCase.limits ?
          recordsPerSecond / (testCase.shards * SHARD_RECORDS_PER_SECOND) :
          undefined,
        storedShare: testCase.gauge === undefined ? undefined : medianOf(mine, (run) => run.storedShare),
        usersPerRecord: medianOf(mine, (run) => run.kinesisRecords === 0 ? undefined : run.stored / run.kinesisRecords),
        cpuMicrosPerRecord: medianOf(mine, (run) => run.cpuMicrosPerRecord),
        cpuRatio: medianOf(mine, (run) => run.cpuRatio),
        steadyCpuMicrosPerRecord: medianOf(mine, (run) => run.steadyCpuMicrosPerRecord),
        steadyCpuRatio: medianOf(mine, (run) => run.steadyCpuRatio),
        rssRatio: medianOf(mine, (run) => run.rssRatio),
        peakRssMiB: medianOf(mine, (run) => run.peakRssMiB),
        peakHeapMiB: medianOf(mine, (run) => run.peakHeapMiB),
        baselineRssMiB: medianOf(mine, (run) => run.baselineRssMiB),
        baselineHeapMiB: medianOf(mine, (run) => run.baselineHeapMiB),
        missing: Math.max(...mine.map((run) => run.missing)),
        duplicates: Math.max(...mine.map((run) => run.duplicates)),
        reportedFailed: Math.max(0, ...mine.map((run) => run.reportedFailed ?? 0)),
        requests: medianOf(mine, (run) => run.requests),
        refused: medianOf(mine, (run) => run.refused),
        stored: medianOf(mine, (run) => run.stored),
        sent: medianOf(mine, (run) => run.sent),
        refusedShare: medianOf(mine, (run) => run.refusedShare),
        requestsPerRecord: medianOf(mine, (run) => run.requestsPerRecord),
        sendsPerRecord: medianOf(mine, (run) => run.sendsPerRecord),
        afterFirstEndShare: testCase.processes < 2 ? undefined : medianOf(mine, (run) => run.afterFirstEndShare),
        shareDeviation: testCase.processes < 2 ? undefined : medianOf(mine, (run) => run.shareDeviation),
        timeSpread: testCase.processes < 2 ? undefined : medianOf(mine, (run) => run.timeSpread),
        elapsedSeconds: medianOf(mine, (run) => run.elapsedMs === undefined ? undefined : run.elapsedMs / 1000),
        blindTimeRatio: medianOf(mine, (run) => run.blindTimeRatio),
        splitToCapacitySeconds: testCase.splitAfterSeconds === undefined ?
          undefined :
          Math.max(...mine.map((run) => run.split?.toCapacitySeconds ?? Infinity)),
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

/** What a core figure measured, in a few words for tables and the chart. */
export const coreMeasures = (core: CoreResult): string =>
  core.path === "production" ?
    "the production path, Record.encode + Accumulator, 4 shards" :
    "Record.tryEncode + Batch.cut, an earlier bench's figure: code production never ran"

/** The clean case's goal, as a share of the hand loop's records per second. */
export const CLEAN_GOAL = 0.95

const fmt = (value: number, digits = 2) => Number.isFinite(value) ? value.toFixed(digits) : "n/a"

// This library's own variants: the writers the others are compared with.
const ours: ReadonlyArray<WriterName> = [
  baseline,
  "effect-kinesis",
  "effect-kinesis-effect3",
  "effect-kinesis-blind",
  "effect-kinesis-tuned",
  "effect-kinesis-sink",
  "effect-kinesis-all",
  "effect-kinesis-aggregated"
]

/** The Effect 4 line's figures over the Effect 3 line's in one case: medians, and each round's. */
export interface LineComparison {
  readonly case: string
  /** The rounds both lines delivered every record in: the only ones compared. */
  readonly rounds: number
  /** CPU per record (us), records per second, and CPU per record of the second half (us): each line's median. */
  readonly figures: ReadonlyArray<{
    readonly what: "cpu" | "rate" | "steadyCpu"
    readonly effect4: number
    readonly effect3: number
    /** Effect 4's over Effect 3's in the same round, and their median. */
    readonly ratios: ReadonlyArray<number>
    readonly ratio: number
  }>
}

/** The two Effect lines' writers: the same loop (`enqueue` each record, `flush`), every default. */
export const lines = { effect4: "effect-kinesis", effect3: "effect-kinesis-effect3" } as const satisfies Record<
  string,
  WriterName
>

/** Each case both Effect lines ran, the Effect 4 line's figures over the Effect 3 line's, round by round. */
export const compareLines = (cases: ReadonlyArray<Case>, runs: ReadonlyArray<Run>): Array<LineComparison> =>
  cases.flatMap((testCase) => {
    const of = (writer: WriterName) => runs.filter((run) => run.case === testCase.id && run.writer === writer)
    const pairs = of(lines.effect4).flatMap((four) => {
      const three = of(lines.effect3).find((run) => run.round === four.round)
      return three !== undefined && four.ok && three.ok ? [[four, three] as const] : []
    })
    if (pairs.length === 0) return []
    const figure = (what: "cpu" | "rate" | "steadyCpu", pick: (run: Run) => number | undefined) => {
      const both = pairs.flatMap(([four, three]) => {
        const a = pick(four)
        const b = pick(three)
        return a === undefined || b === undefined ? [] : [[a, b] as const]
      })
      const ratios = both.map(([a, b]) => a / b)
      return {
        what,
        effect4: median(both.map(([a]) => a)),
        effect3: median(both.map(([, b]) => b)),
        ratios,
        ratio: median(ratios)
      }
    }
    return [{
      case: testCase.id,
      rounds: pairs.length,
      figures: [
        figure("cpu", (run) => run.cpuMicrosPerRecord),
        figure("rate", (run) => run.recordsPerSecond),
        figure("steadyCpu", (run) => run.steadyCpuMicrosPerRecord)
      ]
    }]
  })

/** Issue 9's bounds on CPU per record and peak RSS, over the hand loop's in the same round (clean, 4 shards). */
export const CPU_GOALS = { enqueue: 1.25, bulk: 1.1, rss: 1.25 } as const

/**
 * A writer's CPU split into what each record costs and what the process pays once (loading, compiling what runs
 * hot), from its CPU per record at 32 shards with two numbers of records (clean-32 and clean-32-long).
 */
export const cost = (
  summaries: ReadonlyArray<Summary>,
  writer: WriterName
): { readonly micros: number; readonly seconds: number } | undefined => {
  const short = summaries.find((s) => s.case === "clean-32" && s.writer === writer)
  const long = summaries.find((s) => s.case === "clean-32-long" && s.writer === writer)
  if (short === undefined || long === undefined || long.stored <= short.stored) return undefined
  const micros = (long.cpuMicrosPerRecord * long.stored - short.cpuMicrosPerRecord * short.stored) /
    (long.stored - short.stored)
  return { micros, seconds: (short.cpuMicrosPerRecord - micros) * short.stored / 1e6 }
}

const cpuTargets = (summaries: ReadonlyArray<Summary>): Array<Target> => {
  const find = (id: string, writer: WriterName) => summaries.find((s) => s.case === id && s.writer === writer)
  const ratio = (id: string, writer: WriterName, pick: (s: Summary) => number) => {
    const summary = find(id, writer)
    return summary === undefined ? undefined : pick(summary)
  }
  const check = (
    name: string,
    goal: number,
    mine: ReadonlyArray<WriterName>,
    pick: (s: Summary) => number,
    what: string,
    value: (s: Summary) => string,
    steadyPick?: (s: Summary) => number
  ): Target => {
    const text = `${what} <= ${goal}x the hand loop's (clean, median of the rounds' ratios)`
    const hand = find("clean", baseline)
    const measured = mine.flatMap((writer) => {
      const summary = find("clean", writer)
      return summary === undefined ? [] : [summary]
    })
    if (measured.length === 0 || hand === undefined) return { name, goal: text, figure: "not run", met: undefined }
    const wide = (writer: WriterName) => {
      const r = ratio("clean-32", writer, pick)
      return r === undefined ? "" : `; 32 shards ${fmt(r)}x`
    }
    // The second half of the records, once compiled and warm: what a long-running writer costs per record.
    const steady = (s: Summary) => steadyPick === undefined ? "" : `; 2nd half ${fmt(steadyPick(s))}x`
    const long = (writer: WriterName) => {
      const r = steadyPick === undefined ? undefined : ratio("clean-32-long", writer, pick)
      return r === undefined ? "" : `; 32 shards, 4x the records ${fmt(r)}x`
    }
    const perRecord = mine.map((writer) => cost(summaries, writer)).filter((c) => c !== undefined)
    const handCost = cost(summaries, baseline)
    return {
      name,
      goal: text,
      figure:
        measured.map((s) => `${s.writer} ${value(s)} (${fmt(pick(s))}x${steady(s)}${wide(s.writer)}${long(s.writer)})`)
          .join(", ") +
        `; hand loop ${value(hand)}` +
        (steadyPick === undefined || handCost === undefined || perRecord.length === 0 ? "" : (
          "; from 32 shards at two lengths, each record costs " +
          perRecord.map((c) => `${fmt(c!.micros, 1)} us (${fmt(c!.micros / handCost.micros)}x)`).join(" and ") +
          ` against ${fmt(handCost.micros, 1)} us, once per process ` +
          perRecord.map((c) => `${fmt(c!.seconds, 2)} s`).join(" and ") + ` against ${fmt(handCost.seconds, 2)} s`
        )),
      met: measured.length === mine.length && measured.every((s) => delivered(s) && pick(s) <= goal)
    }
  }
  const us = (s: Summary) => `${fmt(s.cpuMicrosPerRecord, 1)} us/rec`
  const mib = (s: Summary) => `${fmt(s.peakRssMiB, 0)} MiB`
  const cpu = (name: string, goal: number, mine: ReadonlyArray<WriterName>) =>
    check(name, goal, mine, (s) => s.cpuRatio, "CPU per record", us, (s) => s.steadyCpuRatio)
  return [
    cpu("CPU, enqueue", CPU_GOALS.enqueue, ["effect-kinesis"]),
    cpu("CPU, sink and enqueueAll", CPU_GOALS.bulk, ["effect-kinesis-sink", "effect-kinesis-all"]),
    check(
      "peak RSS",
      CPU_GOALS.rss,
      ["effect-kinesis", "effect-kinesis-sink", "effect-kinesis-all"],
      (s) => s.rssRatio,
      "peak RSS",
      mib
    )
  ]
}

/** Checks the targets of issue 4 against the summaries. */
export const targets = (summaries: ReadonlyArray<Summary>, core: CoreResult | undefined): Array<Target> => {
  const find = (id: string, writer: WriterName) => summaries.find((s) => s.case === id && s.writer === writer)
  const list: Array<Target> = []
  // Records/s where the stream can take what the writers offer: 4 shards take 4,000 records/s under AWS's limits,
  // which a shard-aware writer keeps to, so clean's 4 shards would measure its pacing, not its speed.
  const mine = find("clean-32", "effect-kinesis")
  if (mine === undefined) {
    list.push({ name: "clean vs hand loop", goal: `>= ${CLEAN_GOAL}x`, figure: "not run", met: undefined })
    list.push({ name: "clean vs other writers", goal: "ahead of each", figure: "not run", met: undefined })
  } else {
    list.push({
      name: "clean vs hand loop",
      goal: `>= ${CLEAN_GOAL}x the hand loop's records/s (32 shards), every record delivered`,
      figure: `${fmt(mine.ratio)}x (rounds ${fmt(mine.ratioMin)}-${fmt(mine.ratioMax)}); ${
        delivered(mine) ? "all delivered" : `lost up to ${mine.missing}`
      }`,
      met: delivered(mine) && mine.ratio >= CLEAN_GOAL
    })
    const others = summaries.filter((s) => s.case === "clean-32" && !ours.includes(s.writer))
    const mineCpu = find("clean", "effect-kinesis")
    // A writer that lost records is beaten whatever its speed: it did not do the job.
    const ahead = others.filter((other) => {
      const cpu = find("clean", other.writer)
      return !delivered(other) ||
        (other.ratio < mine.ratio && mineCpu !== undefined && cpu !== undefined &&
          mineCpu.cpuMicrosPerRecord < cpu.cpuMicrosPerRecord)
    })
    const cpuOf = (writer: WriterName) => {
      const cpu = find("clean", writer)
      return cpu === undefined ? "" : `, ${fmt(cpu.cpuMicrosPerRecord, 1)} us/rec`
    }
    list.push({
      name: "clean vs other writers",
      goal: "ahead of every other writer: records/s (32 shards, median ratio to the hand loop) and CPU per record " +
        "(4 shards)",
      // Our own spread beside theirs: a lead smaller than it is a tie, whatever this run's medians say.
      figure: `effect-kinesis ${fmt(mine.ratio)}x (rounds ${fmt(mine.ratioMin)}-${fmt(mine.ratioMax)})` +
        `${cpuOf("effect-kinesis")}; ` +
        others.map((other) =>
          `${other.writer} ${fmt(other.ratio)}x${cpuOf(other.writer)}${delivered(other) ? "" : " (lost records)"}`
        ).join(", "),
      met: delivered(mine) && others.length > 0 && ahead.length === others.length
    })
  }
  list.push(...cpuTargets(summaries))
  list.push(
    core === undefined ?
      { name: "pure core", goal: `>= ${CORE_GOAL / 1e6}M records/s`, figure: "not run", met: undefined } :
      {
        name: "pure core",
        goal: `>= ${CORE_GOAL / 1e6}M records/s on one core (${coreMeasures(core)}; 100-byte strings)`,
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
  list.push(...shardTargets(summaries))
  list.push(aggregationTarget(summaries))
  return list
}

/** The targets of issue 7 for shard-aware sending: what each gauged case must reach, with the writer's defaults. */
export const SHARD_GOALS: ReadonlyArray<{
  readonly case: string
  readonly name: string
  readonly capacity: number
  readonly refused: number
  /** Several writer processes: the most one may be off an equal share of the records stored. */
  readonly share?: number | undefined
}> = [
  { case: "aws-4x1.25", name: "4 shards at 1.25x", capacity: 0.97, refused: 0.01 },
  { case: "hot-key", name: "hot key", capacity: 0.95, refused: 0.02 },
  { case: "two-writers", name: "two writers", capacity: 0.95, refused: 0.03, share: 0.25 },
  { case: "four-writers", name: "four writers", capacity: 0.95, refused: 0.05, share: 0.25 }
]

/** Random refusals: the shard-aware writer's time at most this over shard-blind's. */
export const REFUSALS_GOAL = 1.5

/** Seconds within which the shards born of a split must take records at their limit: "a few". */
export const SPLIT_GOAL_SECONDS = 3

/** How much more CPU per record shard awareness may cost in the clean case, over shard-blind. */
export const SHARD_CPU_GOAL = 1.1

const pct = (share: number | undefined) =>
  share === undefined || !Number.isFinite(share) ? "n/a" : `${(share * 100).toFixed(1)}%`

// The same case's figures of the others, for context.
const beside = (summaries: ReadonlyArray<Summary>, id: string, figure: (s: Summary) => string) => {
  const others = summaries.filter((s) => s.case === id && s.writer !== "effect-kinesis")
  return others.length === 0 ? "" : `; ${others.map((s) => `${s.writer} ${figure(s)}`).join(", ")}`
}

const shardTargets = (summaries: ReadonlyArray<Summary>): Array<Target> => {
  const find = (id: string, writer: WriterName) => summaries.find((s) => s.case === id && s.writer === writer)
  const list: Array<Target> = []
  for (const goal of SHARD_GOALS) {
    const text = `>= ${pct(goal.capacity)} of the ${goal.case === "hot-key" ? "hot shard's" : "stream's"} record ` +
      `capacity, <= ${pct(goal.refused)} of records sent refused, every record delivered` +
      (goal.share === undefined ? "" : `, each writer within ${pct(goal.share)} of an equal share`)
    const mine = find(goal.case, "effect-kinesis")
    const figure = (s: Summary) =>
      `${pct(s.capacityShare)} used, ${pct(s.refusedShare)} refused` +
      (s.shareDeviation === undefined ?
        "" :
        `, ${pct(s.shareDeviation)} off an equal share, slowest/fastest ${fmt(s.timeSpread ?? Number.NaN)}x`)
    list.push(
      mine === undefined ?
        { name: goal.name, goal: text, figure: "not run", met: undefined } :
        {
          name: goal.name,
          goal: text,
          figure: `${figure(mine)}${delivered(mine) ? "" : `, lost up to ${mine.missing}`}` +
            beside(summaries, goal.case, figure),
          met: delivered(mine) && (mine.capacityShare ?? 0) >= goal.capacity && mine.refusedShare <= goal.refused &&
            (goal.share === undefined || (mine.shareDeviation ?? Infinity) <= goal.share)
        }
    )
  }
  const refusals = find("random-refusals", "effect-kinesis")
  const refusalGoal = `<= ${REFUSALS_GOAL}x shard-blind's time (median of the rounds' ratios), nothing lost`
  list.push(
    refusals === undefined ?
      { name: "random refusals", goal: refusalGoal, figure: "not run", met: undefined } :
      {
        name: "random refusals",
        goal: refusalGoal,
        figure: `${fmt(refusals.blindTimeRatio ?? Number.NaN)}x (${fmt(refusals.elapsedSeconds ?? Number.NaN, 1)} s, ` +
          `${refusals.requests} requests; lost up to ${refusals.missing})` +
          beside(
            summaries,
            "random-refusals",
            (s) => `${fmt(s.elapsedSeconds ?? Number.NaN, 1)} s, ${s.requests} requests`
          ),
        met: delivered(refusals) && (refusals.blindTimeRatio ?? Infinity) <= REFUSALS_GOAL
      }
  )
  const split = find("split", "effect-kinesis")
  const splitGoal = `nothing lost, both new shards at ${Utilization.AT_CAPACITY * 100}% of their record limit ` +
    `within ${SPLIT_GOAL_SECONDS} s`
  const after = (s: Summary) =>
    s.splitToCapacitySeconds === undefined || !Number.isFinite(s.splitToCapacitySeconds) ?
      "never at capacity" :
      `at capacity ${s.splitToCapacitySeconds.toFixed(1)} s after`
  list.push(
    split === undefined ?
      { name: "split", goal: splitGoal, figure: "not run", met: undefined } :
      {
        name: "split",
        goal: splitGoal,
        figure: `${split.missing} missing, ${split.duplicates} duplicates, ${after(split)}` +
          beside(summaries, "split", (s) => `${s.missing} missing, ${after(s)}`),
        met: delivered(split) && (split.splitToCapacitySeconds ?? Infinity) <= SPLIT_GOAL_SECONDS
      }
  )
  const cpu = (id: string) => {
    const aware = find(id, "effect-kinesis")
    const blind = find(id, "effect-kinesis-blind")
    if (aware === undefined || blind === undefined) return undefined
    const ratio = aware.cpuMicrosPerRecord / blind.cpuMicrosPerRecord
    const text = `${fmt(aware.cpuMicrosPerRecord, 1)} vs ${fmt(blind.cpuMicrosPerRecord, 1)} us/record (${fmt(ratio)}x)`
    return { ratio, text }
  }
  const cpuGoal = `CPU per record in the clean case <= ${SHARD_CPU_GOAL}x shard-blind's (effect-kinesis-blind)`
  const clean = cpu("clean")
  const wide = cpu("clean-32")
  list.push(
    clean === undefined ?
      { name: "clean CPU, shard-aware", goal: cpuGoal, figure: "not run", met: undefined } :
      {
        name: "clean CPU, shard-aware",
        goal: cpuGoal,
        figure: `${clean.text}${wide === undefined ? "" : `; with 32 shards (pacing unbound) ${wide.text}`}`,
        met: clean.ratio <= SHARD_CPU_GOAL
      }
  )
  return list
}

/** The target of issue 8 for KPL aggregation: the share of the byte capacity user records fill, and sends refused. */
export const AGGREGATION_GOAL = { capacity: 0.9, refused: 0.01 } as const

const aggregationTarget = (summaries: ReadonlyArray<Summary>): Target => {
  const find = (writer: WriterName) => summaries.find((s) => s.case === "aggregated" && s.writer === writer)
  const name = "KPL aggregation"
  const goal = `>= ${pct(AGGREGATION_GOAL.capacity)} of the stream's byte capacity in user records' bytes (4 shards, ` +
    `100-byte records), <= ${pct(AGGREGATION_GOAL.refused)} of sends refused, every record delivered`
  const mine = find("effect-kinesis-aggregated")
  if (mine === undefined) return { name, goal, figure: "not run", met: undefined }
  const plain = find("effect-kinesis")
  const others = summaries.filter((s) => s.case === "aggregated" && s.writer !== "effect-kinesis-aggregated")
  return {
    name,
    goal,
    figure: `${pct(mine.capacityShare)} used, ${pct(mine.refusedShare)} refused, ` +
      (plain === undefined ? "" : `${fmt(mine.plainRatio ?? Number.NaN, 1)}x plain's user records/s, `) +
      `${fmt(mine.cpuMicrosPerRecord, 1)} us CPU per user record` +
      (delivered(mine) ? "" : `, lost up to ${mine.missing}`) +
      (others.length === 0 ? "" : "; ") +
      others.map((s) => `${s.writer} ${pct(s.capacityShare)} used, ${pct(s.refusedShare)} refused`).join(", "),
    met: delivered(mine) && (mine.capacityShare ?? 0) >= AGGREGATION_GOAL.capacity &&
      mine.refusedShare <= AGGREGATION_GOAL.refused
  }
}
