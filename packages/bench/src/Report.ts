/**
 * The results as text: the terminal table, and the Markdown of `docs/bench/README.md`.
 */
import { type WriterName, writers } from "./Job.js"
import {
  compareLines,
  coreMeasures,
  delivered,
  lines,
  type Results,
  type Run,
  type Source,
  type Summary,
  type Target
} from "./Results.js"
import {
  type Case,
  gaugeCapacity,
  keyedRecordBytes,
  SHARD_BYTES_PER_SECOND,
  SHARD_RECORDS_PER_SECOND,
  streamCapacity
} from "./Scenarios.js"
import { describeStage, type Stage } from "./Stages.js"
import { aggregationCeiling } from "./Utilization.js"

type Align = "left" | "right"

/** A plain-text table, columns padded. */
export const textTable = (
  headers: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  align: ReadonlyArray<Align>
) => {
  const widths = headers.map((header, i) => Math.max(header.length, ...rows.map((row) => row[i].length)))
  const pad = (cell: string, i: number) => align[i] === "right" ? cell.padStart(widths[i]) : cell.padEnd(widths[i])
  const line = (cells: ReadonlyArray<string>) => cells.map(pad).join("  ").trimEnd()
  return [line(headers), widths.map((width) => "-".repeat(width)).join("  "), ...rows.map(line)].join("\n")
}

/** A Markdown table. */
export const markdownTable = (
  headers: ReadonlyArray<string>,
  rows: ReadonlyArray<ReadonlyArray<string>>,
  align: ReadonlyArray<Align>
) =>
  [
    `| ${headers.join(" | ")} |`,
    `|${align.map((side) => side === "right" ? "---:" : "---").join("|")}|`,
    ...rows.map((row) => `| ${row.join(" | ")} |`)
  ].join("\n")

const num = (value: number, digits = 0) =>
  Number.isFinite(value) ?
    value.toLocaleString("en-US", { maximumFractionDigits: digits, minimumFractionDigits: digits }) :
    "n/a"

const met = (target: Target, no: string) => target.met === undefined ? "not run" : target.met ? "yes" : no

/** The verdict on a writer in a case: did every run deliver every record. */
export const verdict = (summary: Summary): string => {
  if (delivered(summary)) return summary.duplicates > 0 ? `ok (${summary.duplicates} dup)` : "ok"
  if (summary.errors.length > 0 && summary.missing === 0) return `FAILED: ${summary.errors[0].slice(0, 60)}`
  const why = summary.errors.length > 0 ? `, ${summary.errors[0].slice(0, 40)}` : ""
  return `FAILED: lost ${num(summary.missing)}${why}`
}

const pct = (share: number | undefined, digits = 1) =>
  share === undefined || !Number.isFinite(share) ? "n/a" : `${num(share * 100, digits)}%`

// A table of one case, a row per writer that ran it: the writer's name left, figures right, the verdict left.
const writerTable = (
  testCase: Case,
  summaries: ReadonlyArray<Summary>,
  headers: ReadonlyArray<string>,
  cells: (summary: Summary, writer: WriterName) => ReadonlyArray<string>
) => {
  const align: Array<Align> = headers.map((_, i): Align => i === 0 || i === headers.length - 1 ? "left" : "right")
  const rows = writers.flatMap((writer) => {
    const s = summaries.find((summary) => summary.case === testCase.id && summary.writer === writer)
    return s === undefined ? [] : [cells(s, writer)]
  })
  return { headers, rows, align }
}

// When each writer process's offer ended, in its first run: far apart, the stream was not shared evenly.
const offerEnds = (testCase: Case, runs: ReadonlyArray<Run>, writer: string) => {
  const run = runs.find((r) => r.case === testCase.id && r.writer === writer && r.round === 0)
  return run?.offerEnds === undefined ? "" : run.offerEnds.map((end) => num(end, 1)).join(" / ")
}

