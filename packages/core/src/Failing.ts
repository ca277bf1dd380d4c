/**
 * Requests failing as a whole one after another (no network, DNS, credentials, a missing stream): the writer says
 * so at Warning, naming the cause, once they have failed for a second, then at most every few seconds, and says
 * when requests are answered again. Records are retried meanwhile; without these lines a writer with no route to
 * AWS would be silent until its retry schedule ended. Pure: time comes in, lines to log go out.
 */
import { describe, type Fault } from "./Fault.js"

/** Failures for this long (from the first failed request's sending) make a warning. */
export const WARN_AFTER_MILLIS = 1000

/** The least time between two warnings of one writer. */
export const WARN_EVERY_MILLIS = 5000

/** The failures since the last answered request. */
export interface Streak {
  /** When the first failed request of the streak was sent; undefined while requests are answered. */
  since: number | undefined
  /** Requests failed since then. */
  requests: number
  /** When the last warning was logged. */
  warnedAt: number
  /** Whether this streak was said at Warning, so its end is said too. */
  warned: boolean
  last: Fault | undefined
}

/** A line to log. */
export interface Line {
  readonly level: "Warning" | "Info"
  readonly message: string
}

/** No failures yet. */
export const make = (): Streak => ({
  since: undefined,
  requests: 0,
  warnedAt: -Infinity,
  warned: false,
  last: undefined
})

/** A request sent at `sentAt` failed as a whole: the streak goes on (records that fail for good say so themselves). */
export const failed = (streak: Streak, error: Fault, sentAt: number): void => {
  streak.since = streak.since === undefined ? sentAt : Math.min(streak.since, sentAt)
  streak.requests++
  streak.last = error
}

const seconds = (millis: number) => `${Math.round(millis / 100) / 10} s`

const cause = describe

/** The warning due at `now` after a failure, if any: once failures have lasted a second, then every few seconds. */
export const warning = (streak: Streak, stream: string, held: number, now: number): Line | undefined => {
  if (streak.since === undefined || streak.last === undefined) return undefined
  if (now - streak.warnedAt < WARN_EVERY_MILLIS) return undefined
  if (now - streak.since < WARN_AFTER_MILLIS) return undefined
  const waiting = held === 0 ?
    "" :
    `; ${held} record(s) held${streak.last.retriable ? ", sent again as the retry schedule allows" : ""}`
  const message = `PutRecords requests to stream ${stream} keep failing: ${streak.requests} in a row over ` +
    `${seconds(now - streak.since)}, the last with ${cause(streak.last)}${waiting}`
  streak.warnedAt = now
  streak.warned = true
  return { level: "Warning", message }
}

/** A request was answered at `now`: the streak ends, and is said to have ended (at Info) if it was said. */
export const answered = (streak: Streak, stream: string, now: number): Line | undefined => {
  if (streak.since === undefined) return undefined
  const line: Line | undefined = streak.warned ?
    {
      level: "Info",
      message: `PutRecords requests to stream ${stream} are answered again after ${streak.requests} failed in a row ` +
        `over ${seconds(now - streak.since)}`
    } :
    undefined
  // The next streak may warn at once, but not within a few seconds of this one's last warning.
  Object.assign(streak, { ...make(), warnedAt: streak.warnedAt })
  return line
}
