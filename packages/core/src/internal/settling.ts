/**
 * What a request's outcome means for each record it carried: stored (where), to send again (a question for the
 * retry schedule), failed for good; the pacing feedback per shard; the failing streak's lines to log.
 */
import * as Batch from "../Batch.js"
import * as Failing from "../Failing.js"
import * as Fault from "../Fault.js"
import * as Stats from "../Stats.js"
import { requeue } from "./lines.js"
import { release, stopStored } from "./room.js"
import {
  BLIND,
  countKey,
  type Held,
  isAggregated,
  type Request,
  type RetryAnswer,
  type RetryQuestion,
  type State
} from "./state.js"

/** What one answered request came to, for the caller's metrics, span and log line. */
export interface Answer {
  readonly delivered: number
  /** Records refused for their shard's throughput, by predicted shard (`""`: shard-blind). */
  readonly throttledByShard: ReadonlyMap<string, number>
  readonly throttled: number
  /** Records the response did not store (to retry or failed). */
  readonly refused: number
  /** Each distinct error the response gave, for a person. */
  readonly errors: ReadonlyArray<string>
}

/** A record was stored: it leaves the accumulator with its place; false if it had already left. */
export const deliver = <T>(
  state: State<T>,
  held: Held<T>,
  shardId: string,
  sequenceNumber: string,
  subSequenceNumber: number | undefined
): boolean => {
  if (!release(state, held)) return false
  held.shardId = shardId
  held.sequenceNumber = sequenceNumber
  held.subSequenceNumber = subSequenceNumber
  state.counters.delivered++
  state.counters.bytesDelivered += held.size
  return true
}

/** Fails records for good, one `Failed` event for them all. */
export const fail = <T>(
  state: State<T>,
  records: ReadonlyArray<Held<T>>,
  code: string,
  detail: string,
  retriable: boolean
): void => {
  const failed = records.filter((held) => release(state, held))
  if (failed.length === 0) return
  for (const held of failed) stopStored(state, held.seq)
  state.counters.failed += failed.length
  Stats.add(state.counters.failedByCode, code, failed.length)
  state.events.push({ _tag: "Failed", records: failed, code, detail, retriable })
}

// Asks the caller's retry schedule about records that failed with `fault`: one question per retry state.
const ask = <T>(state: State<T>, records: ReadonlyArray<Held<T>>, fault: Fault.Fault): void => {
  const byState = new Map<unknown, Array<Held<T>>>()
  for (const held of records) {
    if (held.settled) continue
    const list = byState.get(held.retryState)
    if (list === undefined) byState.set(held.retryState, [held])
    else list.push(held)
  }
  for (const [retryState, list] of byState) {
    const question: RetryQuestion<T> = { records: list, fault, state: retryState }
    state.questions.add(question)
    // With `ordered`, a record in question still holds its key, as it did in flight.
    if (state.options.ordered) { for (const held of list) countKey(state, held, 1) }
    state.events.push({ _tag: "Retry", question })
  }
}

/** The caller's answer to a retry question: the records go back to their lines, or fail for good. */
export const answerRetry = <T>(state: State<T>, question: RetryQuestion<T>, answer: RetryAnswer, now: number): void => {
  if (!state.questions.delete(question)) return
  if (state.options.ordered) { for (const held of question.records) countKey(state, held, -1) }
  const { fault } = question
  if (answer._tag === "GiveUp") {
    const detail = answer.reason === undefined ? fault.detail : `${fault.detail} (${answer.reason})`
    fail(state, question.records, fault.code, detail, true)
    return
  }
  const readyAt = Math.max(now, answer.readyAt)
  let again = 0
  for (const held of question.records) {
    if (held.settled) continue
    held.retryState = answer.state
    held.readyAt = readyAt
    again++
  }
  state.counters.retried += again
  requeue(state, question.records)
}

