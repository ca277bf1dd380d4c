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
}

/** The exit status of a run: see the module's description. */
export const exitCode = (outcome: Outcome): number => {
  const { final, stop } = outcome
  if (stop?._tag === "Fatal" || final.failed > 0 || outcome.abandoned > 0) return FAILED
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
        `${key}: reading stopped after ${Units.plural(final.lines, "line")}; the ${
          Units.plural(final.taken, "record")
        } taken were drained`
    ))
  } else if (stop?._tag === "Strict") {
    lines.push(row("stopped", `--strict: at the first bad line, ${stop.where}: ${stop.reason}`))
  } else if (stop?._tag === "Fatal") {
    lines.push(row("stopped", stop.message))
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
  lines.push(row("exit", `${code}: ${reasonOf(outcome, code)}`))
  return lines
}
