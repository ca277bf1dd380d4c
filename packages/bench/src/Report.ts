/**
 * The results as text: the terminal report and `docs/bench/README.md`, the same tables in two forms, and the
 * method (packages/bench/METHOD.md) after them in the Markdown.
 */
import * as fs from "node:fs"
import { writers } from "./Job.js"
import { type CoreResult, delivered, type Results, type Run, type Summary } from "./Results.js"
import { type Case, SHARD_BYTES_PER_SECOND, streamCapacity, userRecordBytes } from "./Scenarios.js"
import { describeStage } from "./Stages.js"
import { checkAll, type Checked } from "./Targets.js"
import { aggregationCeiling } from "./Utilization.js"

/** The method, in Markdown: how to run the bench, how it measures, the writers and the scenarios. */
export const method = (): string => fs.readFileSync(new URL("../METHOD.md", import.meta.url), "utf8")

type Format = "text" | "md"

interface Table {
  readonly headers: ReadonlyArray<string>
  readonly rows: ReadonlyArray<ReadonlyArray<string>>
  /** One letter a column: `l` left, `r` right. */
  readonly align: string
}

const render = (table: Table, format: Format): string => {
  const { align, headers, rows } = table
  if (format === "md") {
    return [
      `| ${headers.join(" | ")} |`,
      `|${headers.map((_, i) => align[i] === "r" ? "---:" : "---").join("|")}|`,
      ...rows.map((row) => `| ${row.join(" | ")} |`)
    ].join("\n")
  }
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => align[i] === "r" ? cell.padStart(widths[i]) : cell.padEnd(widths[i])).join("  ").trimEnd()
  return [line(headers), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n")
}

const num = (value: number | undefined, digits = 0) =>
  value !== undefined && Number.isFinite(value) ?
    value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) :
    "n/a"
const pct = (share: number | undefined) =>
  share === undefined || !Number.isFinite(share) ? "n/a" : `${num(share * 100, 1)}%`
const times = (value: number | undefined) => value === undefined ? "n/a" : `${num(value, 2)}x`

/** The verdict on a writer in a case: did every run deliver every record. */
export const verdict = (s: Summary): string =>
  delivered(s) ?
    s.duplicates > 0 ? `ok (${s.duplicates} dup)` : "ok" :
    s.missing > 0 ?
    `FAILED: lost ${num(s.missing)}` :
    `FAILED: ${(s.errors[0] ?? "").slice(0, 60)}`

// The rounds' figures of one writer in one case, for a ratio's spread.
const roundsOf = (runs: ReadonlyArray<Run>, s: Summary, pick: (run: Run) => number | undefined) =>
  s.runs < 2
    ? ""
    : runs.filter((r) => r.case === s.case && r.writer === s.writer).map((r) => num(pick(r), 2)).join(", ")

type Column = readonly [header: string, cell: (s: Summary, runs: ReadonlyArray<Run>) => string]

const speed: ReadonlyArray<Column> = [
  ["records/s", (s) => num(s.recordsPerSecond)],
  ["x hand loop", (s) => num(s.ratio, 2)],
  ["(rounds)", (s, runs) => roundsOf(runs, s, (r) => r.ratio)],
  ["CPU us/rec", (s) => num(s.cpuMicrosPerRecord, 1)],
  ["x hand loop", (s) => num(s.cpuRatio, 2)],
  ["(rounds)", (s, runs) => roundsOf(runs, s, (r) => r.cpuRatio)],
  ["2nd half", (s) => num(s.steadyCpuMicrosPerRecord, 1)],
  ["peak RSS MiB", (s) => num(s.peakRssMiB)],
  ["peak heap MiB", (s) => num(s.peakHeapMiB)],
  ["requests", (s) => num(s.requests)],
  ["refused", (s) => num(s.refused)]
]

