/**
 * What the proxy has seen and done: requests by operation, records offered, stored, refused and unanswered, faults
 * injected by kind, and per stream, shard and second what each shard took and refused.
 */
import type { RecordFaultKind, RequestFault } from "./faults.js"
import type { Counters, ShardSecond } from "./types.js"

/** The proxy's counting, on its clock. */
export interface Tally {
  /** One request of `operation`. */
  readonly request: (operation: string) => void
  /** Records received in a PutRecords or PutRecord request. */
  readonly offered: (records: number) => void
  /** A record the target stored on `shardId`, of `bytes` (data + partition key). */
  readonly stored: (stream: string, shardId: string, bytes: number) => void
  /** A record refused because its shard was over its limits. */
  readonly throttled: (stream: string, shardId: string) => void
  /** A record failed by the fault plan. */
  readonly faulted: (stream: string, shardId: string, kind: RecordFaultKind) => void
  /** A request fault injected, or a delay; a reset also counts as a connection destroyed. */
  readonly requestFault: (kind: RequestFault | "delay") => void
  /** Records stored whose answer never reached the client. */
  readonly unanswered: (records: number) => void
  /** A request dropped because its client left during a delay. */
  readonly abandoned: () => void
  /** A copy of every counter. */
  readonly snapshot: () => Counters
  /** Sets every counter back to zero. */
  readonly reset: () => void
}

type Mutable<A> = { -readonly [K in keyof A]: A[K] }

const empty = () => ({
  requests: {} as Record<string, number>,
  records: { offered: 0, stored: 0, throttled: 0, faulted: 0, unanswered: 0 } as Mutable<Counters["records"]>,
  faults: {
    throttle: 0,
    internalFailure: 0,
    failIndexes: 0,
    serverError: 0,
    error: 0,
    hang: 0,
    delay: 0,
    resetBeforeForward: 0,
    resetAfterForward: 0
  } as Mutable<Counters["faults"]>,
  resets: 0,
  abandoned: 0,
  shards: new Map<string, Mutable<ShardSecond>>()
})

/** Counters at zero, whose seconds are read from `now` (milliseconds). */
export const make = (now: () => number): Tally => {
  let counters = empty()

  const shardSecond = (stream: string, shardId: string) => {
    const second = Math.floor(now() / 1000)
    const key = `${second}\u0000${stream}\u0000${shardId}`
    let entry = counters.shards.get(key)
    if (entry === undefined) {
      entry = { stream, shardId, second, accepted: 0, acceptedBytes: 0, throttled: 0, faulted: 0 }
      counters.shards.set(key, entry)
    }
    return entry
  }

  return {
    request: (operation) => {
      counters.requests[operation] = (counters.requests[operation] ?? 0) + 1
    },
    offered: (records) => {
      counters.records.offered += records
    },
    stored: (stream, shardId, bytes) => {
      counters.records.stored++
      const second = shardSecond(stream, shardId)
      second.accepted++
      second.acceptedBytes += bytes
    },
    throttled: (stream, shardId) => {
      counters.records.throttled++
      shardSecond(stream, shardId).throttled++
    },
    faulted: (stream, shardId, kind) => {
      counters.faults[kind]++
      counters.records.faulted++
      shardSecond(stream, shardId).faulted++
    },
    requestFault: (kind) => {
      counters.faults[kind]++
      if (kind === "resetBeforeForward" || kind === "resetAfterForward") counters.resets++
    },
    unanswered: (records) => {
      counters.records.unanswered += records
    },
    abandoned: () => {
      counters.abandoned++
    },
    snapshot: () => ({
      requests: { ...counters.requests },
      records: { ...counters.records },
      faults: { ...counters.faults },
      resets: counters.resets,
      abandoned: counters.abandoned,
      shards: [...counters.shards.values()]
        .map((entry) => ({ ...entry }))
        .sort((a, b) => a.second - b.second || a.stream.localeCompare(b.stream) || a.shardId.localeCompare(b.shardId))
    }),
    reset: () => {
      counters = empty()
    }
  }
}
