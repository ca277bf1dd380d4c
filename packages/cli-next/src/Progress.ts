/**
 * What `put` shows while it runs: a snapshot of its counters, and the status line made of two snapshots (rates are
 * the change between them).
 *
 * Pure: snapshots in, text out.
 */
import * as Units from "./Units.js"

/** The counters of a run at one moment. */
export interface Snapshot {
  /** When it was taken, in milliseconds. */
  readonly at: number
  /** Lines read from the input. */
  readonly lines: number
  /** Lines refused (invalid, missing key, too large). */
  readonly bad: number
  /** Records the writer took. */
  readonly taken: number
  /** Records stored. */
  readonly delivered: number
  /** Bytes (data + partition keys) of the records stored. */
  readonly deliveredBytes: number
  /** Records that failed for good. */
  readonly failed: number
  /** Times a record was sent again. */
  readonly retried: number
  /** Times a record was refused for its shard's throughput. */
  readonly throttled: number
  /** PutRecords requests sent. */
  readonly requests: number
  /** Requests in flight now. */
  readonly inFlight: number
  /** Records held by the writer now: waiting, retrying or in flight. */
  readonly held: number
}

/** A snapshot of a run that has not started. */
export const empty = (at: number): Snapshot => ({
  at,
  lines: 0,
  bad: 0,
  taken: 0,
  delivered: 0,
  deliveredBytes: 0,
  failed: 0,
  retried: 0,
  throttled: 0,
  requests: 0,
  inFlight: 0,
  held: 0
})

/** Records and bytes a second between two snapshots. */
export const rates = (then: Snapshot, now: Snapshot): { readonly records: number; readonly bytes: number } => {
  const seconds = (now.at - then.at) / 1_000
  if (seconds <= 0) return { records: 0, bytes: 0 }
  return {
    records: Math.max(0, (now.delivered - then.delivered) / seconds),
    bytes: Math.max(0, (now.deliveredBytes - then.deliveredBytes) / seconds)
  }
}

/** The status line: what is stored, how fast (since `then`), and what is in flight, retried and lost. */
export const line = (then: Snapshot, now: Snapshot): string => {
  const rate = rates(then, now)
  return [
    `${Units.count(now.delivered)} stored`,
    `${Units.count(rate.records)} records/s`,
    `${Units.megabytes(rate.bytes)}/s`,
    `in flight ${Units.count(now.inFlight)}`,
    `retries ${Units.count(now.retried)}`,
    `throttled ${Units.count(now.throttled)}`,
    `failed ${Units.count(now.failed)}`,
    `bad lines ${Units.count(now.bad)}`
  ].join("  ")
}

/** `text` cut to fit `columns` (a line that wraps can not be redrawn in place). */
export const fit = (text: string, columns: number): string =>
  columns <= 1 || text.length < columns ? text : `${text.slice(0, Math.max(0, columns - 2))}…`
