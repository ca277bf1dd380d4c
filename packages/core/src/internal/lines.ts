/**
 * The per-shard lines: a record taken joins its predicted shard's line; a record to send again goes back ahead of
 * that line's records never sent, in the order taken; a new shard map moves every waiting record to its new line.
 */
import * as Batch from "../Batch.js"
import type * as Record from "../Record.js"
import { checkDrained } from "./room.js"
import { BLIND, bySeq, type Held, type Line, lineOf, mergeBySeq, type State } from "./state.js"

/** The line a record goes to under the current route. */
export const predict = <T>(state: State<T>, held: Held<T>): string =>
  state.route === undefined ? BLIND : state.route(held) ?? BLIND

/** Takes a record into its line; whether the caller's sleep must end (see `Accumulator.take`). */
export const take = <T>(state: State<T>, record: Record.Encoded, ticket: T | undefined, now: number): boolean => {
  const held: Held<T> = {
    record,
    size: record.size,
    seq: state.nextSeq++,
    takenAt: now,
    hashKey: undefined,
    ticket,
    shard: BLIND,
    readyAt: now,
    attempts: 0,
    retryState: undefined,
    settled: false,
    maybeStored: false,
    shardId: "",
    sequenceNumber: "",
    subSequenceNumber: undefined
  }
  if (state.route !== undefined) held.shard = state.route(held) ?? BLIND
  const line = lineOf(state, held.shard)
  const lineWasEmpty = line.head === line.fresh.length
  line.fresh.push(held)
  line.freshBytes += held.size
  state.heldRecords++
  state.heldBytes += held.size
  state.freshRecords++
  state.freshBytes += held.size
  state.counters.accepted++
  // The caller sleeps until state.sleepUntil: wake it when this record must go earlier, which only a record that no
  // other waits ahead of in its line can (with `ordered`, any record may: the ones ahead may wait for their key).
  if ((lineWasEmpty || state.options.ordered) && now + state.options.lingerMillis < state.sleepUntil) return true
  // Or when the records waiting fill a batch: once until the next request goes.
  if (!state.wokenFull && Batch.isFull(state.freshRecords, state.freshBytes, state.options.limits)) {
    state.wokenFull = true
    return true
  }
  return false
}

/** Puts records back to be sent again from their `readyAt` on, each in its shard's line, in the order taken. */
export const requeue = <T>(state: State<T>, again: ReadonlyArray<Held<T>>): void => {
  const byLine = new Map<Line<T>, Array<Held<T>>>()
  for (const held of again) {
    if (held.settled) continue
    held.shard = predict(state, held) // the map may have changed while it was out
    const line = lineOf(state, held.shard)
    const list = byLine.get(line)
    if (list === undefined) byLine.set(line, [held])
    else list.push(held)
  }
  for (const [line, list] of byLine) line.retries = mergeBySeq(line.retries, list.sort(bySeq))
}

/** Moves every waiting record to its line under the current route, in the order taken. */
export const regroup = <T>(state: State<T>): void => {
  const fresh: Array<Held<T>> = []
  const retries: Array<Held<T>> = []
  for (const line of state.order) {
    for (const held of line.retries) retries.push(held)
    for (let i = line.head; i < line.fresh.length; i++) fresh.push(line.fresh[i])
  }
  fresh.sort(bySeq)
  retries.sort(bySeq)
  state.lines.clear()
  const kept = state.order.filter((line) => line.inFlight > 0)
  state.order = []
  for (const line of kept) {
    line.fresh = []
    line.head = 0
    line.freshBytes = 0
    line.retries = []
    state.lines.set(line.shard, line)
    state.order.push(line)
  }
  for (const held of retries) {
    held.shard = predict(state, held)
    lineOf(state, held.shard).retries.push(held)
  }
  for (const held of fresh) {
    held.shard = predict(state, held)
    const line = lineOf(state, held.shard)
    line.fresh.push(held)
    line.freshBytes += held.size
  }
}

/**
 * Takes every record not yet settled out of the accumulator, with those of `inFlight` (requests the caller stopped),
 * in the order taken: for the shutdown deadline.
 */
export const takeAll = <T>(state: State<T>, inFlight: Iterable<Held<T>>): Array<Held<T>> => {
  const left = new Set<Held<T>>(inFlight)
  for (const line of state.order) {
    for (const held of line.retries) left.add(held)
    for (let i = line.head; i < line.fresh.length; i++) left.add(line.fresh[i])
    line.retries = []
    line.fresh = []
    line.head = 0
    line.freshBytes = 0
  }
  for (const request of state.inFlight) for (const held of request.entries) left.add(held)
  for (const question of state.questions) for (const held of question.records) left.add(held)
  for (const misplaced of state.misplaced) for (const held of misplaced.members) left.add(held)
  state.questions.clear()
  state.misplaced = []
  // The requests are given up, not answered: nothing is in flight any more.
  state.inFlight.clear()
  state.staleInFlight = 0
  state.keysInFlight.clear()
  for (const line of state.order) line.inFlight = 0
  state.freshRecords = 0
  state.freshBytes = 0
  checkDrained(state)
  return [...left].filter((held) => !held.settled).sort(bySeq)
}