// The shard scenarios' table: what the stream took, what it refused, and what that cost.
const gaugedRows = (testCase: Case, summaries: ReadonlyArray<Summary>, runs: ReadonlyArray<Run>) => {
  const headers = [
    "writer",
    "stored",
    "dups",
    "missing",
    "sent",
    "refused",
    testCase.gauge === "hot-shard" ? "hot shard used" : "capacity used",
    "requests/rec",
    "sends/rec",
    "CPU us/rec",
    ...(testCase.splitAfterSeconds === undefined ? [] : ["at capacity after split"]),
    ...(testCase.processes < 2
      ? []
      : ["off equal share", "slowest/fastest", "offers ended (s)", "used after first ended"]),
    "result"
  ]
  return writerTable(testCase, summaries, headers, (s, writer) => {
    return [
      writer,
      num(s.stored),
      num(s.duplicates),
      num(s.missing),
      num(s.sent),
      pct(s.refusedShare),
      pct(s.capacityShare),
      num(s.requestsPerRecord, 4),
      num(s.sendsPerRecord, 2),
      num(s.cpuMicrosPerRecord, 1),
      ...(testCase.splitAfterSeconds === undefined ?
        [] :
        [
          s.splitToCapacitySeconds === undefined || !Number.isFinite(s.splitToCapacitySeconds) ?
            "never" :
            `${num(s.splitToCapacitySeconds, 1)} s`
        ]),
      ...(testCase.processes < 2 ? [] : [
        pct(s.shareDeviation),
        `${num(s.timeSpread ?? Number.NaN, 2)}x`,
        offerEnds(testCase, runs, writer),
        pct(s.afterFirstEndShare)
      ]),
      verdict(s)
    ]
  })
}

/**
 * What each shard stored (and refused) second by second in each writer's first run of the split case, from the
 * second the first record was offered: the split's effect as it happened.
 */
const splitSeconds = (testCase: Case, runs: ReadonlyArray<Run>) =>
  writers.flatMap((writer) => {
    const run = runs.find((r) => r.case === testCase.id && r.writer === writer && r.round === 0)
    if (run?.seconds === undefined || run.split === undefined) return []
    const shards = [run.split.parent, ...run.split.children]
    const last = Math.max(...run.seconds.map((second) => second.t))
    const headers = ["second", ...shards.map((shard) => `${shard.replace("shardId-", "")} stored (refused)`)]
    const rows = Array.from({ length: last + 1 }, (_, t) => [
      t === Math.floor(run.split!.atSeconds) ? `${t} split` : `${t}`,
      ...shards.map((shard) => {
        const second = run.seconds!.find((s) => s.t === t && s.shard === shard)
        return second === undefined ? "" : `${num(second.stored)} (${num(second.refused)})`
      })
    ])
    const align: Array<Align> = headers.map((): Align => "right")
    return [{ writer, split: run.split, headers, rows, align }]
  })

// The aggregation case's table: user records stored and how fast, the byte capacity they filled, what it cost.
const aggregatedRows = (testCase: Case, summaries: ReadonlyArray<Summary>) => {
  const headers = [
    "writer",
    "offered",
    "stored",
    "dups",
    "missing",
    "user rec/s",
    "x plain",
    "user rec/record",
    "sent",
    "refused",
    "byte capacity used",
    "Kinesis bytes",
    "CPU us/rec",
    "result"
  ]
  return writerTable(testCase, summaries, headers, (s, writer) => {
    const offered = s.stored - s.duplicates + s.missing
    return [
      writer,
      num(offered),
      num(s.stored),
      num(s.duplicates),
      num(s.missing),
      num(s.recordsPerSecond),
      s.plainRatio === undefined ? "n/a" : num(s.plainRatio, 2),
      num(s.usersPerRecord, 1),
      num(s.sent),
      pct(s.refusedShare),
      pct(s.capacityShare),
      pct(s.storedShare),
      num(s.cpuMicrosPerRecord, 1),
      verdict(s)
    ]
  })
}

// The random-refusals table: time to settle every record, against shard-blind's, and what the faults cost.
const refusalRows = (testCase: Case, summaries: ReadonlyArray<Summary>) => {
  const headers = [
    "writer",
    "seconds",
    "x blind",
    "requests",
    "sent",
    "refused",
    "missing",
    "dups",
    "CPU us/rec",
    "result"
  ]
  return writerTable(testCase, summaries, headers, (s, writer) => [
    writer,
    num(s.elapsedSeconds ?? Number.NaN, 1),
    num(s.blindTimeRatio ?? Number.NaN, 2),
    num(s.requests),
    num(s.sent),
    pct(s.refusedShare),
    num(s.missing),
    num(s.duplicates),
    num(s.cpuMicrosPerRecord, 1),
    verdict(s)
  ])
}

