/**
 * The buffer's bounds: whether a record may come in, the callers waiting for room in order, and what a record
 * leaving the accumulator frees: room for waiters, progress for flushes, the drain after close.
 */
import type { Held, State, StoredRun } from "./state.js"

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

/**
 * Moves the stored prefix on for a record just stored. Records beyond a gap are kept as runs of consecutive seqs,
 * in order: records are stored mostly in the order taken, so a record extends the last run, and there are never
 * more runs than records not yet stored (each run starts after one).
 */
export const advanceStored = <T>(state: State<T>, seq: number): void => {
  const runs = state.storedAhead
  if (seq === state.storedPrefix) {
    state.storedPrefix = runs.length > 0 && runs[0].start === seq + 1 ? runs.shift()!.end : seq + 1
    return
  }
  if (seq >= state.prefixEnd) return // beyond a failed record: the prefix never gets there
  // The last run whose start is at most `seq` (runs are few: a scan from the end finds it at once in the usual case).
  let i = runs.length - 1
  while (i >= 0 && runs[i].start > seq) i--
  const before = i >= 0 ? runs[i] : undefined
  const after = i + 1 < runs.length ? runs[i + 1] : undefined
  if (before !== undefined && before.end === seq) {
    before.end = seq + 1
    if (after !== undefined && after.start === seq + 1) {
      before.end = after.end
      runs.splice(i + 1, 1)
    }
  } else if (after !== undefined && after.start === seq + 1) after.start = seq
  else runs.splice(i + 1, 0, { start: seq, end: seq + 1 })
}

/**
 * Moves the stored prefix on for the records of one answer, stored together. A request takes its lines in turn, so
 * its records are far apart in the order taken: the seqs are sorted once and merged with the runs in one pass, a
 * cost per answer of the runs plus the records, where a scan of the runs per record cost a quarter of the core's time
 * with a full buffer and 8 requests in flight.
 */
export const advanceStoredAll = <T>(state: State<T>, stored: ReadonlyArray<Held<T>>): void => {
  if (stored.length <= 1) {
    if (stored.length === 1) advanceStored(state, stored[0].seq)
    return
  }
  const limit = state.prefixEnd // records beyond a failed record: the prefix never gets there
  const seqs = new Float64Array(stored.length)
  let count = 0
  for (const held of stored) if (held.seq < limit) seqs[count++] = held.seq
  const sorted = seqs.subarray(0, count).sort()
  const runs = state.storedAhead
  const merged: Array<StoredRun> = []
  const append = (start: number, end: number, run: StoredRun | undefined) => {
    const last = merged.length > 0 ? merged[merged.length - 1] : undefined
    if (last !== undefined && last.end === start) last.end = end
    else merged.push(run ?? { start, end })
  }
  let r = 0
  for (let i = 0; i < count; i++) {
    const seq = sorted[i]
    while (r < runs.length && runs[r].start < seq) {
      append(runs[r].start, runs[r].end, runs[r])
      r++
    }
    append(seq, seq + 1, undefined)
  }
  for (; r < runs.length; r++) append(runs[r].start, runs[r].end, runs[r])
  let prefix = state.storedPrefix
  let first = 0
  while (first < merged.length && merged[first].start === prefix) prefix = merged[first++].end
  state.storedPrefix = prefix
  state.storedAhead = first === 0 ? merged : merged.slice(first)
}

/** A record failed for good: the stored prefix can never pass it, and records stored beyond need no tracking. */
export const stopStored = <T>(state: State<T>, seq: number): void => {
  if (seq >= state.prefixEnd) return
  state.prefixEnd = seq
  state.storedAhead = state.storedAhead.filter((run) => run.start < seq)
  for (const run of state.storedAhead) run.end = Math.min(run.end, seq)
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
