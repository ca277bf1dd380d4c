/**
 * The chart of a bench run as a standalone SVG, drawn here: horizontal bars, one panel per scenario, so it needs
 * no chart library and reads the same in a browser and on GitHub.
 */
import { baseline, writers } from "./Job.js"
import {
  AGGREGATION_GOAL,
  CLEAN_GOAL,
  CORE_GOAL,
  delivered,
  type Results,
  SHARD_GOALS,
  type Summary
} from "./Results.js"

const WIDTH = 920
const LABEL = 170
const BAR_AREA = 560
const ROW = 20
const FONT = "font-family=\"system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif\""

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

const colors: Record<string, string> = {
  "hand-loop": "#6b7280",
  "effect-kinesis": "#2563eb",
  "effect-kinesis-effect3": "#64748b",
  "effect-kinesis-blind": "#93c5fd",
  "effect-kinesis-aggregated": "#0891b2",
  "effect-kinesis-tuned": "#1e40af",
  "effect-kinesis-sink": "#4f46e5",
  "effect-kinesis-all": "#7c3aed",
  "shutterstock": "#d97706",
  "aws-kinesis-writable": "#059669",
  "naive-port": "#9333ea"
}
const FAILED = "#dc2626"

interface Bar {
  readonly label: string
  readonly value: number
  readonly text: string
  readonly color: string
}

interface Panel {
  readonly title: string
  readonly subtitle: string
  readonly bars: ReadonlyArray<Bar>
  /** A goal drawn as a dashed line, with its label. */
  readonly goal?: { readonly value: number; readonly label: string } | undefined
}

const panelHeight = (panel: Panel) => 48 + panel.bars.length * ROW + (panel.goal === undefined ? 10 : 22)

const drawPanel = (panel: Panel, top: number): string => {
  const max = Math.max(...panel.bars.map((bar) => bar.value).filter(Number.isFinite), panel.goal?.value ?? 0) * 1.1 || 1
  const x = (value: number) => LABEL + (Math.max(0, value) / max) * BAR_AREA
  const parts = [
    `<text x="16" y="${top + 20}" font-size="14" font-weight="600">${escape(panel.title)}</text>`,
    `<text x="16" y="${top + 37}" font-size="11" fill="#4b5563">${escape(panel.subtitle)}</text>`
  ]
  panel.bars.forEach((bar, i) => {
    const y = top + 48 + i * ROW
    const width = Number.isFinite(bar.value) ? x(bar.value) - LABEL : 0
    parts.push(
      `<text x="${LABEL - 8}" y="${y + 13}" font-size="12" text-anchor="end">${escape(bar.label)}</text>`,
      `<rect x="${LABEL}" y="${y + 2}" width="${width.toFixed(1)}" height="${ROW - 6}" fill="${bar.color}" rx="2"/>`,
      `<text x="${(LABEL + width + 6).toFixed(1)}" y="${y + 13}" font-size="11" fill="${
        bar.color === FAILED ? FAILED : "#111827"
      }">${escape(bar.text)}</text>`
    )
  })
  if (panel.goal !== undefined) {
    // The goal's label goes under the bars, where no subtitle or value text can collide with it.
    const gx = x(panel.goal.value).toFixed(1)
    const bottom = top + 48 + panel.bars.length * ROW
    parts.push(
      `<line x1="${gx}" y1="${top + 44}" x2="${gx}" y2="${bottom}" stroke="#111827" stroke-dasharray="4 3"/>`,
      `<text x="${gx}" y="${bottom + 11}" font-size="10" text-anchor="middle" fill="#111827">` +
        `${escape(panel.goal.label)}</text>`
    )
  }
  return parts.join("\n")
}

const fmt = (value: number, digits = 2) => Number.isFinite(value) ? value.toFixed(digits) : "n/a"

const speedBars = (summaries: ReadonlyArray<Summary>, id: string, capacity: boolean): Array<Bar> =>
  writers.flatMap((writer): Array<Bar> => {
    const s = summaries.find((summary) => summary.case === id && summary.writer === writer)
    if (s === undefined) return []
    const value = capacity ? s.capacityShare ?? Number.NaN : s.ratio
    const ok = delivered(s)
    const base = capacity ? `${fmt(value)}x capacity` : `${fmt(value)}x`
    return [{
      label: writer,
      value,
      text: `${base}, ${Math.round(s.recordsPerSecond).toLocaleString("en-US")} rec/s` +
        (ok ? "" : s.missing > 0 ? `, LOST ${s.missing.toLocaleString("en-US")}` : ", FAILED"),
      color: ok ? colors[writer] : FAILED
    }]
  })

const pct = (share: number) => Number.isFinite(share) ? `${(share * 100).toFixed(1)}%` : "n/a"

// A shard scenario's bars: the capacity used, and what the stream refused to get there.
const gaugedBars = (summaries: ReadonlyArray<Summary>, id: string): Array<Bar> =>
  writers.flatMap((writer): Array<Bar> => {
    const s = summaries.find((summary) => summary.case === id && summary.writer === writer)
    if (s === undefined) return []
    const ok = delivered(s)
    const value = s.capacityShare ?? Number.NaN
    const speed = s.plainRatio === undefined ?
      "" :
      `, ${Math.round(s.recordsPerSecond).toLocaleString("en-US")} user rec/s (${fmt(s.plainRatio, 1)}x plain)`
    return [{
      label: writer,
      value,
      text: `${pct(value)} used, ${pct(s.refusedShare)} of sends refused${speed}` +
        (ok ? "" : s.missing > 0 ? `, LOST ${s.missing.toLocaleString("en-US")}` : ", FAILED"),
      color: ok ? colors[writer] : FAILED
    }]
  })

