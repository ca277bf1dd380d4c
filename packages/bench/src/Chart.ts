/**
 * The chart of a bench run as a standalone SVG: a panel per target with a numeric goal, a bar per writer of its
 * case (the goal a dashed line), drawn here so it needs no chart library.
 */
import { writers } from "./Job.js"
import { delivered, type Results } from "./Results.js"
import { targets } from "./Targets.js"

const WIDTH = 920
const LABEL = 190
const BAR_AREA = 560
const ROW = 20

const escape = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;")

const fmt = (metric: string, value: number) =>
  !Number.isFinite(value) ?
    "n/a" :
    /Share|Deviation/.test(metric) ?
    `${(value * 100).toFixed(1)}%` :
    metric === "recordsPerSecond" ?
    value.toLocaleString("en-US", { maximumFractionDigits: 0 }) :
    value.toFixed(2)

/** The SVG of a bench run. */
export const svg = (results: Results): string => {
  const parts: Array<string> = []
  let top = 64
  for (const target of targets) {
    if (typeof target.threshold !== "number") continue
    const goal = target.threshold
    const bars = target.case === "core" ?
      (results.core === undefined ? [] : [{ label: "core", value: results.core.recordsPerSecond, ok: true }]) :
      writers.flatMap((writer) => {
        const s = results.summaries.find((summary) => summary.case === target.case && summary.writer === writer)
        const value = s?.[target.metric]
        return s === undefined || value === undefined ? [] : [{ label: writer, value, ok: delivered(s) }]
      })
    if (bars.length === 0) continue
    const max = Math.max(goal, ...bars.map((bar) => bar.value).filter(Number.isFinite)) * 1.1
    const x = (value: number) => LABEL + (Math.max(0, Number.isFinite(value) ? value : 0) / max) * BAR_AREA
    parts.push(
      `<text x="16" y="${top + 18}" font-size="13" font-weight="600">${
        escape(
          `${target.name} (${target.case}; issue ${target.item}): ${target.comparison} ${fmt(target.metric, goal)}`
        )
      }</text>`
    )
    bars.forEach((bar, i) => {
      const y = top + 28 + i * ROW
      const color = !bar.ok ? "#dc2626" : bar.label === target.writer || bar.label === "core" ? "#2563eb" : "#9ca3af"
      parts.push(
        `<text x="${LABEL - 8}" y="${y + 13}" font-size="12" text-anchor="end">${escape(bar.label)}</text>`,
        `<rect x="${LABEL}" y="${y + 2}" width="${(x(bar.value) - LABEL).toFixed(1)}" height="${ROW - 6}" ` +
          `fill="${color}" rx="2"/>`,
        `<text x="${(x(bar.value) + 6).toFixed(1)}" y="${y + 13}" font-size="11">${
          escape(fmt(target.metric, bar.value) + (bar.ok ? "" : ", records lost or run failed"))
        }</text>`
      )
    })
    const bottom = top + 28 + bars.length * ROW
    parts.push(
      `<line x1="${x(goal).toFixed(1)}" y1="${top + 24}" x2="${x(goal).toFixed(1)}" y2="${bottom}" ` +
        `stroke="#111827" stroke-dasharray="4 3"/>`
    )
    top = bottom + 12
  }
  const m = results.machine
  const height = top + 24
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" ` +
    `font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif">`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="16" y="26" font-size="18" font-weight="700">effect-kinesis bench (${results.plan.mode}): the targets</text>`,
    `<text x="16" y="46" font-size="12" fill="#374151">${
      escape(
        `${m.date.slice(0, 10)} · ${m.cpu}, ${m.cores} cores · Node ${m.node} · commit ${m.revision} · ` +
          "blue: the writer the target is on; dashed: the goal; medians of per-round figures"
      )
    }</text>`,
    ...parts,
    "</svg>",
    ""
  ].join("\n")
}
