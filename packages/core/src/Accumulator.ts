/**
 * The writer's state machine, and every decision on it: which records it holds, in which line (one per predicted
 * shard) they wait, what the next PutRecords request takes or until when to sleep, what a response means for each
 * record, when a record may go again (a question the caller answers with its retry `Schedule`), which flushes a
 * settled record completes, and when a caller waiting for room may come in.
 *
 * In the style of a sans-I/O protocol machine: commands in (`take`, `flush`, `close`), handlers for what happened
 * (`handleResponse`, `handleRequestFailure`, `handleShardMap`, `answerRetry`), polls out (`pollSend`,
 * `pollTimeout`, `pollEvents`). No clock, no randomness, no I/O: time comes in as an argument. The Effect shells own
 * fibers, the clock, the Schedule and the requests.
 */
import type * as Batch from "./Batch.js"
import type { Fault } from "./Fault.js"
import * as lines from "./internal/lines.js"
import * as planning from "./internal/planning.js"
import * as room from "./internal/room.js"
import * as routing from "./internal/routing.js"
import * as settling from "./internal/settling.js"
import * as internal from "./internal/state.js"
import * as RateLimit from "./RateLimit.js"
import type * as Record from "./Record.js"
import type * as ShardMap from "./ShardMap.js"
import type * as Stats from "./Stats.js"

export { MAX_PACING_MILLIS, MIN_PACING_MILLIS } from "./internal/planning.js"
export type { Answer } from "./internal/settling.js"
export {
  /** The line of records whose shard is not known. */
  BLIND,
  /** Whether an entry of a request is an aggregate. */
  isAggregated
} from "./internal/state.js"
export type {
  Aggregated,
  AggregationBounds,
  Event,
  Held,
  Item,
  Options,
  Pacing,
  Request,
  RetryAnswer,
  RetryQuestion
} from "./internal/state.js"

/** The writer's whole state, opaque: change it only through this module's functions. */
export interface Accumulator<T> {
  readonly [TypeId]: T
}

declare const TypeId: unique symbol

const state = <T>(acc: Accumulator<T>): internal.State<T> => acc as unknown as internal.State<T>

/** An empty accumulator. */
export const make = <T>(options: internal.Options): Accumulator<T> =>
  internal.make<T>(options) as unknown as Accumulator<T>

/** The pacing of a `RateLimit`: its budgets, asked and fed by shard. */
export const pacingOf = (limit: RateLimit.RateLimit): internal.Pacing => ({
  available: (shard, now) => RateLimit.available(limit, shard, now),
  spend: (shard, records, bytes, now) => RateLimit.spend(limit, shard, records, bytes, now),
  readyAt: (shard, records, bytes, now) => RateLimit.readyAt(limit, shard, records, bytes, now),
  answered: (shard, sentAt, now, stored, refused, refusedBytes) =>
    RateLimit.answered(limit, shard, sentAt, now, stored, refused, refusedBytes),
  forget: (open) => RateLimit.forget(limit, open)
})

// ---------------------------------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------------------------------

/** Whether a record of `size` bytes may come in at once: room, and nobody waiting ahead of it. */
export const canTake = <T>(acc: Accumulator<T>, size: number): boolean => room.canTake(state(acc), size)

/**
 * Takes a record (the caller checked `canTake`, or holds a grant). Returns whether the caller's sleep must end:
 * only when the plan may change, when a line's first record arrives or when a batch fills.
 */
export const take = <T>(acc: Accumulator<T>, record: Record.Encoded, ticket: T | undefined, now: number): boolean =>
  lines.take(state(acc), record, ticket, now)

/** Puts a caller in line for room; `Admitted` with the returned id says when it may take its record. */
export const wait = <T>(acc: Accumulator<T>, size: number): number => room.wait(state(acc), size)

/** Takes a caller out of the line (interrupted before room was granted); whoever was behind may come in. */
export const leave = <T>(acc: Accumulator<T>, waiter: number): void => room.leave(state(acc), waiter)

/** Turns granted room back into a record (call `take` next), or gives it back when the record will not come. */
export const redeem = <T>(acc: Accumulator<T>, size: number, giveBack: boolean): void =>
  room.redeem(state(acc), size, giveBack)

/**
 * Makes every record taken so far urgent (sent as soon as the budgets allow, whatever the linger) and returns a
 * flush id that `Flushed` completes once each of them is settled; undefined when nothing is held.
 */
export const flush = <T>(acc: Accumulator<T>): number | undefined => room.flush(state(acc))

