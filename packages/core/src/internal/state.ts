/**
 * The accumulator's state and the shapes the other parts share: records held, per-shard lines, requests in flight,
 * the events for the caller. Only the accumulator's parts change it.
 */
import type * as Batch from "../Batch.js"
import * as Failing from "../Failing.js"
import type { Fault } from "../Fault.js"
import type * as Record from "../Record.js"
import type * as ShardMap from "../ShardMap.js"
import * as Stats from "../Stats.js"

/** The line of records whose shard is not known (no shard map, or a hash key no open shard holds). */
export const BLIND = ""

/** Per-shard budgets the accumulator asks before it takes a shard's records (`RateLimit` provides one). */
export interface Pacing {
  /** Whole records and bytes the shard may take now. */
  readonly available: (shard: string, now: number) => { readonly records: number; readonly bytes: number }
  /** Records and bytes sent to the shard now. */
  readonly spend: (shard: string, records: number, bytes: number, now: number) => void
  /** The earliest moment the shard can take `records` records of `bytes` bytes. */
  readonly readyAt: (shard: string, records: number, bytes: number, now: number) => number
  /**
   * A response to a request sent at `sentAt`: the shard stored `stored` of its entries and refused `refused` of
   * them (`refusedBytes` bytes) as over its throughput.
   */
  readonly answered: (
    shard: string,
    sentAt: number,
    now: number,
    stored: number,
    refused: number,
    refusedBytes: number
  ) => void
  /** A new shard map: budgets of shards no longer open are dropped. */
  readonly forget?: ((openShards: ReadonlyArray<string>) => void) | undefined
}

/** The bounds of one aggregate. */
export interface AggregationBounds {
  /** The most bytes of an aggregate's data (magic number, message, digest); a record that can not share goes plain. */
  readonly maxBytes: number
  /** The most user records in one aggregate. */
  readonly maxRecords: number
}

/** How the accumulator decides. */
export interface Options {
  readonly limits: Batch.Limits
  readonly lingerMillis: number
  readonly maxInFlight: number
  readonly maxBufferedRecords: number
  readonly maxBufferedBytes: number
  /** Records with the same partition key are stored in the order taken. */
  readonly ordered: boolean
  /** Per-shard budgets; undefined: every line is sent as fast as batches fill. */
  readonly pacing: Pacing | undefined
  /** Send nothing until the first shard map (or word that none can be read): records would go out unpaced. */
  readonly awaitRoute?: boolean | undefined
  /** Pack the records of each predicted shard into KPL aggregates within these bounds; undefined: no packing. */
  readonly aggregation?: AggregationBounds | undefined
  /** The stream's name, for the lines the accumulator asks the caller to log. */
  readonly streamName?: string | undefined
}

/** One record from the moment it is taken until it is stored or has failed for good. */
export interface Held<T> extends Batch.Sized {
  readonly record: Record.Encoded
  /** The order it was taken in. */
  readonly seq: number
  /** When it was taken: the delivery time counts from here. */
  readonly takenAt: number
  /** Its explicit hash key as 32 hex digits, once a shard map needed it. */
  hashKey: string | undefined
  /** The caller's handle on its result (a `put`), or undefined (an `enqueue`). */
  readonly ticket: T | undefined
  /** The line it waits in: its predicted shard, or `BLIND`. */
  shard: string
  /** When it last became sendable: when taken, or when its retry delay ended. Linger counts from here. */
  readyAt: number
  /** Requests that carried it. */
  attempts: number
  /** The retry `Schedule`'s state for it; undefined until its first failure. */
  retryState: unknown
  settled: boolean
  /** A request that carried it went unanswered or failed on the server: Kinesis may hold it already. */
  maybeStored: boolean
  /** Where it was stored, once `Delivered`: the shard, the sequence number, and its place in an aggregate. */
  shardId: string
  sequenceNumber: string
  subSequenceNumber: number | undefined
}