const gauged = (testCase: Case): ReadonlyArray<Column> => [
  ["stored", (s) => num(s.stored)],
  ["sent", (s) => num(s.sent)],
  ["refused", (s) => pct(s.refusedShare)],
  [testCase.gauge === "hot-shard" ? "hot shard used" : "capacity used", (s) => pct(s.capacityShare)],
  ["requests/rec", (s) => num(s.requestsPerRecord, 4)],
  ["sends/rec", (s) => num(s.sendsPerRecord, 2)],
  ["CPU us/rec", (s) => num(s.cpuMicrosPerRecord, 1)],
  ...(testCase.splitAfterSeconds === undefined ? [] : [
    [
      "at capacity after split",
      (s: Summary) =>
        s.splitToCapacitySeconds === undefined || !Number.isFinite(s.splitToCapacitySeconds) ?
          "never" :
          `${num(s.splitToCapacitySeconds, 1)} s`
    ] as const
  ]),
  ...(testCase.processes < 2 ? [] : [
    ["off equal share", (s: Summary) => pct(s.shareDeviation)] as const,
    ["slowest/fastest", (s: Summary) => times(s.timeSpread)] as const,
    [
      "offers ended (s), round 1",
      (s: Summary, runs: ReadonlyArray<Run>) =>
        runs.find((r) => r.case === s.case && r.writer === s.writer && r.round === 0)?.offerEnds
          ?.map((end) => num(end, 1)).join(" / ") ?? ""
    ] as const,
    ["used after first ended", (s: Summary) => pct(s.afterFirstEndShare)] as const
  ])
]

const aggregated: ReadonlyArray<Column> = [
  ["stored", (s) => num(s.stored)],
  ["user rec/s", (s) => num(s.recordsPerSecond)],
  ["x plain", (s) => num(s.plainRatio, 2)],
  ["user rec/record", (s) => num(s.usersPerRecord, 1)],
  ["sent", (s) => num(s.sent)],
  ["refused", (s) => pct(s.refusedShare)],
  ["byte capacity used", (s) => pct(s.capacityShare)],
  ["Kinesis bytes", (s) => pct(s.storedShare)],
  ["CPU us/rec", (s) => num(s.cpuMicrosPerRecord, 1)]
]

const refusals: ReadonlyArray<Column> = [
  ["seconds", (s) => num(s.elapsedSeconds, 1)],
  ["x blind", (s) => num(s.blindTimeRatio, 2)],
  ["(rounds)", (s, runs) => roundsOf(runs, s, (r) => r.blindTimeRatio)],
  ["requests", (s) => num(s.requests)],
  ["sent", (s) => num(s.sent)],
  ["refused", (s) => pct(s.refusedShare)],
  ["CPU us/rec", (s) => num(s.cpuMicrosPerRecord, 1)]
]

const columnsOf = (testCase: Case): ReadonlyArray<Column> =>
  testCase.faults !== undefined ?
    refusals :
    testCase.gauge === "stream-bytes" ?
    aggregated :
    testCase.gauge !== undefined ?
    gauged(testCase) :
    testCase.limits ?
    [...speed, ["x capacity", (s) => num(s.capacityShare, 2)]] :
    speed

// A case's table: a row per writer that ran it, its name left, figures right, missing and duplicates, the verdict.
const caseTable = (testCase: Case, results: Results): Table => {
  const columns = columnsOf(testCase)
  const rows = writers.flatMap((writer) => {
    const s = results.summaries.find((summary) => summary.case === testCase.id && summary.writer === writer)
    return s === undefined ?
      [] :
      [[writer, ...columns.map(([, cell]) => cell(s, results.runs)), num(s.missing), num(s.duplicates), verdict(s)]]
  })
  return {
    headers: ["writer", ...columns.map(([header]) => header), "missing", "dups", "result"],
    rows,
    align: `l${"r".repeat(columns.length + 2)}l`
  }
}

const caseNote = (testCase: Case, mode: string) => {
  const ceiling = aggregationCeiling(testCase.recordBytes)
  return (testCase.processes > 1 ? `${testCase.processes} processes, each offering ` : "") +
    (testCase.offerSeconds === undefined ? `${num(testCase.records)} records` : "records") +
    ` of ${testCase.recordBytes} bytes, ${testCase.shards} shard${testCase.shards === 1 ? "" : "s"}` +
    (testCase.ratePerSecond === undefined ? ", offered at once" : `, offered at ${num(testCase.ratePerSecond)}/s`) +
    (testCase.offerSeconds === undefined ? "" : ` for ${testCase.offerSeconds} s`) +
    (testCase.gauge === "stream-bytes" ?
      `; full aggregates fill at most ${pct(ceiling)} of the byte capacity with user records of ` +
      `${userRecordBytes(testCase)} bytes (${num(ceiling * streamCapacity(testCase))} user records/s of the ` +
      `${num(testCase.shards * SHARD_BYTES_PER_SECOND / 2 ** 20)} MiB/s)` :
      "") +
    `; medians of ${testCase.rounds} round(s) (${mode})`
}