const caseRows = (testCase: Case, summaries: ReadonlyArray<Summary>, runs: ReadonlyArray<Run>) => {
  if (testCase.faults !== undefined) return refusalRows(testCase, summaries)
  if (testCase.gauge === "stream-bytes") return aggregatedRows(testCase, summaries)
  if (testCase.gauge !== undefined) return gaugedRows(testCase, summaries, runs)
  const limited = testCase.limits
  const headers = [
    "writer",
    "records/s",
    "x hand loop",
    "(rounds)",
    ...(limited ? ["x capacity"] : []),
    "CPU us/rec",
    "2nd half",
    "peak RSS MiB",
    "peak heap MiB",
    "requests",
    "refused",
    "missing",
    "dups",
    "result"
  ]
  return writerTable(testCase, summaries, headers, (s, writer) => {
    return [
      writer,
      num(s.recordsPerSecond),
      num(s.ratio, 2),
      s.runs > 1 ? `${num(s.ratioMin, 2)}-${num(s.ratioMax, 2)}` : "",
      ...(limited ? [num(s.capacityShare ?? Number.NaN, 2)] : []),
      num(s.cpuMicrosPerRecord, 1),
      num(s.steadyCpuMicrosPerRecord ?? Number.NaN, 1),
      num(s.peakRssMiB),
      num(s.peakHeapMiB),
      num(s.requests),
      num(s.refused),
      num(s.missing),
      num(s.duplicates),
      verdict(s)
    ]
  })
}

const memoryRows = (summaries: ReadonlyArray<Summary>) => {
  const headers = ["writer", "heap 1x", "heap 10x", "growth", "RSS 1x", "RSS 10x", "growth", "result"]
  const align: Array<Align> = ["left", "right", "right", "right", "right", "right", "right", "left"]
  const rows = writers.flatMap((writer) => {
    const low = summaries.find((s) => s.case === "overload-1x" && s.writer === writer)
    const high = summaries.find((s) => s.case === "overload-10x" && s.writer === writer)
    if (low === undefined || high === undefined) return []
    return [[
      writer,
      num(low.peakHeapMiB),
      num(high.peakHeapMiB),
      `${num(high.peakHeapMiB / low.peakHeapMiB, 2)}x`,
      num(low.peakRssMiB),
      num(high.peakRssMiB),
      `${num(high.peakRssMiB / low.peakRssMiB, 2)}x`,
      delivered(low) && delivered(high) ? "ok" : `${verdict(delivered(low) ? high : low)}`
    ]]
  })
  return { headers, rows, align }
}

const gaugeNote = (testCase: Case) => {
  switch (testCase.gauge) {
    case undefined:
      return ""
    case "stream":
      return `; capacity used: records stored while records were offered, over what the stream's ` +
        `${num(gaugeCapacity(testCase))} records/s (plus a second of burst per shard) allowed`
    case "hot-shard":
      return `; the hot shard gets ${num(testCase.hotKeyShare * 100)}% of the records plus its part of the rest, so ` +
        `the stream takes ${num(streamCapacity(testCase))} records/s at most; hot shard used: what it stored while ` +
        `records were offered, over what its ${num(gaugeCapacity(testCase))} records/s (plus a second of burst) allowed`
    case "stream-bytes": {
      const ceiling = aggregationCeiling(testCase.recordBytes)
      const most = ceiling * streamCapacity(testCase)
      return `; the stream takes ${num(testCase.shards * SHARD_BYTES_PER_SECOND / 2 ** 20)} MiB/s, ` +
        `${num(streamCapacity(testCase))} user records/s of ${keyedRecordBytes(testCase)} bytes if their bytes ` +
        `alone filled it; in full aggregates (50 KiB) they fill at most ${pct(ceiling)} of it (the format's own ` +
        `bytes), ${num(most)} user records/s, ${num(most / (testCase.shards * SHARD_RECORDS_PER_SECOND), 2)}x ` +
        "what the record limit lets plain records reach; byte capacity used: the bytes of the user records (data + " +
        "partition key) stored while records were offered, over what the stream's " +
        `${num(testCase.shards * SHARD_BYTES_PER_SECOND / 2 ** 20)} MiB/s (plus a second of burst per shard) allowed`
    }
    case "after-split":
      return `; the shard is split at the middle of its range ${testCase.splitAfterSeconds} s after the first ` +
        "record; capacity used: what the new shards stored from the split to the last record offered, over what " +
        `their ${num(gaugeCapacity(testCase))} records/s (plus a second of burst) allowed`
  }
}

