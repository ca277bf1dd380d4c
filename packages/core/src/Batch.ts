/**
 * What goes into one PutRecords request, and what its response means for each record.
 *
 * Pure: data in, data out.
 */

/** The most records one PutRecords request takes. */
export const MAX_BATCH_RECORDS = 500

/** The default byte bound of one request (data + partition keys), the limit Kinesis has long had. */
export const DEFAULT_MAX_BATCH_BYTES = 5 * 1024 * 1024

/** The most bytes one PutRecords request may carry now (data + partition keys). */
export const MAX_BATCH_BYTES_LIMIT = 10 * 1024 * 1024

/** The bounds of one batch. */
export interface Limits {
  /** At most this many records (1 to 500). */
  readonly maxBatchRecords: number
  /** At most this many bytes, counted as Kinesis does (data + partition keys). */
  readonly maxBatchBytes: number
}

/** Anything with a size in bytes as Kinesis counts it. */
export interface Sized {
  readonly size: number
}

/**
 * Whether records waiting to be sent, `count` of them with `bytes` in all, fill a batch: when they reach a
 * bound, one more record could not join the next batch anyway, so waiting for it gains nothing.
 */
export const isFull = (count: number, bytes: number, limits: Limits): boolean =>
  count >= limits.maxBatchRecords || bytes >= limits.maxBatchBytes

/** One entry of a PutRecords response, as the SDK gives it. */
export interface ResultEntry {
  readonly ShardId?: string | undefined
  readonly SequenceNumber?: string | undefined
  readonly ErrorCode?: string | undefined
  readonly ErrorMessage?: string | undefined
}

/** A stored record: where Kinesis put it. */
export interface Delivered<A> {
  readonly item: A
  readonly shardId: string
  readonly sequenceNumber: string
}

/** A record that was not stored, with the error Kinesis gave for it. */
export interface Rejected<A> {
  readonly item: A
  readonly code: string
  readonly detail: string
}

/** Every record of a batch, sorted by what its response entry says. Each record is in exactly one list, in order. */
export interface Settlement<A> {
  readonly delivered: Array<Delivered<A>>
  readonly retry: Array<Rejected<A>>
  readonly failed: Array<Rejected<A>>
}

/** The code given to a record its response did not answer: it is sent again, never dropped. */
export const MISSING_RESULT = "MissingResult"

/**
 * Sorts each record of a batch into delivered, retry (the error code is retriable) and failed (it is not),
 * from the response's entries, which Kinesis gives in request order. A record without an answer, or with an
 * answer that has neither an error code nor a sequence number, is retried.
 */
export const settle = <A>(
  batch: ReadonlyArray<A>,
  results: ReadonlyArray<ResultEntry> | undefined,
  isRetriable: (code: string) => boolean
): Settlement<A> => {
  const settlement: Settlement<A> = { delivered: [], retry: [], failed: [] }
  for (let i = 0; i < batch.length; i++) {
    const item = batch[i]
    const result = results?.[i]
    if (result === undefined || result === null) {
      settlement.retry.push({ item, code: MISSING_RESULT, detail: "the response did not answer for this record" })
    } else if (result.ErrorCode !== undefined && result.ErrorCode !== null && result.ErrorCode !== "") {
      const rejected = { item, code: result.ErrorCode, detail: result.ErrorMessage ?? "" }
      if (isRetriable(result.ErrorCode)) settlement.retry.push(rejected)
      else settlement.failed.push(rejected)
    } else if (typeof result.SequenceNumber === "string" && typeof result.ShardId === "string") {
      settlement.delivered.push({ item, shardId: result.ShardId, sequenceNumber: result.SequenceNumber })
    } else {
      settlement.retry.push({ item, code: MISSING_RESULT, detail: "the response entry has no sequence number" })
    }
  }
  return settlement
}
