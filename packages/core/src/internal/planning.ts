/**
 * When to send and what may go: the plan at `now` is a request to build (which lines, within which budgets) or
 * a moment to wake at (a linger ends, a retry delay ends, a shard's budget refills).
 */
import * as Batch from "../Batch.js"
import { build } from "./packing.js"
import { BLIND, type Held, type Line, type Request, type State } from "./state.js"

/** The least time between two requests while some shard's budget holds records back: fewer, fuller requests. */
export const MIN_PACING_MILLIS = 50

/** The most: a shard's budget holds one second of burst, so a longer pause would leave its capacity idle. */
export const MAX_PACING_MILLIS = 1000

/** A line that may send now, within its budget. */
export interface Candidate<T> {
  readonly line: Line<T>
  readonly records: number // at most this many of the line's entries now (its budget)
  readonly bytes: number
}

/**
 * The request to send at `now`, or undefined with `state.sleepUntil` set to when to look again (`Infinity`: when
 * something changes). See `Accumulator.pollSend` for the rules.
 */
export const pollSend = <T>(state: State<T>, now: number): Request<T> | undefined => {
  const decided = decide(state, now)
  if (typeof decided === "number") {
    state.sleepUntil = decided
    return undefined
  }
  state.sleepUntil = -Infinity
  const { counters } = state
  counters.requests++
  counters.sent += decided.entries.length
  counters.bytesSent += decided.bytes
  for (const held of decided.entries) held.attempts++
  return decided
}

const decide = <T>(state: State<T>, now: number): Request<T> | number => {
  const { aggregation, limits, lingerMillis, maxInFlight, ordered, pacing } = state.options
  if (state.inFlight.size >= maxInFlight) return Infinity
  if (state.routePending && !state.closing) return Infinity
  if (ordered && state.staleInFlight > 0) return Infinity
  let wakeAt = Infinity // a retry delay ends
  let refillAt = Infinity // a shard with no budget can take a record again
  let lingerAt = Infinity // the oldest sendable record's linger
  let sendable = 0
  let sendableBytes = 0
  let urgent = false // a line that may send now holds a record of a flush or of closing
  let urgentHeldBack = false // a line whose budget is spent does
  let heldBack = false
  // With `ordered`, the keys whose next record must wait: a record of theirs waits for its retry delay.
  const waitingKeys = ordered ? new Set<string>() : undefined
  const candidates: Array<Candidate<T>> = []
  for (const line of state.order) {
    let count = 0
    let bytes = 0
    let oldest = Infinity
    let lineUrgent = false
    for (const held of line.retries) {
      if (held.readyAt <= now) {
        count++
        bytes += held.size
        if (held.readyAt < oldest) oldest = held.readyAt
        if (held.seq <= state.urgentUpTo) lineUrgent = true
      } else {
        if (held.readyAt < wakeAt) wakeAt = held.readyAt
        waitingKeys?.add(held.record.partitionKey)
      }
    }
    const freshCount = line.fresh.length - line.head
    if (freshCount > 0) {
      const first = line.fresh[line.head]
      count += freshCount
      bytes += line.freshBytes
      if (first.readyAt < oldest) oldest = first.readyAt
      if (first.seq <= state.urgentUpTo) lineUrgent = true
    }
    if (count === 0) continue
    // What the line's records make in Kinesis records: packed into aggregates, far fewer than user records.
    const entries = aggregation !== undefined && waitingKeys === undefined && isPacked(state, line) ?
      Math.max(Math.ceil(bytes / aggregation.maxBytes), Math.ceil(count / aggregation.maxRecords)) :
      count
    let records = count // the most entries the line may put in this request (its record budget)
    let budgetBytes = Infinity
    let entriesNow = entries
    if (pacing !== undefined && line.shard !== BLIND) {
      const budget = pacing.available(line.shard, now)
      if (budget.records < 1 || budget.bytes <= 0) {
        heldBack = true
        if (lineUrgent) urgentHeldBack = true
        const first = firstSendable(line, now)
        refillAt = Math.min(refillAt, pacing.readyAt(line.shard, 1, first.size, now))
        continue
      }
      if (budget.records < entries || budget.bytes < bytes) {
        heldBack = true
        records = Math.min(count, Math.floor(budget.records))
        entriesNow = Math.min(entries, Math.floor(budget.records))
        budgetBytes = budget.bytes
        bytes = Math.min(bytes, budget.bytes)
      }
    }
    sendable += entriesNow
    sendableBytes += bytes
    if (lineUrgent) urgent = true
    if (oldest + lingerMillis < lingerAt) lingerAt = oldest + lingerMillis
    candidates.push({ line, records, bytes: budgetBytes })
  }
  // While budgets hold records back, every request is as full as the budgets allow: never one per refilled token.
  // A flush or close waits no longer than the pacing needs, whatever the linger.
  const pacingMillis = urgent || urgentHeldBack ?
    MIN_PACING_MILLIS :
    Math.min(Math.max(lingerMillis, MIN_PACING_MILLIS), MAX_PACING_MILLIS)
  const pacedAt = state.lastSentAt + pacingMillis
  if (refillAt !== Infinity) wakeAt = Math.min(wakeAt, Math.max(refillAt, pacedAt, now + 1))
  if (sendable === 0) return wakeAt
  const full = Batch.isFull(sendable, sendableBytes, limits)
  // A flush or close makes records skip their linger, not the pacing: urgent or not, a shard's budget is its budget.
  const due = urgent ? now : lingerAt
  const sendAt = heldBack ? Math.max(due, pacedAt) : due
  if (!full && sendAt > now) return Math.min(wakeAt, sendAt)
  // With `ordered`, every record that could go may wait for a key in flight: a handled response wakes the caller.
  return build(state, candidates, waitingKeys, now) ?? wakeAt
}

/** Whether the line's records go into aggregates: its shard is known, and no aggregate of it landed elsewhere. */
export const isPacked = <T>(state: State<T>, line: Line<T>): boolean =>
  line.shard !== BLIND && !state.misplacing.has(line.shard) && state.shardStarts.has(line.shard)

const firstSendable = <T>(line: Line<T>, now: number): Held<T> => {
  for (const held of line.retries) if (held.readyAt <= now) return held
  return line.fresh[line.head]
}