/** Forgets a flush whose caller went away. */
export const forgetFlush = <T>(acc: Accumulator<T>, flush: number): void => room.forgetFlush(state(acc), flush)

/** Stops intake: everything held becomes urgent; returns the waiters to refuse. `Drained` follows when all settled. */
export const close = <T>(acc: Accumulator<T>): ReadonlyArray<number> => room.close(state(acc))

/**
 * The shutdown deadline passed: every record not yet settled (waiting, in flight, in question, misplaced) fails
 * with `ShutdownTimeout`, in the order taken; those of `unanswered` (requests the caller stopped) or of requests
 * that failed on the way may have been stored, and their failure says so.
 */
export const abandon = <T>(
  acc: Accumulator<T>,
  unanswered: ReadonlyArray<internal.Held<T>>,
  shutdownTimeoutMillis: number
): void => {
  const self = state(acc)
  const left = lines.takeAll(self, unanswered)
  const maybe = new Set(unanswered)
  const detail = `not stored within the shutdown timeout of ${shutdownTimeoutMillis} ms`
  const maybeDetail = `${detail} (an unanswered request may have stored it)`
  // In the order taken: one failure per run of records that share their detail.
  let run: Array<internal.Held<T>> = []
  let runDetail = detail
  for (const held of left) {
    const heldDetail = maybe.has(held) || held.maybeStored ? maybeDetail : detail
    if (heldDetail !== runDetail && run.length > 0) {
      settling.fail(self, run, "ShutdownTimeout", runDetail, true)
      run = []
    }
    runDetail = heldDetail
    run.push(held)
  }
  settling.fail(self, run, "ShutdownTimeout", runDetail, true)
}

// ---------------------------------------------------------------------------------------------------------------
// Handlers
// ---------------------------------------------------------------------------------------------------------------

/**
 * A request was answered with `results` (the response's `Records`). Stored records are `Delivered`; refused ones
 * are `Retry` questions (retriable codes) or `Failed`; a short response leaves the missing ones to retry. Pacing
 * learns which shards throttled. An aggregate stored on another shard than packed for asks `ReadShardMap`, and its
 * user records wait for the map, which says which of them the landing shard holds.
 */
export const handleResponse = <T>(
  acc: Accumulator<T>,
  request: internal.Request<T>,
  results: ReadonlyArray<Batch.ResultEntry> | undefined,
  now: number
): settling.Answer => settling.handleResponse(state(acc), request, results, now)

/** A request failed as a whole: its records are a `Retry` question (retriable) or `Failed`. */
export const handleRequestFailure = <T>(
  acc: Accumulator<T>,
  request: internal.Request<T>,
  fault: Fault,
  now: number
): void => settling.handleRequestFailure(state(acc), request, fault, now)

/** Handling a request's outcome failed (a bug in the caller): its records nothing else holds fail, loudly. */
export const handleDefect = <T>(acc: Accumulator<T>, request: internal.Request<T>, reason: string, now: number): void =>
  settling.handleDefect(state(acc), request, reason, now)

/** The caller's retry schedule answered a `Retry` question: send again from `readyAt`, or give up. */
export const answerRetry = <T>(
  acc: Accumulator<T>,
  question: internal.RetryQuestion<T>,
  answer: internal.RetryAnswer,
  now: number
): void => settling.answerRetry(state(acc), question, answer, now)

/** A read of the shard map answered: records move to their shards' lines if it changed; misplaced ones settle. */
export const handleShardMap = <T>(acc: Accumulator<T>, map: ShardMap.ShardMap, now: number): void =>
  routing.handleShardMap(state(acc), map, now)

/** A read of the shard map failed: shard-blind if no map came yet; misplaced user records are sent again. */
export const handleShardMapUnavailable = <T>(acc: Accumulator<T>, now: number): void =>
  routing.handleShardMapUnavailable(state(acc), now)

// ---------------------------------------------------------------------------------------------------------------
// Polls
// ---------------------------------------------------------------------------------------------------------------

/**
 * The request to send at `now`, or undefined: then `pollTimeout` says when to poll again, unless something wakes
 * the caller first (a record `take` says must, a handled response, a flush, a new map).
 *
 * A request goes when it is full, when its oldest record's linger ended, or when a flush or close made its records
 * urgent. With pacing, a shard takes no more than its budget; while a budget holds records back, requests go out
 * at most every `linger` (from 50 ms to 1 s; 50 ms for urgent records), each with what the budgets earned
 * meanwhile. Within a line, ready retries go first, in the order taken, then fresh records; a record that does not
 * fit closes its line for this request, so no record of a shard overtakes another of that shard. With `ordered`, a
 * record waits while an earlier record of its key is in flight, in question or waiting for its retry, and a request
 * carries each key once. Each record sent counts an attempt.
 */