const checkedTable = (checked: ReadonlyArray<Checked>): Table => {
  const shown = (metric: string, value: number | undefined) =>
    value === undefined ?
      "n/a" :
      /Share|Deviation/.test(metric) ?
      pct(value) :
      metric === "recordsPerSecond" ?
      num(value) :
      /Ratio|ratio|Growth/.test(metric) ?
      times(value) :
      num(value, metric === "splitToCapacitySeconds" ? 1 : 2)
  return {
    headers: ["item", "target", "case, writer", "goal", "figure", "(rounds)", "met"],
    rows: checked.map(({ figure, met, note, rounds, target, threshold }) => [
      target.item,
      target.name,
      target.case === "core" ? "core" : `${target.case}, ${target.writer}`,
      `${target.comparison} ${
        typeof target.threshold === "number" ?
          shown(target.metric, threshold) :
          `${target.threshold}'s (${shown(target.metric, threshold)})`
      }`,
      shown(target.metric, figure) + (note === "" ? "" : `; ${note}`),
      rounds.length < 2 ? "" : rounds.map((r) => shown(target.metric, r)).join(", "),
      met === undefined ? "not run" : met ? "yes" : "NO"
    ]),
    align: "lllllll"
  }
}

// The two Effect lines side by side: each one's median, and the medians of the rounds' ratios.
const linesTable = (results: Results): Table | undefined => {
  const figures = [
    ["CPU us/rec", "cpuMicrosPerRecord", "effect3CpuRatio", 1],
    ["records/s", "recordsPerSecond", "effect3RateRatio", 0],
    ["CPU us/rec, 2nd half", "steadyCpuMicrosPerRecord", "effect3SteadyCpuRatio", 1]
  ] as const
  const rows = results.plan.cases.flatMap((testCase) => {
    const four = results.summaries.find((s) => s.case === testCase.id && s.writer === "effect-kinesis")
    const three = results.summaries.find((s) => s.case === testCase.id && s.writer === "effect-kinesis-effect3")
    if (four === undefined || three === undefined) return []
    return figures.map(([name, metric, ratio, digits]) => [
      testCase.id,
      name,
      num(four[metric], digits),
      num(three[metric], digits),
      times(four[ratio]),
      roundsOf(results.runs, four, (r) => r[ratio])
    ])
  })
  return rows.length === 0 ? undefined : {
    headers: ["case", "figure", "Effect 4", "Effect 3", "Effect 4 / Effect 3", "(rounds)"],
    rows,
    align: "llrrrl"
  }
}

const memoryTable = (results: Results): Table => ({
  headers: ["writer", "heap 1x", "heap 10x", "growth", "RSS 1x", "RSS 10x", "growth", "result"],
  rows: writers.flatMap((writer) => {
    const [low, high] = ["overload-1x", "overload-10x"].map((id) =>
      results.summaries.find((s) => s.case === id && s.writer === writer)
    )
    if (low === undefined || high === undefined) return []
    const rss = [num(low.peakRssMiB), num(high.peakRssMiB), times(high.rssGrowth)]
    return [[writer, num(low.peakHeapMiB), num(high.peakHeapMiB), times(high.heapGrowth), ...rss, verdict(high)]]
  }),
  align: "lrrrrrrl"
})

// Each shard's records stored (refused) per second in each writer's first run of the split case.
const splitTables = (testCase: Case, runs: ReadonlyArray<Run>) =>
  runs.filter((r) => r.case === testCase.id && r.round === 0 && r.split !== undefined && r.seconds !== undefined)
    .map((run): [string, Table] => {
      const shards = [run.split!.parent, ...run.split!.children]
      const last = Math.max(...run.seconds!.map((second) => second.t))
      return [`${run.writer}, per shard and second (split ${num(run.split!.atSeconds, 1)} s in)`, {
        headers: ["second", ...shards.map((shard) => `${shard.replace("shardId-", "")} stored (refused)`)],
        rows: Array.from({ length: last + 1 }, (_, t) => [
          `${t}`,
          ...shards.map((shard) => {
            const second = run.seconds!.find((s) => s.t === t && s.shard === shard)
            return second === undefined ? "" : `${num(second.stored)} (${num(second.refused)})`
          })
        ]),
        align: "r".repeat(shards.length + 1)
      }]
    })

const stagesTable = (core: CoreResult | undefined): Table | undefined => {
  if (core?.stages === undefined) return undefined
  const answer = core.stages.find((s) => s.stage === "answer")?.cpuMicros ?? 0
  return {
    headers: ["stage", "what it does", "CPU us/rec", "(rounds)"],
    // The writer stages include the in-memory Kinesis's answers: shown without them.
    rows: core.stages.map(({ cpuMicros, runs, stage }) => [
      stage,
      describeStage[stage],
      num(stage.startsWith("writer-") ? cpuMicros - answer : cpuMicros, 2),
      runs.map((r) => num(r, 2)).join(", ")
    ]),
    align: "llrl"
  }
}

const machineLine = (results: Pick<Results, "machine">) => {
  const m = results.machine
  return `${m.date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ` +
    `load average ${m.loadAverage} at start, commit ${m.revision}`
}

/** The report: the terminal's (`text`) or `docs/bench/README.md` (`md`, with the method after the figures). */
export const report = (results: Results, format: Format): string => {
  const md = format === "md"
  const out: Array<string> = []
  const heading = (title: string) => out.push(md ? `## ${title}\n` : `${title}:`)
  const table = (t: Table) => out.push(render(t, format), "")
  const mode = (id: string) => results.sources?.find((s) => s.cases.includes(id))?.mode ?? results.plan.mode
  out.push(
    md ? "# Benchmarks\n\n![the targets' figures, writer by writer](chart.svg)\n" : "",
    `Figures of \`npm run bench${results.plan.mode === "full" ? " -- --full" : ""}\` on ${machineLine(results)}` +
      (results.elapsedSeconds === undefined ?
        "" :
        `; ${num(results.elapsedSeconds)} s, load average ${results.loadAverageAtEnd} at the end`) +
      ".",
    ...(results.sources ?? []).slice(1).map((s) =>
      `Kept from an earlier ${s.mode} run: ${s.cases.join(", ")}; ${machineLine(s)}.`
    ),
    ""
  )
  heading("Targets")
  table(checkedTable(checkAll(results)))
  for (const testCase of results.plan.cases) {
    heading(testCase.title)
    out.push(caseNote(testCase, mode(testCase.id)), "")
    table(caseTable(testCase, results))
    for (const [title, t] of splitTables(testCase, results.runs)) {
      out.push(title, "")
      table(t)
    }
  }
  const lines = linesTable(results)
  if (lines !== undefined) {
    heading("Effect 4 against Effect 3 (the same loop, every default)")
    table(lines)
  }
  const memory = memoryTable(results)
  if (memory.rows.length > 0) {
    heading("Overload memory, peak MiB at 1x and 10x the load")
    table(memory)
  }
  if (results.core !== undefined) {
    heading("Pure core")
    out.push(
      `Record.encode + Accumulator on 4 shards, ${num(results.plan.core.records)} strings of ` +
        `${results.plan.core.recordBytes} bytes, one core: ${num(results.core.recordsPerSecond)} records/s (median; ` +
        `runs ${results.core.runs.map((run) => num(run.recordsPerSecond)).join(", ")})` +
        (results.core.errors.length > 0 ? `; errors: ${results.core.errors.join("; ")}` : ""),
      ""
    )
  }
  const stages = stagesTable(results.core)
  if (stages !== undefined) {
    heading(`CPU per record, stage by stage (${num(results.core?.stageRecords)} records, no SDK, no HTTP)`)
    table(
      md
        ? stages
        : {
          ...stages,
          headers: stages.headers.filter((_, i) => i !== 1),
          rows: stages.rows.map((row) => row.filter((_, i) => i !== 1)),
          align: "lrl"
        }
    )
  }
  if (md) out.push(method())
  return out.join("\n")
}
