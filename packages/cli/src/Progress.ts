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
  /** Records given to the writer. */
  readonly taken: number
  /** Bytes (data + partition key) of the records given to the writer. */
  readonly takenBytes: number
  /** Records stored. */
  readonly delivered: number
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
  readonly buffered: number
  /** Bytes held by the writer now. */
  readonly bufferedBytes: number
}

/** A snapshot of a run that has not started. */
export const empty = (at: number): Snapshot => ({
  at,
  lines: 0,
  bad: 0,
  taken: 0,
  takenBytes: 0,
  delivered: 0,
  failed: 0,
  retried: 0,
  throttled: 0,
  requests: 0,
  inFlight: 0,
  buffered: 0,
  bufferedBytes: 0
})

/** Bytes that left the writer (stored, or failed for good): what was taken less what it still holds. */
export const settledBytes = (snapshot: Snapshot): number => snapshot.takenBytes - snapshot.bufferedBytes

/** Records and bytes a second between two snapshots. */
export const rates = (then: Snapshot, now: Snapshot): { readonly records: number; readonly bytes: number } => {
  const seconds = (now.at - then.at) / 1_000
  if (seconds <= 0) return { records: 0, bytes: 0 }
  return {
    records: Math.max(0, (now.delivered - then.delivered) / seconds),
    bytes: Math.max(0, (settledBytes(now) - settledBytes(then)) / seconds)
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

/**
 * The bytes of the records the writer took, exactly, though a chunk may be taken in part (an interrupted
 * `enqueueAll` takes a prefix): the sizes of each chunk given to the writer are kept until the writer's count of
 * records taken covers them.
 */
export interface Ledger {
  /** Sizes of the chunks given but not yet wholly counted as taken, oldest first. */
  readonly pending: Array<ReadonlyArray<number>>
  /** Records and bytes of the chunks wholly taken. */
  settledRecords: number
  settledBytes: number
}

/** An empty ledger. */
export const ledger = (): Ledger => ({ pending: [], settledRecords: 0, settledBytes: 0 })

/** Notes the sizes of a chunk about to be given to the writer. */
export const give = (ledger: Ledger, sizes: ReadonlyArray<number>): void => {
  if (sizes.length > 0) ledger.pending.push(sizes)
}

/** The bytes of the first `taken` records given. */
export const takenBytes = (ledger: Ledger, taken: number): number => {
  while (ledger.pending.length > 0 && ledger.settledRecords + ledger.pending[0].length <= taken) {
    const sizes = ledger.pending.shift()!
    ledger.settledRecords += sizes.length
    for (const size of sizes) ledger.settledBytes += size
  }
  let bytes = ledger.settledBytes
  const partial = ledger.pending[0]
  for (let i = 0; partial !== undefined && i < taken - ledger.settledRecords; i++) bytes += partial[i]
  return bytes
}

/** `text` cut to fit `columns` (a line that wraps can not be redrawn in place). */
export const fit = (text: string, columns: number): string =>
  columns <= 1 || text.length < columns ? text : `${text.slice(0, Math.max(0, columns - 2))}…`
