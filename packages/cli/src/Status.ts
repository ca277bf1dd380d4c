/**
 * The progress of `put` on standard error: one line redrawn in place on a terminal, a plain line every second
 * otherwise. Messages (bad lines, warnings) go through it, so they never land in the middle of the status line.
 *
 * The counters come from the writer's metrics (`fromMetrics`), summed over their labels.
 */
import { Metrics } from "@effect-kinesis/writer"
import * as Effect from "effect/Effect"
import * as Metric from "effect/Metric"
import type * as Scope from "effect/Scope"
import * as Progress from "./Progress.js"

/** The run's own counters, kept by the reading side. */
export interface InputCounters {
  lines: number
  bad: number
}

/** Where the status line reads the counters. */
export type Source = Effect.Effect<Progress.Snapshot>

/** The stream's name as the writer's metrics label it: the part of an ARN after the last `/`. */
export const streamName = (stream: string): string =>
  stream.startsWith("arn:") ? stream.slice(stream.lastIndexOf("/") + 1) : stream

// Each metric of the stream, summed over its other labels (error codes, shards): counters by value, histograms
// by count.
const totals = (stream: string) =>
  Effect.map(Metric.snapshot, (pairs) => {
    const sums = new Map<string, number>()
    for (const metric of pairs) {
      if (metric.attributes?.[Metrics.Attributes.destination] !== stream) continue
      const value = metric.type === "Counter" ?
        Number(metric.state.count) :
        metric.type === "Histogram" ?
        metric.state.count :
        0
      sums.set(metric.id, (sums.get(metric.id) ?? 0) + value)
    }
    return (name: string) => sums.get(name) ?? 0
  })

// The counters of the metrics; levels (in flight, held) are read as they are.
const read = (stream: string, input: InputCounters): Source =>
  Effect.map(totals(streamName(stream)), (total) => ({
    at: Date.now(),
    lines: input.lines,
    bad: input.bad,
    taken: total(Metrics.Names.recordsTaken),
    delivered: total(Metrics.Names.recordsDelivered),
    deliveredBytes: total(Metrics.Names.bytesDelivered),
    failed: total(Metrics.Names.recordsFailed),
    retried: total(Metrics.Names.recordsRetried),
    throttled: total(Metrics.Names.recordsThrottled),
    requests: total(Metrics.Names.operationDuration),
    inFlight: total(Metrics.Names.requestsInFlight),
    held: total(Metrics.Names.recordsHeld)
  }))

/**
 * The writer's metrics of `stream` (a name or an ARN), with the counters of the input. The metrics live as long as
 * the process: the counts are those since this source was made, so an earlier writer of the same stream is not
 * counted.
 */
export const fromMetrics = (stream: string, input: InputCounters): Effect.Effect<Source> =>
  Effect.map(read(stream, input), (baseline) =>
    Effect.map(read(stream, input), (now) => ({
      ...now,
      taken: now.taken - baseline.taken,
      delivered: now.delivered - baseline.delivered,
      deliveredBytes: now.deliveredBytes - baseline.deliveredBytes,
      failed: now.failed - baseline.failed,
      retried: now.retried - baseline.retried,
      throttled: now.throttled - baseline.throttled,
      requests: now.requests - baseline.requests
    })))

/** Where the status goes: standard error, or a stand-in. */
export interface Terminal {
  readonly write: (text: string) => void
  /** Whether it is a terminal (redraw in place) or a pipe or file (plain lines). */
  readonly isTTY: boolean
  /** Its width, for a terminal. */
  readonly columns: () => number
}

/** Standard error, as the process has it. */
export const stderr: Terminal = {
  write: (text) => {
    process.stderr.write(text)
  },
  isTTY: process.stderr.isTTY === true,
  columns: () => process.stderr.columns ?? 80
}

/** The running display. */
export interface Display {
  /** Prints a line of its own (the status line is cleared first and drawn again after). */
  readonly print: (text: string) => void
  /** Draws the status line now. */
  readonly draw: Effect.Effect<void>
  /** Clears the status line for good; messages after it print as plain lines. */
  readonly stop: Effect.Effect<void>
}

const CLEAR = "\r\x1b[K"

/** Options of the display: how often it redraws. */
export interface Options {
  /** Milliseconds between two redraws on a terminal (default 200). */
  readonly ttyIntervalMillis?: number | undefined
  /** Milliseconds between two plain lines (default 1,000). */
  readonly plainIntervalMillis?: number | undefined
  /** No status at all, only messages. */
  readonly quiet?: boolean | undefined
}

/** Starts drawing the status of `source` on `terminal` until `stop` or the end of the scope. */
export const start = (
  source: Source,
  terminal: Terminal,
  options: Options = {}
): Effect.Effect<Display, never, Scope.Scope> =>
  Effect.gen(function*() {
    const interval = terminal.isTTY ? options.ttyIntervalMillis ?? 200 : options.plainIntervalMillis ?? 1_000
    // Rates are measured over the last second or so, whatever the redraw interval.
    const samples: Array<Progress.Snapshot> = [yield* source]
    let shown = "" // the status line on screen now (terminal only)
    let stopped = options.quiet === true

    const render = (now: Progress.Snapshot): string => {
      while (samples.length > 1 && now.at - samples[1].at >= 1_000) samples.shift()
      const text = Progress.line(samples[0], now)
      samples.push(now)
      return text
    }

    const draw = Effect.flatMap(source, (now) =>
      Effect.sync(() => {
        if (stopped) return
        const text = render(now)
        if (terminal.isTTY) {
          shown = Progress.fit(text, terminal.columns())
          terminal.write(`${CLEAR}${shown}`)
        } else terminal.write(`${text}\n`)
      }))

    const print = (text: string) => {
      if (terminal.isTTY && shown !== "") terminal.write(`${CLEAR}${text}\n${shown}`)
      else terminal.write(`${text}\n`)
    }

    const stop = Effect.sync(() => {
      if (terminal.isTTY && shown !== "") terminal.write(CLEAR)
      shown = ""
      stopped = true
    })

    if (!stopped) yield* Effect.forkScoped(Effect.forever(Effect.andThen(Effect.sleep(interval), draw)))
    yield* Effect.addFinalizer(() => stop)
    return { print, draw, stop }
  })
