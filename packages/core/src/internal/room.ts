/**
 * The buffer's bounds: whether a record may come in, the callers waiting for room in order, and what a record
 * leaving the accumulator frees: room for waiters, progress for flushes, the drain after close.
 */
import type { Held, State } from "./state.js"

/** Whether a record of `size` bytes fits now, counting room granted to waiters. */
export const hasRoom = <T>(state: State<T>, size: number): boolean =>
  state.heldRecords + state.reservedRecords < state.options.maxBufferedRecords &&
  state.heldBytes + state.reservedBytes + size <= state.options.maxBufferedBytes

/** Whether a record may come in at once: room, and nobody waiting ahead of it. */
export const canTake = <T>(state: State<T>, size: number): boolean => state.waiters.length === 0 && hasRoom(state, size)

/** Puts a caller in line for room. */
export const wait = <T>(state: State<T>, size: number): number => {
  const id = state.nextId++
  state.waiters.push({ id, size })
  return id
}

/** Takes a caller out of the line; whoever was behind may come in. */
export const leave = <T>(state: State<T>, waiter: number): void => {
  const index = state.waiters.findIndex((w) => w.id === waiter)
  if (index >= 0) state.waiters.splice(index, 1)
  grant(state)
}

/** Turns granted room back into a record, or gives it back when the record will not come. */
export const redeem = <T>(state: State<T>, size: number, giveBack: boolean): void => {
  state.reservedRecords--
  state.reservedBytes -= size
  if (giveBack) {
    grant(state)
    checkDrained(state)
  }
}

/** Admits the waiters at the head of the line while room lasts. */
export const grant = <T>(state: State<T>): void => {
  while (state.waiters.length > 0 && hasRoom(state, state.waiters[0].size)) {
    const waiter = state.waiters.shift()!
    state.reservedRecords++
    state.reservedBytes += waiter.size
    state.completions.push({ _tag: "Admitted", waiter: waiter.id })
  }
}

/** Says `Drained` once closing and nothing is held or promised. */
export const checkDrained = <T>(state: State<T>): void => {
  if (state.closing && state.heldRecords === 0 && state.reservedRecords === 0) {
    state.completions.push({ _tag: "Drained" })
  }
}

/** A record leaves the accumulator (stored or failed for good); false if it had already left. */
export const release = <T>(state: State<T>, held: Held<T>): boolean => {
  if (held.settled) return false // settled once only, so the counts and flushes stay exact
  held.settled = true
  state.heldRecords--
  state.heldBytes -= held.size
  if (state.flushes.length > 0) {
    for (let i = state.flushes.length - 1; i >= 0; i--) {
      const flush = state.flushes[i]
      if (held.seq <= flush.upTo && --flush.remaining === 0) {
        state.flushes.splice(i, 1)
        state.completions.push({ _tag: "Flushed", flush: flush.id })
      }
    }
  }
  if (state.waiters.length > 0) grant(state)
  checkDrained(state)
  return true
}

/** A record failed for good: the stored prefix can never pass it. */
export const stopStored = <T>(state: State<T>, seq: number): void => {
  if (seq < state.prefixEnd) state.prefixEnd = seq
}

/**
 * Records stored in the order taken: every record before the first one not stored, which is either held (waiting,
 * in flight, in question, misplaced) or failed (`prefixEnd`). Found when asked, from the few places records are
 * held, so that a stored record costs nothing here: kept up to date per record, it cost a tenth of the core's time.
 */
export const storedPrefix = <T>(state: State<T>): number => {
  let prefix = Math.min(state.nextSeq, state.prefixEnd)
  const lowest = (held: Held<T>) => {
    if (held.seq < prefix && !held.settled) prefix = held.seq
  }
  for (const line of state.order) {
    // Fresh records are in the order taken: the first is the lowest.
    if (line.head < line.fresh.length) lowest(line.fresh[line.head])
    for (const held of line.retries) lowest(held)
  }
  for (const request of state.inFlight) for (const held of request.entries) lowest(held)
  for (const question of state.questions) for (const held of question.records) lowest(held)
  for (const misplaced of state.misplaced) for (const held of misplaced.members) lowest(held)
  return prefix
}

/** Marks every record taken so far as urgent; the flush's id, or undefined when nothing is held. */
export const flush = <T>(state: State<T>): number | undefined => {
  if (state.heldRecords === 0) return undefined
  const id = state.nextId++
  const upTo = state.nextSeq - 1
  state.flushes.push({ id, upTo, remaining: state.heldRecords })
  state.urgentUpTo = Math.max(state.urgentUpTo, upTo)
  state.sleepUntil = Infinity // the caller wakes for a flush: the next poll decides anew
  return id
}

/** Forgets a flush whose caller went away. */
export const forgetFlush = <T>(state: State<T>, flush: number): void => {
  const index = state.flushes.findIndex((f) => f.id === flush)
  if (index >= 0) state.flushes.splice(index, 1)
}

/** Stops intake: everything held becomes urgent; the waiters to refuse. */
export const close = <T>(state: State<T>): ReadonlyArray<number> => {
  state.closing = true
  state.urgentUpTo = Infinity
  const refused = state.waiters.map((w) => w.id)
  state.waiters = []
  checkDrained(state)
  return refused
}