const caseNote = (testCase: Case, mode: string) =>
  (testCase.processes > 1 ? `${testCase.processes} processes, each offering ` : "") +
  (testCase.offerSeconds === undefined ? `${testCase.records.toLocaleString("en-US")} records` : "Records") +
  ` of ${testCase.recordBytes} bytes` + (testCase.keyed ? " with keys `k<index>`" : "") +
  `, ${testCase.shards} ` +
  (testCase.shards === 1 ? "shard" : "shards") +
  (testCase.ratePerSecond === undefined ?
    ", offered as fast as each writer takes them" :
    `, offered at ${testCase.ratePerSecond.toLocaleString("en-US")} records/s`) +
  (testCase.offerSeconds === undefined ?
    "" :
    ` for ${testCase.offerSeconds} s (each writer is offered what it takes in that time, then settles it)`) +
  gaugeNote(testCase) +
  `; median of ${testCase.rounds} round(s) (${mode})`

// The two Effect lines side by side, a row per case and figure: each line's median, and Effect 4's over Effect 3's.
const lineRows = (results: Results) => {
  const compared = compareLines(results.plan.cases, results.runs)
  if (compared.length === 0) return undefined
  const named = { cpu: "CPU us/rec", rate: "records/s", steadyCpu: "CPU us/rec, 2nd half" } as const
  const digits = { cpu: 1, rate: 0, steadyCpu: 1 } as const
  const rows = compared.flatMap((c) =>
    c.figures.map((f) => [
      c.case,
      named[f.what],
      num(f.effect4, digits[f.what]),
      num(f.effect3, digits[f.what]),
      num(f.ratio, 2),
      f.ratios.map((r) => num(r, 2)).join(", ")
    ])
  )
  return {
    headers: ["case", "figure", `${lines.effect4} (Effect 4)`, `${lines.effect3}`, "Effect 4 / Effect 3", "(rounds)"],
    rows,
    align: ["left", "left", "right", "right", "right", "left"] as const
  }
}

const lineNote = "the same loop (`enqueue` each record, then `flush`) with every default, each run in a process of " +
  "its own, in the same rounds as the other writers; medians of the rounds both delivered every record in, and " +
  "each round's ratio (CPU below 1 and records/s above 1: Effect 4 does better)"

const machineLine = (results: Pick<Results, "machine">) => {
  const m = results.machine
  return `${m.date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ` +
    `load average ${m.loadAverage} at start, commit ${m.revision}`
}

// The mode of the run that measured a case: a merge may keep cases of a run of the other mode.
const modeOf = (results: Results, id: string) =>
  results.sources?.find((source) => source.cases.includes(id))?.mode ?? results.plan.mode

const runName = (source: Source) => source.mode === "full" ? "a full run (`--full`)" : "a quick run"

// Which run measured what, when a merge kept cases of an earlier run.
const provenance = (results: Results): Array<string> => {
  if (results.sources === undefined || results.sources.length < 2) return []
  return results.sources.map((source, i) =>
    `${i === 0 ? "This run" : "Kept from an earlier run"} (${source.mode}): ${source.cases.join(", ")}; ` +
    `${machineLine(source)}`
  )
}

/** The terminal report. */