/** User records of one shard packed into one Kinesis record (the KPL's aggregated format). */
export interface Aggregated<T> extends Batch.Sized {
  /** What is sent: the aggregate's bytes, with an explicit hash key in its shard's range. */
  readonly record: Record.Encoded
  /** The user records inside, in order: a member's index is its sub-sequence number. */
  readonly members: ReadonlyArray<Held<T>>
}

/** What a request carries in one entry: a user record, or an aggregate of them. */
export type Item<T> = Held<T> | Aggregated<T>

/** Whether an entry of a request is an aggregate. */
export const isAggregated = <T>(item: Item<T>): item is Aggregated<T> => "members" in item

/** A PutRecords request's records, from the moment it is planned until its response is handled. */
export interface Request<T> {
  /** Every user record it carries. */
  readonly entries: Array<Held<T>>
  /** Its entries as sent, when some user records went inside aggregates; undefined: `entries` as they are. */
  readonly items: Array<Item<T>> | undefined
  readonly bytes: number
  readonly sentAt: number
  /** The shard map generation it was planned under. */
  readonly epoch: number
  /** Records per line it took, for the pacing feedback and the one-request-per-shard rule of `ordered`. */
  readonly perShard: Map<string, number>
}

/** Records that failed the same way with the same retry state: one question, one step of the retry schedule. */
export interface RetryQuestion<T> {
  readonly records: ReadonlyArray<Held<T>>
  /** Why they failed: the schedule's input. */
  readonly fault: Fault
  /** The schedule's state they share; undefined before their first retry (the schedule's initial state). */
  readonly state: unknown
}

/** The caller's answer to a `RetryQuestion`: send again from `readyAt` on, or give up. */
export type RetryAnswer =
  | { readonly _tag: "Again"; readonly readyAt: number; readonly state: unknown }
  | { readonly _tag: "GiveUp"; readonly reason?: string | undefined }

/** Something the caller must act on: tell a waiting party, ask the retry schedule, read the map, log. */
export type Event<T> =
  | { readonly _tag: "Admitted"; readonly waiter: number }
  | { readonly _tag: "Flushed"; readonly flush: number }
  | { readonly _tag: "Drained" }
  | {
    readonly _tag: "Delivered"
    /** Each stored record, with `shardId`, `sequenceNumber` and `subSequenceNumber` set. */
    readonly records: ReadonlyArray<Held<T>>
    readonly bytes: number
    /** When the answer came. */
    readonly at: number
  }
  | {
    readonly _tag: "Failed"
    readonly records: ReadonlyArray<Held<T>>
    readonly code: string
    readonly detail: string
    /** Whether the last error was retriable (the retry schedule gave up) or not (sending again would not help). */
    readonly retriable: boolean
  }
  | { readonly _tag: "Retry"; readonly question: RetryQuestion<T> }
  | { readonly _tag: "ReadShardMap" }
  | { readonly _tag: "Log"; readonly level: "Warning" | "Info"; readonly message: string }

/** A per-shard line: records never sent, in order, and records to send again. */
export interface Line<T> {
  readonly shard: string
  fresh: Array<Held<T>> // never sent, in order, from `head` on
  head: number
  freshBytes: number
  retries: Array<Held<T>> // to be sent again, in the order taken (seq)
  inFlight: number // requests in flight with records of this line
}

/** A caller waiting for room. */
export interface Waiter {
  readonly id: number
  readonly size: number
}

/** A flush waiting for the records taken before it. */
export interface Flush {
  readonly id: number
  readonly upTo: number
  remaining: number
}

/** The user records of an aggregate stored on another shard than packed for, until the new map says which stay. */
export interface Misplaced<T> {
  readonly members: ReadonlyArray<Held<T>>
  readonly shardId: string
  readonly sequenceNumber: string
}

/** Where a record goes: its shard, or undefined when no open shard holds it. */
export type Route = (held: Held<unknown>) => string | undefined