/** The SVG of a bench run. */
export const svg = (results: Results): string => {
  const { machine, plan, summaries } = results
  const panels: Array<Panel> = []
  const ran = (id: string) => summaries.some((s) => s.case === id)
  for (const testCase of plan.cases) {
    if (testCase.scenario === "overload" || !ran(testCase.id)) continue
    if (testCase.gauge === "stream-bytes") {
      const goal = AGGREGATION_GOAL.capacity
      panels.push({
        title: testCase.title,
        subtitle: "the stream's byte capacity filled with user records (data + keys) while records were offered; " +
          "red: records lost",
        bars: gaugedBars(summaries, testCase.id),
        goal: { value: goal, label: `goal ${pct(goal)}` }
      })
      continue
    }
    if (testCase.gauge !== undefined) {
      const goal = SHARD_GOALS.find((g) => g.case === testCase.id)?.capacity ?? 1
      panels.push({
        title: testCase.title,
        subtitle: (testCase.gauge === "hot-shard" ? "the hot shard's" : "the stream's") +
          ` record capacity used while records were offered${
            testCase.gauge === "after-split" ? ", after the split" : ""
          }; red: records lost`,
        bars: gaugedBars(summaries, testCase.id),
        goal: { value: goal, label: `goal ${pct(goal)}` }
      })
      continue
    }
    const capacity = testCase.limits
    panels.push({
      title: testCase.title,
      subtitle: `${testCase.records.toLocaleString("en-US")} x ${testCase.recordBytes} B, ${testCase.shards} shards; ` +
        (capacity ?
          "delivered records/s over the stream's capacity" :
          `records/s over the ${baseline}'s in the same round (median of ${testCase.rounds})`) +
        "; red: records lost",
      bars: speedBars(summaries, testCase.id, capacity),
      goal: testCase.scenario === "clean" ? { value: CLEAN_GOAL, label: `goal ${CLEAN_GOAL}x` } : capacity ?
        { value: 1, label: "capacity" } :
        undefined
    })
  }
  if (ran("overload-1x") && ran("overload-10x")) {
    const low = plan.cases.find((c) => c.id === "overload-1x")!
    panels.push({
      title: "Overload: peak heap at 1x and 10x the load",
      subtitle: `${low.records.toLocaleString("en-US")} and ${(low.records * 10).toLocaleString("en-US")} records of ` +
        `${low.recordBytes} B offered at once; MiB (peak RSS in the table)`,
      bars: writers.flatMap((writer): Array<Bar> => {
        const a = summaries.find((s) => s.case === "overload-1x" && s.writer === writer)
        const b = summaries.find((s) => s.case === "overload-10x" && s.writer === writer)
        if (a === undefined || b === undefined) return []
        const ok = delivered(a) && delivered(b)
        return [
          {
            label: `${writer} 1x`,
            value: a.peakHeapMiB,
            text: `${fmt(a.peakHeapMiB, 0)} MiB`,
            color: ok ? colors[writer] : FAILED
          },
          {
            label: `${writer} 10x`,
            value: b.peakHeapMiB,
            text: `${fmt(b.peakHeapMiB, 0)} MiB (${fmt(b.peakHeapMiB / a.peakHeapMiB)}x)${ok ? "" : ", LOST records"}`,
            color: ok ? colors[writer] : FAILED
          }
        ]
      })
    })
  }
  if (results.core !== undefined) {
    panels.push({
      title: results.core.path === "production" ?
        "Pure core, the production path: Record.encode + Accumulator, one core" :
        "Pure core: Record.tryEncode + Batch.cut (an earlier bench), one core",
      subtitle: `${plan.core.recordBytes}-byte strings${results.core.path === "production" ? ", 4 shards" : ""}, ` +
        "no I/O; millions of records/s " +
        `(median of ${results.core.runs.length})`,
      bars: [{
        label: "effect-kinesis core",
        value: results.core.recordsPerSecond / 1e6,
        text: `${fmt(results.core.recordsPerSecond / 1e6)}M records/s`,
        color: colors["effect-kinesis"]
      }],
      goal: { value: CORE_GOAL / 1e6, label: `goal ${CORE_GOAL / 1e6}M` }
    })
  }
  const header = 64
  let top = header
  const body: Array<string> = []
  for (const panel of panels) {
    body.push(drawPanel(panel, top))
    top += panelHeight(panel)
  }
  const height = top + 24
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" ` +
    `viewBox="0 0 ${WIDTH} ${height}" ${FONT}>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="18" font-weight="700">effect-kinesis benchmarks (${plan.mode})</text>`,
    `<text x="16" y="46" font-size="12" fill="#374151">${
      escape(
        `${machine.date.slice(0, 10)} · ${machine.cpu}, ${machine.cores} cores · Node ${machine.node} · ` +
          `embedded Kinesis (kinesalite) on 127.0.0.1 · concurrency ${plan.concurrency}`
      )
    }</text>`,
    body.join("\n"),
    `<text x="16" y="${height - 8}" font-size="10" fill="#6b7280">${
      escape("Ratios are medians of per-round ratios against the hand-written PutRecords loop run in the same round.")
    }</text>`,
    "</svg>",
    ""
  ].join("\n")
}
