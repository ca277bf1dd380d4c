/**
 * The results as text: the terminal table, and the Markdown of `docs/bench/README.md`.
 */
import { writers } from "./Job.js"
import { delivered, type Results, type Summary, type Target } from "./Results.js"
import type { Case } from "./Scenarios.js"

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

const caseRows = (testCase: Case, summaries: ReadonlyArray<Summary>) => {
  const limited = testCase.limits
  const headers = [
    "writer",
    "records/s",
    "x hand loop",
    "(rounds)",
    ...(limited ? ["x capacity"] : []),
    "CPU us/rec",
    "peak RSS MiB",
    "peak heap MiB",
    "requests",
    "refused",
    "missing",
    "dups",
    "result"
  ]
  const align: Array<Align> = [...headers.map((): Align => "right")]
  align[0] = "left"
  align[align.length - 1] = "left"
  const rows = writers.flatMap((writer) => {
    const s = summaries.find((summary) => summary.case === testCase.id && summary.writer === writer)
    if (s === undefined) return []
    return [[
      writer,
      num(s.recordsPerSecond),
      num(s.ratio, 2),
      s.runs > 1 ? `${num(s.ratioMin, 2)}-${num(s.ratioMax, 2)}` : "",
      ...(limited ? [num(s.capacityShare ?? Number.NaN, 2)] : []),
      num(s.cpuMicrosPerRecord, 1),
      num(s.peakRssMiB),
      num(s.peakHeapMiB),
      num(s.requests),
      num(s.refused),
      num(s.missing),
      num(s.duplicates),
      verdict(s)
    ]]
  })
  return { headers, rows, align }
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

const caseNote = (testCase: Case, mode: string) =>
  `${testCase.records.toLocaleString("en-US")} records of ${testCase.recordBytes} bytes, ${testCase.shards} shards` +
  (testCase.ratePerSecond === undefined ?
    ", offered as fast as each writer takes them" :
    `, offered at ${testCase.ratePerSecond.toLocaleString("en-US")} records/s`) +
  `; median of ${testCase.rounds} round(s) (${mode})`

const machineLine = (results: Results) => {
  const m = results.machine
  return `${m.date.slice(0, 10)}, ${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, Node ${m.node}, ${m.platform}, ` +
    `load average ${m.loadAverage} at start, commit ${m.revision}`
}

/** The terminal report. */
export const text = (results: Results): string => {
  const out: Array<string> = [`effect-kinesis bench (${results.plan.mode}): ${machineLine(results)}`, ""]
  for (const testCase of results.plan.cases) {
    out.push(`${testCase.title}: ${caseNote(testCase, results.plan.mode)}`)
    const { align, headers, rows } = caseRows(testCase, results.summaries)
    out.push(textTable(headers, rows, align), "")
  }
  const memory = memoryRows(results.summaries)
  if (memory.rows.length > 0) {
    out.push("Overload memory, peak MiB at 1x and 10x the load")
    out.push(textTable(memory.headers, memory.rows, memory.align), "")
  }
  if (results.core !== undefined) {
    out.push(
      `Pure core (Record.encode + Batch.cut, ${results.plan.core.recordBytes}-byte strings, one core): ` +
        `${num(results.core.recordsPerSecond)} records/s, median of ${results.core.runs.length}` +
        (results.core.errors.length > 0 ? `; errors: ${results.core.errors.join("; ")}` : ""),
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
    `Figures of \`npm run bench${results.plan.mode === "full" ? " -- --full" : ""}\` on ${machineLine(results)}.`,
    "They come from `results.json` in this folder, written by the same run as this page and the chart.",
    ...(results.plan.mode === "quick" ?
      [
        "This is the quick version (fewer records, fewer rounds): on a shared machine its ratios move a lot",
        "between rounds (see the range column); `npm run bench -- --full` gives the figures to rely on."
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
    out.push(`## ${testCase.title}`, "", caseNote(testCase, results.plan.mode) + ".", "")
    const { align, headers, rows } = caseRows(testCase, results.summaries)
    out.push(markdownTable(headers, rows, align), "")
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
      `\`Record.encode\` then \`Batch.cut\` over ${results.plan.core.records.toLocaleString("en-US")} ` +
        `${results.plan.core.recordBytes}-byte strings, no I/O, one process on one core: ` +
        `**${num(results.core.recordsPerSecond)} records/s** (median of ${results.core.runs.length}; ` +
        `runs ${results.core.runs.map((run) => num(run.recordsPerSecond)).join(", ")}).`,
      ""
    )
  }
  out.push(howTo)
  return out.join("\n")
}