/** A request was answered at `now` with `results` (the response's `Records`, in request order). */
export const handleResponse = <T>(
  state: State<T>,
  request: Request<T>,
  results: ReadonlyArray<Batch.ResultEntry> | undefined,
  now: number
): Answer => {
  const { counters, options } = state
  log(state, Failing.answered(state.streak, options.streamName ?? "", now))
  const settlement = Batch.settle(request.items ?? request.entries, results, Fault.isRetriableCode)
  // In entries (an aggregate is one) and their bytes, as the shard counts them and the pacing spent them.
  const refusedByShard = new Map<string, number>()
  const refusedBytesByShard = new Map<string, number>()
  const storedByShard = new Map<string, number>()
  const stored: Array<Held<T>> = []
  let storedBytes = 0
  let moved = false
  const deliverOne = (held: Held<T>, shardId: string, sequenceNumber: string, sub: number | undefined) => {
    if (!deliver(state, held, shardId, sequenceNumber, sub)) return
    stored.push(held)
    storedBytes += held.size
  }
  for (const { item, sequenceNumber, shardId } of settlement.delivered) {
    const shard = isAggregated(item) ? item.members[0].shard : item.shard
    Stats.add(storedByShard, shard, 1)
    if (!isAggregated(item)) {
      // A record stored on another shard than predicted: the stream was resharded, the map is out of date.
      if (item.shard !== BLIND && item.shard !== shardId) moved = true
      deliverOne(item, shardId, sequenceNumber, undefined)
    } else if (shard === shardId) item.members.forEach((held, i) => deliverOne(held, shardId, sequenceNumber, i))
    else {
      // An aggregate stored on another shard than packed for (a reshard on the way): a KCL drops the user records
      // whose hash keys that shard does not hold. Which ones, the next map says; until then its shard packs nothing.
      moved = true
      state.misplacing.add(shard)
      state.misplaced.push({ members: item.members, shardId, sequenceNumber })
    }
  }
  if (stored.length > 0) state.events.push({ _tag: "Delivered", records: stored, bytes: storedBytes, at: now })
  if (moved) state.events.push({ _tag: "ReadShardMap" })
  const errors = new Set<string>()
  // One fault per distinct answer, shared by its records: one question per answer and retry state.
  const faults = new Map<string, { fault: Fault.Fault; records: Array<Held<T>> }>()
  const throttledByShard = new Map<string, number>()
  let throttled = 0
  for (const { code, detail, item } of settlement.retry) {
    const members = isAggregated(item) ? item.members : [item]
    const key = `${code}\n${detail}`
    let group = faults.get(key)
    if (group === undefined) {
      group = { fault: { operation: "PutRecords", code, detail, retriable: true }, records: [] }
      faults.set(key, group)
      errors.add(detail === "" ? code : detail)
    }
    for (const held of members) group.records.push(held)
    if (code === Fault.THROTTLED) {
      const shard = members[0].shard
      throttled += members.length
      Stats.add(refusedByShard, shard, 1)
      Stats.add(refusedBytesByShard, shard, item.size)
      Stats.add(throttledByShard, shard, members.length)
      // Shard-blind, the shard is not known: counted without one.
      if (shard !== BLIND) Stats.add(counters.throttledByShard, shard, members.length)
    }
  }
  counters.throttled += throttled
  let refused = 0
  for (const { item } of settlement.retry) refused += isAggregated(item) ? item.members.length : 1
  for (const { code, detail, item } of settlement.failed) {
    const members = isAggregated(item) ? item.members : [item]
    refused += members.length
    errors.add(detail === "" ? code : detail)
    fail(state, members, code, detail, false)
  }
  for (const { fault, records } of faults.values()) ask(state, records, fault)
  finish(state, request, { refused: refusedByShard, refusedBytes: refusedBytesByShard, stored: storedByShard }, now)
  return { delivered: stored.length, throttledByShard, throttled, refused, errors: [...errors] }
}

/**
 * A request failed as a whole with `fault`. `mayHaveStored`: it may have reached Kinesis (see
 * `Fault.mayHaveStored`). Retriable, its records are a question for the retry schedule; not, they fail.
 */
export const handleRequestFailure = <T>(
  state: State<T>,
  request: Request<T>,
  fault: Fault.Fault,
  now: number
): void => {
  state.counters.failedRequests++
  // Records that fail for good are each reported at Warning, streak or not; the streak's own warning says why
  // requests keep failing while their records are still being retried.
  Failing.failed(state.streak, fault, request.sentAt)
  if (Fault.mayHaveStored(fault)) { for (const held of request.entries) held.maybeStored = true }
  if (fault.retriable) ask(state, request.entries, fault)
  else fail(state, request.entries, fault.code, fault.detail, false)
  finish(state, request, undefined, now)
  log(state, Failing.warning(state.streak, state.options.streamName ?? "", state.heldRecords, now))
}

/** Handling a request's outcome failed (a bug): its records that nothing else holds fail with `reason`. */
export const handleDefect = <T>(state: State<T>, request: Request<T>, reason: string, now: number): void => {
  finish(state, request, undefined, now)
  const elsewhere = new Set<Held<T>>()
  for (const line of state.order) for (const held of line.retries) elsewhere.add(held)
  for (const other of state.inFlight) for (const held of other.entries) elsewhere.add(held)
  for (const question of state.questions) for (const held of question.records) elsewhere.add(held)
  for (const misplaced of state.misplaced) for (const held of misplaced.members) elsewhere.add(held)
  const stranded = request.entries.filter((held) => !held.settled && !elsewhere.has(held))
  fail(state, stranded, "WriterDefect", `the writer failed while settling a response: ${reason}`, false)
}

/** What a response said of each shard it carried records for, for the pacing. */
interface Feedback {
  /** Entries refused for the shard's throughput, by the shard they were sent for. */
  readonly refused: ReadonlyMap<string, number>
  /** Their bytes. */
  readonly refusedBytes: ReadonlyMap<string, number>
  /** Entries stored, by the shard they were sent for. */
  readonly stored: ReadonlyMap<string, number>
}

// A request is over: its lines may send again, its keys are free; throttled shards' budgets shrink, the others'
// grow back. A request that failed as a whole says nothing of the shards, and changes no budget.
const finish = <T>(state: State<T>, request: Request<T>, feedback: Feedback | undefined, now: number): void => {
  if (!state.inFlight.delete(request)) return
  if (request.epoch < state.epoch) state.staleInFlight--
  if (state.options.ordered) { for (const held of request.entries) countKey(state, held, -1) }
  const { pacing } = state.options
  for (const shard of request.perShard.keys()) {
    const line = state.lines.get(shard)
    if (line !== undefined) line.inFlight--
    if (pacing === undefined || shard === BLIND || feedback === undefined) continue
    const refused = feedback.refused.get(shard) ?? 0
    const stored = feedback.stored.get(shard) ?? 0
    if (refused > 0 || stored > 0) {
      pacing.answered(shard, request.sentAt, now, stored, refused, feedback.refusedBytes.get(shard) ?? 0)
    }
  }
}

const log = <T>(state: State<T>, line: Failing.Line | undefined): void => {
  if (line !== undefined) state.events.push({ _tag: "Log", level: line.level, message: line.message })
}
