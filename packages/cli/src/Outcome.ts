/**
 * How a `put` run ended: its exit status and the summary it prints.
 *
 * Exit status: 0 when every good line was stored; 1 when bad lines were skipped (or `--strict` stopped at one) and
 * every record taken was stored; 2 when records were not stored, or the run could not start or read its input;
 * 130 when Ctrl-C (143 for SIGTERM) stopped the reading and every record taken was still stored.
 *
 * Pure: counters in, text and a number out.
 */
import type { Snapshot } from "./Progress.js"
import * as Units from "./Units.js"

/** Every line was stored. */
export const OK = 0
/** Bad lines were skipped; every good one was stored. */
export const BAD_LINES = 1
/** Records were not stored, or the run could not start or read its input. */
export const FAILED = 2

/** Records that failed with one error code, and what the first of them said. */
export interface FailureGroup {
  readonly code: string
  readonly detail: string
  readonly count: number
}

/** Why the reading stopped before the end of the input, if it did. */
export type Stop =
  | { readonly _tag: "Signal"; readonly signal: "SIGINT" | "SIGTERM" }
  | { readonly _tag: "Strict"; readonly where: string; readonly reason: string }
  | { readonly _tag: "Fatal"; readonly message: string }
  | { readonly _tag: "Failed" }

/** Everything the summary tells. */
export interface Outcome {
  readonly stream: string
  /** The inputs, as named on the command line (`-` for standard input). */
  readonly inputs: ReadonlyArray<string>
  readonly elapsedMillis: number
  /** The counters when the run ended. */
  readonly final: Snapshot
  readonly stop?: Stop | undefined
  /** Records still unconfirmed when a second Ctrl-C stopped the drain (they may or may not be stored). */
  readonly abandoned: number
  /** Failed records by error code, most frequent first. */
  readonly failures: ReadonlyArray<FailureGroup>
  /** The checkpoint file (`--checkpoint`), if any. */
  readonly checkpoint?: string | undefined
  /** Lines an earlier run stored, skipped by this one (`--checkpoint`). */
  readonly skipped?: number | undefined
  /** Where a run that ended before the end of its input may start again: every line before it is stored. */
  readonly resume?: Resume | undefined
}

/** The first line not known stored: line `line` of `input` (as named on the command line), then the inputs after. */
export interface Resume {
  readonly input: string
  readonly line: number
  /** Inputs after this one, not started. */
  readonly more: number
}

/** The exit status of a run: see the module's description. */
export const exitCode = (outcome: Outcome): number => {
  const { final, stop } = outcome
  if (stop?._tag === "Fatal" || stop?._tag === "Failed" || final.failed > 0 || outcome.abandoned > 0) return FAILED
  if (stop?._tag === "Signal") return stop.signal === "SIGINT" ? 130 : 143
  return final.bad > 0 ? BAD_LINES : OK
}

const reasonOf = (outcome: Outcome, code: number): string => {
  if (code === OK) return "every line was stored"
  if (code === BAD_LINES) {
    return outcome.stop?._tag === "Strict" ?
      "--strict stopped at a bad line; every record read before it was stored" :
      "bad lines were skipped; every good line was stored"
  }
  if (code === FAILED) {
    return outcome.stop?._tag === "Fatal" && outcome.final.failed === 0 && outcome.abandoned === 0 ?
      "the run could not go on" :
      "records were not stored"
  }
  return "interrupted; every record taken was stored"
}

/** Groups failed records by error code, most frequent first. */
export const groupFailures = (
  failures: ReadonlyArray<{ readonly code: string; readonly detail: string }>
): Array<FailureGroup> => {
  const groups = new Map<string, { detail: string; count: number }>()
  for (const failure of failures) {
    const group = groups.get(failure.code)
    if (group === undefined) groups.set(failure.code, { detail: failure.detail, count: 1 })
    else group.count++
  }
  return [...groups].map(([code, { count, detail }]) => ({ code, detail, count })).sort((a, b) => b.count - a.count)
}

const inputName = (input: string) => (input === "-" ? "standard input" : input)

// Where to start again, and how: the same command with a checkpoint; by hand from the line without.
const resumeText = (outcome: Outcome, resume: Resume): string => {
  const where = `from line ${Units.count(resume.line)} of ${inputName(resume.input)}${
    resume.more > 0 ? `, then the ${Units.plural(resume.more, "input")} after it` : ""
  }: every line before it is stored`
  if (outcome.checkpoint !== undefined) return `${where}; run the same command again to go on from there`
  return resume.input === "-" ?
    `${where} (--checkpoint FILE resumes files by itself)` :
    `${where} (tail -n +${resume.line} ${resume.input}; with --checkpoint FILE, a rerun resumes by itself)`
}

const inputsText = (inputs: ReadonlyArray<string>): string =>
  inputs.length === 1 ? (inputs[0] === "-" ? "standard input" : inputs[0]) : `${inputs.length} inputs`

const row = (label: string, text: string) => `  ${label.padEnd(11)}${text}`

/** The summary, one line each, as printed on standard error at the end of a run. */
export const summary = (outcome: Outcome): Array<string> => {
  const { final, stop } = outcome
  const code = exitCode(outcome)
  const seconds = outcome.elapsedMillis / 1_000
  const rate = seconds > 0 ? final.delivered / seconds : 0
  const lines = [
    `${Units.plural(final.delivered, "record")} stored in stream ${outcome.stream} (${
      Units.megabytes(final.deliveredBytes)
    }) in ${Units.seconds(outcome.elapsedMillis)}, ${Units.count(rate)} records/s`
  ]
  if (stop?._tag === "Signal") {
    const key = stop.signal === "SIGINT" ? "Ctrl-C" : "SIGTERM"
    lines.push(row(
      "stopped",
      outcome.abandoned > 0 ?
        `${key}: reading stopped, then a second one stopped the drain with ${
          Units.plural(outcome.abandoned, "record")
        } unconfirmed (they may or may not be stored)` :
        `${key}: reading stopped; the ${Units.plural(final.taken, "record")} taken were drained`
    ))
  } else if (stop?._tag === "Strict") {
    lines.push(row("stopped", `--strict: at the first bad line, ${stop.where}: ${stop.reason}`))
  } else if (stop?._tag === "Fatal") {
    lines.push(row("stopped", stop.message))
  } else if (stop?._tag === "Failed") {
    lines.push(row("stopped", "a record failed for good: reading stopped there, and what was taken was drained"))
  }
  if (outcome.skipped !== undefined && outcome.skipped > 0) {
    lines.push(row(
      "resumed",
      `${Units.plural(outcome.skipped, "line")} skipped: an earlier run stored them (checkpoint ${outcome.checkpoint})`
    ))
  }
  lines.push(row(
    "input",
    `${Units.plural(final.lines, "line")} from ${inputsText(outcome.inputs)}; ${
      Units.plural(final.bad, "bad line")
    } skipped`
  ))
  lines.push(row(
    "requests",
    `${Units.count(final.requests)} PutRecords; ${Units.plural(final.retried, "record")} sent again (${
      Units.count(final.throttled)
    } throttled); ${Units.count(final.failed)} failed`
  ))
  for (const group of outcome.failures.slice(0, 5)) {
    lines.push(
      row("not stored", `${Units.count(group.count)} x ${group.code}${group.detail === "" ? "" : `: ${group.detail}`}`)
    )
  }
  if (outcome.resume !== undefined) lines.push(row("resume", resumeText(outcome, outcome.resume)))
  lines.push(row("exit", `${code}: ${reasonOf(outcome, code)}`))
  return lines
}