export const pollSend = <T>(acc: Accumulator<T>, now: number): internal.Request<T> | undefined =>
  planning.pollSend(state(acc), now)

/** When the caller should poll again after `pollSend` gave nothing (`Infinity`: when woken). */
export const pollTimeout = <T>(acc: Accumulator<T>): number => state(acc).sleepUntil

const noEvents: ReadonlyArray<never> = []

/**
 * The events since the last call, in order: the caller acts on each. What records became (delivered, failed, in
 * question) comes before what it completed (room for a waiter, a flush, the drain).
 */
export const pollEvents = <T>(acc: Accumulator<T>): ReadonlyArray<internal.Event<T>> => {
  const self = state(acc)
  if (self.events.length === 0 && self.completions.length === 0) return noEvents
  const out = self.completions.length === 0 ? self.events : self.events.concat(self.completions)
  self.events = []
  self.completions = []
  return out
}

// ---------------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------------

/** What the accumulator holds now. */
export interface Holding {
  /** Records taken and not yet settled: waiting, waiting to retry, in flight or in question. */
  readonly records: number
  readonly bytes: number
  /** Requests in flight. */
  readonly requests: number
  /** Lines with records waiting or in flight. */
  readonly shards: number
}

/** What the accumulator holds now. */
export const holding = <T>(acc: Accumulator<T>): Holding => {
  const self = state(acc)
  let shards = 0
  for (const line of self.order) {
    if (line.inFlight > 0 || line.retries.length > 0 || line.head < line.fresh.length) shards++
  }
  return { records: self.heldRecords, bytes: self.heldBytes, requests: self.inFlight.size, shards }
}

/** What a writer's gauges show: records taken since the start, and records, bytes and requests held now. */
export interface Gauges {
  readonly accepted: number
  readonly records: number
  readonly bytes: number
  readonly requests: number
}

/** The gauges' figures, read at every wake-up: four counters, where `stats` copies every counter and map. */
export const gauges = <T>(acc: Accumulator<T>): Gauges => {
  const self = state(acc)
  return {
    accepted: self.counters.accepted,
    records: self.heldRecords,
    bytes: self.heldBytes,
    requests: self.inFlight.size
  }
}

/** The records of every request in flight. */
export const inFlight = <T>(acc: Accumulator<T>): Array<internal.Held<T>> => {
  const out: Array<internal.Held<T>> = []
  for (const request of state(acc).inFlight) for (const held of request.entries) out.push(held)
  return out
}

/** The counters since the start, and what is held now; `E` is the caller's error of a failed request. */
export const stats = <T, E = unknown>(acc: Accumulator<T>): Stats.Stats<E> => {
  const self = state(acc)
  const { counters, streak } = self
  return {
    accepted: counters.accepted,
    storedPrefix: room.storedPrefix(self),
    sent: counters.sent,
    delivered: counters.delivered,
    failed: counters.failed,
    retried: counters.retried,
    throttled: counters.throttled,
    requests: counters.requests,
    failedRequests: counters.failedRequests,
    bufferedRecords: self.heldRecords,
    bufferedBytes: self.heldBytes,
    inFlight: self.inFlight.size,
    bytesSent: counters.bytesSent,
    bytesDelivered: counters.bytesDelivered,
    failedByCode: Object.fromEntries(counters.failedByCode),
    throttledByShard: Object.fromEntries(counters.throttledByShard),
    failingRequests: streak.requests,
    failingSince: streak.since,
    lastRequestError: streak.last as E | undefined
  }
}

/** The records a request carries, as PutRecords entries. */
export const entriesOf = <T>(request: internal.Request<T>) =>
  (request.items ?? request.entries).map(({ record }: internal.Item<T>) =>
    record.explicitHashKey === undefined ?
      { Data: record.data, PartitionKey: record.partitionKey } :
      { Data: record.data, PartitionKey: record.partitionKey, ExplicitHashKey: record.explicitHashKey }
  )

/** The warning for records that failed for good, as the writer logs it. */
export const failureMessage = (
  streamName: string,
  failed: {
    readonly records: ReadonlyArray<{ readonly attempts: number }>
    readonly code: string
    readonly detail: string
    readonly retriable: boolean
  }
): string =>
  `${failed.records.length} record(s) not stored in stream ${streamName}: ${failed.code}${
    failed.detail === "" ? "" : `: ${failed.detail}`
  }${failed.retriable ? ` (gave up after ${failed.records[0].attempts} attempt(s))` : ""}`