// The stages' table: CPU per record of each, what each step added, and the clean cases' SDK and HTTP beside them.
const stageRows = (results: Results) => {
  const stages = results.core?.stages
  if (stages === undefined) return undefined
  const of = (stage: Stage) => stages.find((s) => s.stage === stage)?.cpuMicros ?? Number.NaN
  const answer = of("answer")
  const rows: Array<Array<string>> = []
  let before = 0
  for (const { cpuMicros, runs, stage } of stages) {
    // The writer stages include the in-memory Kinesis's answers: shown without them.
    const own = stage.startsWith("writer-") ? cpuMicros - answer : cpuMicros
    const added = stage === "answer" ? "" : stage === "writer-enqueue" ?
      num(own - (of("writer-enqueueAll") - answer), 2) :
      num(own - before, 2)
    rows.push([stage, describeStage[stage], num(own, 2), added, runs.map((r) => num(r, 2)).join(", ")])
    if (stage !== "answer" && stage !== "writer-enqueue") before = own
  }
  const clean = (writer: string) => results.summaries.find((s) => s.case === "clean-32" && s.writer === writer)
  const hand = clean("hand-loop")
  const all = clean("effect-kinesis-all")
  if (hand !== undefined && all !== undefined) {
    rows.push([
      "clean-32",
      "the clean case with 32 shards over HTTP: effect-kinesis-all's CPU per record, and what it adds over the " +
      "writer stage (the SDK, HTTP, their garbage)",
      num(all.cpuMicrosPerRecord, 2),
      num(all.cpuMicrosPerRecord - (of("writer-enqueueAll") - answer), 2),
      `hand loop ${num(hand.cpuMicrosPerRecord, 2)}`
    ])
  }
  return {
    headers: ["stage", "what it does", "CPU us/rec", "added", "(rounds)"],
    rows,
    align: ["left", "left", "right", "right", "left"] as const
  }
}

export const text = (results: Results): string => {
  const out: Array<string> = [
    `effect-kinesis bench (${results.plan.mode}): ${machineLine(results)}`,
    ...provenance(results),
    ""
  ]
  for (const testCase of results.plan.cases) {
    out.push(`${testCase.title}: ${caseNote(testCase, modeOf(results, testCase.id))}`)
    const { align, headers, rows } = caseRows(testCase, results.summaries, results.runs)
    out.push(textTable(headers, rows, align), "")
    for (const table of splitSeconds(testCase, results.runs)) {
      out.push(`${table.writer}, per second (split ${num(table.split.atSeconds, 1)} s after the first record):`)
      out.push(textTable(table.headers, table.rows, table.align), "")
    }
  }
  const linesTable = lineRows(results)
  if (linesTable !== undefined) {
    out.push(`Effect 4 against Effect 3: ${lineNote}`)
    out.push(textTable(linesTable.headers, linesTable.rows, linesTable.align), "")
  }
  const memory = memoryRows(results.summaries)
  if (memory.rows.length > 0) {
    out.push("Overload memory, peak MiB at 1x and 10x the load")
    out.push(textTable(memory.headers, memory.rows, memory.align), "")
  }
  if (results.core !== undefined) {
    out.push(
      `Pure core (${coreMeasures(results.core)}; ${results.plan.core.recordBytes}-byte strings, one core): ` +
        `${num(results.core.recordsPerSecond)} records/s, median of ${results.core.runs.length}` +
        (results.core.errors.length > 0 ? `; errors: ${results.core.errors.join("; ")}` : ""),
      ""
    )
  }
  const stagesTable = stageRows(results)
  if (stagesTable !== undefined) {
    // The console has no room for what each stage does.
    const brief = (row: ReadonlyArray<string>) => [row[0], row[2], row[3], row[4]]
    out.push("CPU per record, stage by stage (no SDK, no HTTP; medians)")
    out.push(
      textTable(brief(stagesTable.headers), stagesTable.rows.map(brief), [
        "left",
        "right",
        "right",
        "left"
      ]),
      ""
    )
  }
  out.push("Targets")
  out.push(textTable(
    ["target", "figure", "met"],
    results.targets.map((t) => [`${t.name}: ${t.goal}`, t.figure, met(t, "NO")]),
    ["left", "left", "left"]
  ))
  return out.join("\n")
}

