/**
 * The writer's counters since it started, kept by the accumulator as it decides, and read as one snapshot for
 * health checks (`writer.stats`).
 */

/** The counters, changed in place by the accumulator. */
export interface Counters {
  accepted: number
  sent: number
  delivered: number
  failed: number
  retried: number
  throttled: number
  requests: number
  failedRequests: number
  bytesSent: number
  bytesDelivered: number
  readonly failedByCode: Map<string, number>
  readonly throttledByShard: Map<string, number>
}

/** Counters at zero. */
export const make = (): Counters => ({
  accepted: 0,
  sent: 0,
  delivered: 0,
  failed: 0,
  retried: 0,
  throttled: 0,
  requests: 0,
  failedRequests: 0,
  bytesSent: 0,
  bytesDelivered: 0,
  failedByCode: new Map(),
  throttledByShard: new Map()
})

/** Adds `count` to the entry `key` of a counter map. */
export const add = (counts: Map<string, number>, key: string, count: number): void => {
  counts.set(key, (counts.get(key) ?? 0) + count)
}

/** Counters since the writer started, and what it holds now. `E` is the shell's error of a failed request. */
export interface Stats<E = unknown> {
  /** Records accepted by `enqueue` or `put`. */
  readonly accepted: number
  /**
   * Records stored in the order accepted: the first `storedPrefix` records accepted are all in the stream. A source's
   * checkpoint (a file position, a consumer offset) can move up to the record at this count. A record that failed
   * for good stops it there: what comes after it is never counted.
   */
  readonly storedPrefix: number
  /** Records carried by PutRecords requests, each time sent: a record sent three times counts three. */
  readonly sent: number
  /** Records stored in the stream. */
  readonly delivered: number
  /** Records that failed for good. */
  readonly failed: number
  /** Times a record was put back to be sent again. */
  readonly retried: number
  /** Times a record was refused for its shard's throughput (`ProvisionedThroughputExceededException`). */
  readonly throttled: number
  /** PutRecords requests sent. */
  readonly requests: number
  /** PutRecords requests that failed as a whole. */
  readonly failedRequests: number
  /** Records held now: waiting, waiting to retry, or in flight. */
  readonly bufferedRecords: number
  /** Bytes of the records held now. */
  readonly bufferedBytes: number
  /** PutRecords requests in flight now. */
  readonly inFlight: number
  /** Bytes (data and partition keys) of the PutRecords requests sent, each time sent. */
  readonly bytesSent: number
  /** Bytes (data and partition keys) of the records stored. */
  readonly bytesDelivered: number
  /** Records that failed for good, by error code. */
  readonly failedByCode: { readonly [code: string]: number }
  /** Records refused for their shard's throughput, by shard id (shard-aware only: shard-blind, no shard is known). */
  readonly throttledByShard: { readonly [shardId: string]: number }
  /** PutRecords requests failed as a whole since the last answered one: 0 while requests are answered. */
  readonly failingRequests: number
  /** When the first of them was sent (clock millis); undefined while requests are answered. */
  readonly failingSince: number | undefined
  /** The error the last of them failed with; undefined while requests are answered. */
  readonly lastRequestError: E | undefined
}