/** The writer's whole state. */
export interface State<T> {
  readonly options: Options
  readonly lines: Map<string, Line<T>>
  order: Array<Line<T>> // the lines, in the order planning visits them, starting at `cursor`
  cursor: number
  heldRecords: number
  heldBytes: number
  reservedRecords: number
  reservedBytes: number
  freshRecords: number // across lines, for the "a batch is full" wake-up
  freshBytes: number
  waiters: Array<Waiter>
  flushes: Array<Flush>
  nextSeq: number
  // The first record that failed for good: the records stored in the order taken never reach past it.
  prefixEnd: number
  nextId: number
  urgentUpTo: number // records up to this seq are sent without waiting for linger (flush, close)
  readonly inFlight: Set<Request<T>>
  readonly questions: Set<RetryQuestion<T>> // asked, not yet answered
  misplaced: Array<Misplaced<T>> // waiting for the next shard map
  epoch: number
  staleInFlight: number // requests planned under an earlier shard map, still in flight
  map: ShardMap.ShardMap | undefined
  route: Route | undefined
  readonly shardStarts: Map<string, string> // each open shard's starting hash key, in decimal: where its aggregates go
  readonly misplacing: Set<string> // shards whose aggregates landed elsewhere: no packing until a new map
  routePending: boolean // no request until the first shard map (or the decision to go without one)
  lastSentAt: number
  sleepUntil: number // when the caller's last sleep ends; -Infinity after a send (it polls again at once)
  readonly keysInFlight: Map<string, number> // with `ordered`: records in flight (or in question) per partition key
  closing: boolean
  wokenFull: boolean // a wake-up for a full batch was asked since the last poll
  events: Array<Event<T>>
  // Admitted, Flushed and Drained: told after the events of the records that caused them.
  completions: Array<Event<T>>
  readonly counters: Stats.Counters
  readonly streak: Failing.Streak
}

/** An empty state. */
export const make = <T>(options: Options): State<T> => ({
  options,
  lines: new Map(),
  order: [],
  cursor: 0,
  heldRecords: 0,
  heldBytes: 0,
  reservedRecords: 0,
  reservedBytes: 0,
  freshRecords: 0,
  freshBytes: 0,
  waiters: [],
  flushes: [],
  nextSeq: 0,
  prefixEnd: Infinity,
  nextId: 0,
  urgentUpTo: -1,
  inFlight: new Set(),
  questions: new Set(),
  misplaced: [],
  epoch: 0,
  staleInFlight: 0,
  map: undefined,
  route: undefined,
  shardStarts: new Map(),
  misplacing: new Set(),
  routePending: options.awaitRoute === true,
  lastSentAt: -Infinity,
  sleepUntil: Infinity, // the caller has not looked yet: any record may wake it
  keysInFlight: new Map(),
  closing: false,
  wokenFull: false,
  events: [],
  completions: [],
  counters: Stats.make(),
  streak: Failing.make()
})

/** The line of `shard`, made on first use. */
export const lineOf = <T>(state: State<T>, shard: string): Line<T> => {
  let line = state.lines.get(shard)
  if (line === undefined) {
    line = { shard, fresh: [], head: 0, freshBytes: 0, retries: [], inFlight: 0 }
    state.lines.set(shard, line)
    state.order.push(line)
  }
  return line
}

/** Orders records as taken. */
export const bySeq = <T>(a: Held<T>, b: Held<T>) => a.seq - b.seq

/** Two lists in the order taken merged into one; the common case, all of `b` after all of `a`, appends. */
export const mergeBySeq = <T>(a: Array<Held<T>>, b: ReadonlyArray<Held<T>>): Array<Held<T>> => {
  if (b.length === 0) return a
  if (a.length === 0 || a[a.length - 1].seq < b[0].seq) {
    for (const held of b) a.push(held)
    return a
  }
  const merged: Array<Held<T>> = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].seq < b[j].seq)) merged.push(a[i++])
    else merged.push(b[j++])
  }
  return merged
}

/** Counts a record of `ordered` as in flight (or in question) for its key, or no longer. */
export const countKey = <T>(state: State<T>, held: Held<T>, delta: 1 | -1): void => {
  const key = held.record.partitionKey
  const count = (state.keysInFlight.get(key) ?? 0) + delta
  if (count <= 0) state.keysInFlight.delete(key)
  else state.keysInFlight.set(key, count)
}