/** `docs/bench/README.md`: how to run, how it measures, the figures and the targets. */
export const markdown = (results: Results, howTo: string): string => {
  const out: Array<string> = [
    "# Benchmarks",
    "",
    "![records per second against the hand-written loop, memory under overload, pure core](chart.svg)",
    "",
    ...(results.sources === undefined || results.sources.length < 2 ?
      [
        `Figures of \`npm run bench${results.plan.mode === "full" ? " -- --full" : ""}\` on ${machineLine(results)}.`,
        "They come from `results.json` in this folder, written by the same run as this page and the chart."
      ] :
      [
        "Figures of more than one run of `npm run bench` (`--merge` kept the cases the latest run did not measure",
        "again), each with the cases it measured; they come from `results.json` in this folder, as does the chart:",
        "",
        ...results.sources.map((source) =>
          `- ${source.cases.join(", ")}: ${runName(source)} on ${machineLine(source)}.`
        ),
        "",
        "The commit named is the writer measured: figures of an earlier commit are of the writer as it was then."
      ]),
    ...(results.sources?.some((source) => source.mode === "quick") ?? results.plan.mode === "quick" ?
      [
        "Figures of a quick run (fewer records, fewer rounds) move a lot between rounds on a shared machine (see the",
        "range column); `npm run bench -- --full` gives the figures to rely on."
      ] :
      []),
    "",
    "## Targets",
    "",
    markdownTable(
      ["target", "goal", "figure", "met"],
      results.targets.map((t) => [t.name, t.goal, t.figure, met(t, "**no**")]),
      ["left", "left", "left", "left"]
    ),
    ""
  ]
  for (const testCase of results.plan.cases) {
    out.push(`## ${testCase.title}`, "", caseNote(testCase, modeOf(results, testCase.id)) + ".", "")
    const { align, headers, rows } = caseRows(testCase, results.summaries, results.runs)
    out.push(markdownTable(headers, rows, align), "")
    for (const table of splitSeconds(testCase, results.runs)) {
      out.push(
        `**${table.writer}**, records stored (refused) per shard and second, from the first record offered; ` +
          `${table.split.parent.replace("shardId-", "")} split ${num(table.split.atSeconds, 1)} s in:`,
        ""
      )
      out.push(markdownTable(table.headers, table.rows, table.align), "")
    }
  }
  const linesMd = lineRows(results)
  if (linesMd !== undefined) {
    out.push("## Effect 4 against Effect 3", "", `The two lines of this library, ${lineNote}.`, "")
    out.push(markdownTable(linesMd.headers, linesMd.rows, linesMd.align), "")
  }
  const memory = memoryRows(results.summaries)
  if (memory.rows.length > 0) {
    out.push("## Overload memory", "", "Peak MiB of the writer's process at 1x and 10x the load (medians).", "")
    out.push(markdownTable(memory.headers, memory.rows, memory.align), "")
  }
  if (results.core !== undefined) {
    out.push(
      "## Pure core",
      "",
      (results.core.path === "production" ?
        "The path the writer runs in production, without its runtime: `Record.encode`, then the `Accumulator` " +
        "(`take` into the record's shard line among 4, `pollSend`, `entriesOf`, `handleResponse` with every " +
        "record stored, `pollEvents`), over " :
        "An earlier bench's figure, `Record.tryEncode` then `Batch.cut` (code production never ran), over ") +
        `${results.plan.core.records.toLocaleString("en-US")} ` +
        `${results.plan.core.recordBytes}-byte strings, no I/O, one process on one core: ` +
        `**${num(results.core.recordsPerSecond)} records/s** (median of ${results.core.runs.length}; ` +
        `runs ${results.core.runs.map((run) => num(run.recordsPerSecond)).join(", ")}).`,
      ""
    )
  }
  const stagesMd = stageRows(results)
  if (stagesMd !== undefined) {
    out.push(
      "## CPU per record, stage by stage",
      "",
      `Each stage does what the one before did and one step more, over ${
        (results.core?.stageRecords ?? 0).toLocaleString("en-US")
      } records of ${results.plan.core.recordBytes} bytes with no SDK and no HTTP, in one process (CPU of every ` +
        "thread, as in the clean cases); medians of the rounds. \"added\" is what the step costs.",
      "",
      markdownTable(stagesMd.headers, stagesMd.rows, stagesMd.align),
      ""
    )
  }
  out.push(howTo)
  return out.join("\n")
}
