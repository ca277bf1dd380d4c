/**
 * The writer's state, and every decision on it: which records it holds, in which line (one per predicted shard)
 * they wait, what the next PutRecords request takes or until when to sleep, where a record to retry goes back,
 * which flushes a settled record completes, and when a caller waiting for room may come in.
 *
 * Pure: no clock, no randomness, no I/O. Time comes in as an argument; decisions go out as data (a `Plan`, and
 * `Event`s the caller collects with `events`). The Effect layer (`internal/writer.ts`) owns fibers, the clock,
 * the retry `Schedule` and the requests, as a QUIC state machine's wrapper owns sockets and timers.
 */
import * as Aggregation from "./Aggregation.js"
import * as Batch from "./Batch.js"
import * as RateLimit from "./RateLimit.js"
import type * as Record from "./Record.js"
import * as ShardMap from "./ShardMap.js"

/** The line of records whose shard is not known (no shard map, or a hash key no open shard holds). */
export const BLIND = ""

/** The least time between two requests while some shard's budget holds records back: fewer, fuller requests. */
export const MIN_PACING_MILLIS = 50

/** Per-shard budgets the accumulator asks before it takes a shard's records (`RateLimit` provides one). */
export interface Pacing {
  /** Whole records and bytes the shard may take now. */
  readonly available: (shard: string, now: number) => { readonly records: number; readonly bytes: number }
  /** Records and bytes sent to the shard now. */
  readonly spend: (shard: string, records: number, bytes: number, now: number) => void
  /** The earliest moment the shard can take `records` records of `bytes` bytes. */
  readonly readyAt: (shard: string, records: number, bytes: number, now: number) => number
  /** The shard refused records of a request sent at `sentAt`. */
  readonly throttled: (shard: string, sentAt: number, now: number) => void
  /** The shard stored `records` records. */
  readonly succeeded: (shard: string, records: number, now: number) => void
}

/** The pacing of a `RateLimit`: its budgets, asked and fed by shard. */
export const pacingOf = (limit: RateLimit.RateLimit): Pacing => ({
  available: (shard, now) => RateLimit.available(limit, shard, now),
  spend: (shard, records, bytes, now) => RateLimit.spend(limit, shard, records, bytes, now),
  readyAt: (shard, records, bytes, now) => RateLimit.readyAt(limit, shard, records, bytes, now),
  throttled: (shard, sentAt, now) => RateLimit.throttled(limit, shard, sentAt, now),
  succeeded: (shard, records, now) => RateLimit.succeeded(limit, shard, records, now)
})

/** How the accumulator decides. */
export interface Options {
  readonly limits: Batch.Limits
  readonly lingerMillis: number
  readonly maxInFlight: number
  readonly maxBufferedRecords: number
  readonly maxBufferedBytes: number
  /** Records with the same partition key are stored in the order taken: see `poll`. */
  readonly ordered: boolean
  /** Per-shard budgets; undefined: every line is sent as fast as batches fill. */
  readonly pacing: Pacing | undefined
  /** Send nothing until the first `reshard`: records taken before the shard map is known would go out unpaced. */
  readonly awaitRoute?: boolean | undefined
  /** Pack the records of each predicted shard into KPL aggregates within these bounds; undefined: no packing. */
  readonly aggregation?: AggregationBounds | undefined
}

/** The bounds of one aggregate. */
export interface AggregationBounds {
  /** The most bytes of an aggregate's data (magic number, message, digest); a record that can not share goes plain. */
  readonly maxBytes: number
  /** The most user records in one aggregate. */
  readonly maxRecords: number
}

/** One record from the moment it is taken until it is stored or has failed for good. */
export interface Held<T> extends Batch.Sized {
  readonly record: Record.Encoded
  /** The order it was taken in. */
  readonly seq: number
  /** Its explicit hash key as 32 hex digits, once a shard map needed it. */
  hashKey: string | undefined
  /** The caller's handle on its result (a `put`), or undefined (an `enqueue`). */
  readonly ticket: T | undefined
  /** The line it waits in: its predicted shard, or `BLIND`. */
  shard: string
  /** When it last became sendable: when taken, or when its retry delay ended. Linger counts from here. */
  readyAt: number
  attempts: number
  /** The retry `Schedule`'s state for it; undefined until its first failure. */
  retryState: unknown
  settled: boolean
  /** A request that carried it went unanswered or failed on the server: Kinesis may hold it already. */
  maybeStored: boolean
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

/** A PutRecords request's records, from the moment it is planned until its response is settled. */
export interface Outgoing<T> {
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

/** What to do next: send a batch, or sleep until a moment (`Infinity`: until something changes). */
export type Plan<T> =
  | { readonly _tag: "Send"; readonly batch: Outgoing<T> }
  | { readonly _tag: "Sleep"; readonly until: number }

/** Something the caller must tell a waiting party. */
export type Event =
  | { readonly _tag: "Admitted"; readonly waiter: number }
  | { readonly _tag: "Flushed"; readonly flush: number }
  | { readonly _tag: "Drained" }

interface Line<T> {
  readonly shard: string
  fresh: Array<Held<T>> // never sent, in order, from `head` on
  head: number
  freshBytes: number
  retries: Array<Held<T>> // to be sent again, in the order taken (seq)
  inFlight: number // requests in flight with records of this line
}

interface Waiter {
  readonly id: number
  readonly size: number
}

interface Flush {
  readonly id: number
  readonly upTo: number
  remaining: number
}

/** The writer's whole state. Change it only through this module's functions. */
export interface Accumulator<T> {
  readonly options: Options
  readonly lines: Map<string, Line<T>>
  order: Array<Line<T>> // the lines, in the order `poll` visits them, starting at `cursor`
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
  nextId: number
  urgentUpTo: number // records up to this seq are sent without waiting for linger (flush, close)
  readonly inFlight: Set<Outgoing<T>>
  epoch: number
  staleInFlight: number // requests planned under an earlier shard map, still in flight
  route: Route | undefined
  readonly shardStarts: Map<string, string> // each open shard's starting hash key, in decimal: where its aggregates go
  readonly misplacing: Set<string> // shards whose aggregates landed elsewhere: no packing until a new map
  routePending: boolean // no request until the first shard map (or the decision to go without one)
  lastSentAt: number
  sleepUntil: number // when the caller's last `Sleep` ends; -Infinity after a `Send` (it polls again at once)
  readonly keysInFlight: Map<string, number> // with `ordered`: records in flight per partition key
  closing: boolean
  wokenFull: boolean // a wake-up for a full batch was asked since the last poll
  events: Array<Event>
}

/** An empty accumulator. */
export const make = <T>(options: Options): Accumulator<T> => ({
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
  nextId: 0,
  urgentUpTo: -1,
  inFlight: new Set(),
  epoch: 0,
  staleInFlight: 0,
  route: undefined,
  shardStarts: new Map(),
  misplacing: new Set(),
  routePending: options.awaitRoute === true,
  lastSentAt: -Infinity,
  sleepUntil: Infinity, // the caller has not looked yet: any record may wake it
  keysInFlight: new Map(),
  closing: false,
  wokenFull: false,
  events: []
})

const lineOf = <T>(acc: Accumulator<T>, shard: string): Line<T> => {
  let line = acc.lines.get(shard)
  if (line === undefined) {
    line = { shard, fresh: [], head: 0, freshBytes: 0, retries: [], inFlight: 0 }
    acc.lines.set(shard, line)
    acc.order.push(line)
  }
  return line
}

/** Where a record goes: its shard, or undefined when no open shard holds it. */
export type Route = (held: Held<unknown>) => string | undefined

/** The route of a shard map: the record's hash key (the MD5 of its partition key, or its explicit one) in the map's ranges. */
export const routeOf = (map: ShardMap.ShardMap): Route => {
  const shards = map.shards
  // One shard over the whole key space (most small streams) takes every record: no hash needed.
  if (
    shards.length === 1 && shards[0].startingHashKey === ShardMap.MIN_HASH_KEY &&
    shards[0].endingHashKey === ShardMap.MAX_HASH_KEY
  ) {
    const only = shards[0].shardId
    return () => only
  }
  const locate = ShardMap.partitionKeyLocator(map)
  return (held) => {
    // A partition key is hashed again at each reshard (rare) rather than its hash key kept with every record.
    if (held.record.explicitHashKey === undefined) return locate(held.record.partitionKey)
    if (held.hashKey === undefined) held.hashKey = ShardMap.toHex(held.record.explicitHashKey)
    return ShardMap.shardOf(map, held.hashKey)
  }
}

const predict = <T>(acc: Accumulator<T>, held: Held<T>): string =>
  acc.route === undefined ? BLIND : acc.route(held) ?? BLIND

// Two lists in the order taken (seq) merged into one; the common case, all of `b` after all of `a`, appends.
const mergeBySeq = <T>(a: Array<Held<T>>, b: ReadonlyArray<Held<T>>): Array<Held<T>> => {
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

// ---------------------------------------------------------------------------------------------------------------
// Intake and room
// ---------------------------------------------------------------------------------------------------------------

/** Whether a record of `size` bytes may come in now: within the bounds, counting room granted to waiters. */
export const hasRoom = <T>(acc: Accumulator<T>, size: number): boolean =>
  acc.heldRecords + acc.reservedRecords < acc.options.maxBufferedRecords &&
  acc.heldBytes + acc.reservedBytes + size <= acc.options.maxBufferedBytes

/** Whether a record may come in at once: room, and nobody waiting ahead of it. */
export const canTake = <T>(acc: Accumulator<T>, size: number): boolean => acc.waiters.length === 0 && hasRoom(acc, size)

/**
 * Takes a record (the caller checked `canTake`, or holds a grant). Returns whether the batching fiber should wake:
 * only when its plan may change, when the first record arrives or when a batch fills.
 */
export const take = <T>(
  acc: Accumulator<T>,
  record: Record.Encoded,
  ticket: T | undefined,
  now: number
): boolean => {
  const held: Held<T> = {
    record,
    size: record.size,
    seq: acc.nextSeq++,
    hashKey: undefined,
    ticket,
    shard: BLIND,
    readyAt: now,
    attempts: 0,
    retryState: undefined,
    settled: false,
    maybeStored: false
  }
  if (acc.route !== undefined) held.shard = acc.route(held) ?? BLIND
  const line = lineOf(acc, held.shard)
  const lineWasEmpty = line.head === line.fresh.length
  line.fresh.push(held)
  line.freshBytes += held.size
  acc.heldRecords++
  acc.heldBytes += held.size
  acc.freshRecords++
  acc.freshBytes += held.size
  // The caller sleeps until acc.sleepUntil: wake it when this record must go earlier, which only a record that no
  // other waits ahead of in its line can (with `ordered`, any record may: the ones ahead may wait for their key).
  if ((lineWasEmpty || acc.options.ordered) && now + acc.options.lingerMillis < acc.sleepUntil) return true
  // Or when the records waiting fill a batch: once until the next request goes.
  if (!acc.wokenFull && Batch.isFull(acc.freshRecords, acc.freshBytes, acc.options.limits)) {
    acc.wokenFull = true
    return true
  }
  return false
}

/** Puts a caller in line for room; `Admitted` with the returned id says when it may take its record. */
export const wait = <T>(acc: Accumulator<T>, size: number): number => {
  const id = acc.nextId++
  acc.waiters.push({ id, size })
  return id
}

/** Takes a caller out of the line (interrupted before room was granted); whoever was behind may come in. */
export const leave = <T>(acc: Accumulator<T>, waiter: number): void => {
  const index = acc.waiters.findIndex((w) => w.id === waiter)
  if (index >= 0) acc.waiters.splice(index, 1)
  grant(acc)
}

/** Turns granted room back into a record (call `take` next), or gives it back when the record will not come. */
export const redeem = <T>(acc: Accumulator<T>, size: number, giveBack: boolean): void => {
  acc.reservedRecords--
  acc.reservedBytes -= size
  if (giveBack) {
    grant(acc)
    checkDrained(acc)
  }
}

const grant = <T>(acc: Accumulator<T>): void => {
  while (acc.waiters.length > 0 && hasRoom(acc, acc.waiters[0].size)) {
    const waiter = acc.waiters.shift()!
    acc.reservedRecords++
    acc.reservedBytes += waiter.size
    acc.events.push({ _tag: "Admitted", waiter: waiter.id })
  }
}

const checkDrained = <T>(acc: Accumulator<T>): void => {
  if (acc.closing && acc.heldRecords === 0 && acc.reservedRecords === 0) acc.events.push({ _tag: "Drained" })
}

/** The events since the last call, in order; the caller tells each waiting party. */
export const events = <T>(acc: Accumulator<T>): ReadonlyArray<Event> => {
  if (acc.events.length === 0) return noEvents
  const out = acc.events
  acc.events = []
  return out
}
const noEvents: ReadonlyArray<Event> = []

// ---------------------------------------------------------------------------------------------------------------
// Flush and close
// ---------------------------------------------------------------------------------------------------------------

/**
 * Marks every record taken so far as urgent and returns a flush id that `Flushed` completes once each of them is
 * settled; undefined when nothing is held (the flush is done at once).
 */
export const flush = <T>(acc: Accumulator<T>): number | undefined => {
  if (acc.heldRecords === 0) return undefined
  const id = acc.nextId++
  const upTo = acc.nextSeq - 1
  acc.flushes.push({ id, upTo, remaining: acc.heldRecords })
  acc.urgentUpTo = Math.max(acc.urgentUpTo, upTo)
  acc.sleepUntil = Infinity // the caller wakes for a flush: the next poll decides anew
  return id
}

/** Forgets a flush whose caller went away. */
export const forgetFlush = <T>(acc: Accumulator<T>, flush: number): void => {
  const index = acc.flushes.findIndex((f) => f.id === flush)
  if (index >= 0) acc.flushes.splice(index, 1)
}

/** Stops intake: everything held becomes urgent; returns the waiters to refuse. `Drained` follows when all settled. */
export const close = <T>(acc: Accumulator<T>): ReadonlyArray<number> => {
  acc.closing = true
  acc.urgentUpTo = Infinity
  const refused = acc.waiters.map((w) => w.id)
  acc.waiters = []
  checkDrained(acc)
  return refused
}

/**
 * Takes every record not yet settled out of the accumulator, with those of `inFlight` (requests the caller stopped),
 * in the order taken: for the shutdown deadline.
 */
export const abandon = <T>(acc: Accumulator<T>, inFlight: Iterable<Held<T>> = []): Array<Held<T>> => {
  const left = new Set<Held<T>>(inFlight)
  for (const line of acc.order) {
    for (const held of line.retries) left.add(held)
    for (let i = line.head; i < line.fresh.length; i++) left.add(line.fresh[i])
    line.retries = []
    line.fresh = []
    line.head = 0
    line.freshBytes = 0
  }
  for (const batch of acc.inFlight) for (const held of batch.entries) left.add(held)
  acc.freshRecords = 0
  acc.freshBytes = 0
  return [...left].filter((held) => !held.settled).sort((a, b) => a.seq - b.seq)
}

// ---------------------------------------------------------------------------------------------------------------
// The next batch
// ---------------------------------------------------------------------------------------------------------------

interface Candidate<T> {
  readonly line: Line<T>
  readonly records: number // at most this many of the line's records now (its budget)
  readonly bytes: number
}

const sleep = <T>(until: number): Plan<T> => ({ _tag: "Sleep", until })

/**
 * What to do at `now`: send a batch, or sleep until a moment when the plan may change (a linger ends, a retry
 * delay ends, a shard's budget refills); anything else that changes it (a record taken that `take` says should
 * wake the caller, a batch settled, a flush) wakes the caller, which polls again.
 *
 * A batch is sent when it is full, when its oldest record's linger ended, or when a flush or close made its
 * records urgent. With pacing, a shard takes no more than its budget; while a budget holds records back, requests
 * go out at most every `linger` (at least `MIN_PACING_MILLIS`), each with what the budgets earned meanwhile.
 * Within a line, ready retries go first, in the order taken, then fresh records; a record that does not fit
 * closes its line for this batch, so no record of a shard overtakes another of that shard.
 * With `ordered`, a record waits while an earlier record of its partition key is in flight or waits for its retry,
 * and a batch carries each key once: the records of one key reach Kinesis one request after another, in the order
 * taken, while other keys of the same shard go past them.
 */
export const poll = <T>(acc: Accumulator<T>, now: number): Plan<T> => {
  const plan = decide(acc, now)
  acc.sleepUntil = plan._tag === "Sleep" ? plan.until : -Infinity
  return plan
}

const decide = <T>(acc: Accumulator<T>, now: number): Plan<T> => {
  const { aggregation, limits, lingerMillis, maxInFlight, ordered, pacing } = acc.options
  if (acc.inFlight.size >= maxInFlight) return sleep(Infinity)
  if (acc.routePending && !acc.closing) return sleep(Infinity)
  if (ordered && acc.staleInFlight > 0) return sleep(Infinity)
  const pacingMillis = Math.max(lingerMillis, MIN_PACING_MILLIS)
  let wakeAt = Infinity // a retry delay ends
  let refillAt = Infinity // a shard with no budget can take a record again
  let lingerAt = Infinity // the oldest sendable record's linger
  let sendable = 0
  let sendableBytes = 0
  let urgent = false
  let heldBack = false
  // With `ordered`, the keys whose next record must wait: a record of theirs waits for its retry delay.
  const waitingKeys = ordered ? new Set<string>() : undefined
  const candidates: Array<Candidate<T>> = []
  for (const line of acc.order) {
    let count = 0
    let bytes = 0
    let oldest = Infinity
    let lineUrgent = false
    for (const held of line.retries) {
      if (held.readyAt <= now) {
        count++
        bytes += held.size
        if (held.readyAt < oldest) oldest = held.readyAt
        if (held.seq <= acc.urgentUpTo) lineUrgent = true
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
      if (first.seq <= acc.urgentUpTo) lineUrgent = true
    }
    if (count === 0) continue
    // What the line's records make in Kinesis records: packed into aggregates, far fewer than user records.
    const entries = aggregation !== undefined && waitingKeys === undefined && isPacked(acc, line) ?
      Math.max(Math.ceil(bytes / aggregation.maxBytes), Math.ceil(count / aggregation.maxRecords)) :
      count
    let records = count // the most entries the line may put in this request (its record budget)
    let budgetBytes = Infinity
    let entriesNow = entries
    if (pacing !== undefined && line.shard !== BLIND) {
      const budget = pacing.available(line.shard, now)
      if (budget.records < 1 || budget.bytes <= 0) {
        heldBack = true
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
  const pacedAt = acc.lastSentAt + pacingMillis
  if (refillAt !== Infinity) wakeAt = Math.min(wakeAt, Math.max(refillAt, pacedAt, now + 1))
  if (sendable === 0) return sleep(wakeAt)
  const full = Batch.isFull(sendable, sendableBytes, limits)
  // A flush or close makes records skip their linger, not the pacing: urgent or not, a shard's budget is its budget.
  const due = urgent ? now : lingerAt
  const sendAt = heldBack ? Math.max(due, pacedAt) : due
  if (!full && sendAt > now) return sleep(Math.min(wakeAt, sendAt))
  const batch = build(acc, candidates, waitingKeys, now)
  // With `ordered`, every record that could go may wait for a key in flight: a settled request wakes the caller.
  return batch === undefined ? sleep(wakeAt) : { _tag: "Send", batch }
}

// Whether the line's records go into aggregates: its shard is known, and no aggregate of it landed elsewhere.
const isPacked = <T>(acc: Accumulator<T>, line: Line<T>): boolean =>
  line.shard !== BLIND && !acc.misplacing.has(line.shard) && acc.shardStarts.has(line.shard)

const firstSendable = <T>(line: Line<T>, now: number): Held<T> => {
  for (const held of line.retries) if (held.readyAt <= now) return held
  return line.fresh[line.head]
}

// With `ordered`, how far past a key that must wait a line is searched for records of other keys, per request.
const ORDERED_SCAN_LIMIT = 2000

const build = <T>(
  acc: Accumulator<T>,
  candidates: ReadonlyArray<Candidate<T>>,
  waitingKeys: Set<string> | undefined,
  now: number
): Outgoing<T> | undefined => {
  const { aggregation, limits, pacing } = acc.options
  const entries: Array<Held<T>> = []
  // Without aggregates, the request's entries are the user records themselves: no second list.
  const items: Array<Item<T>> | undefined = aggregation === undefined ? undefined : []
  const sent = items ?? entries
  const perShard = new Map<string, number>()
  // With `ordered`: keys in flight, waiting for a retry, or already in this batch take nothing more now.
  const skip = waitingKeys
  const keysInFlight = acc.keysInFlight
  let bytes = 0
  // Lines take turns being first, so that when a batch cannot hold every shard's records, none is always last.
  const start = candidates.length === 0 ? 0 : acc.cursor % candidates.length
  acc.cursor++
  for (let c = 0; c < candidates.length && sent.length < limits.maxBatchRecords; c++) {
    const { line, records: budgetRecords, bytes: budgetBytes } = candidates[(start + c) % candidates.length]
    let taken = 0 // entries of the request (user records or aggregates) from this line
    let takenBytes = 0
    let open: Aggregation.Aggregate | undefined // the aggregate being packed: one entry of the request already
    let openMembers: Array<Held<T>> = []
    let openBytes = 0
    // May an entry of `size` bytes join the request? Batch bounds and the line's budget; false closes the line.
    const fits = (size: number): boolean => {
      if (sent.length + (open === undefined ? 0 : 1) >= limits.maxBatchRecords || taken >= budgetRecords) return false
      if (sent.length > 0 && bytes + size > limits.maxBatchBytes) return false
      if (taken > 0 && takenBytes + size > budgetBytes) return false
      return true
    }
    // May an entry already in the request grow by `growth` bytes?
    const mayGrow = (growth: number): boolean =>
      bytes + growth <= limits.maxBatchBytes && takenBytes + growth <= budgetBytes
    // With `ordered`: must `held` wait for an earlier record of its key? A key skipped once stays skipped.
    const mustWait = (held: Held<T>): boolean => {
      if (skip === undefined) return false
      const key = held.record.partitionKey
      if (skip.has(key) || keysInFlight.has(key)) {
        skip.add(key)
        return true
      }
      return false
    }
    const count = (held: Held<T>) => {
      entries.push(held)
      if (skip !== undefined) {
        skip.add(held.record.partitionKey)
        keysInFlight.set(held.record.partitionKey, (keysInFlight.get(held.record.partitionKey) ?? 0) + 1)
      }
    }
    const addPlain = (held: Held<T>, size: number) => {
      count(held)
      items?.push(held)
      bytes += size
      taken++
      takenBytes += size
    }
    // Aggregates of this line: only where its shard is known, since a KCL drops a user record whose hash key is not
    // in the range of the shard that stored its aggregate.
    const shardStart = aggregation !== undefined && skip === undefined && isPacked(acc, line) ?
      acc.shardStarts.get(line.shard) :
      undefined
    const closeOpen = () => {
      if (open === undefined) return
      // A lone record goes as it is: the same bytes Kinesis counts, fewer for consumers to unpack.
      if (openMembers.length === 1) items!.push(openMembers[0])
      else {
        const data = Aggregation.encode(open)
        const record = { data, partitionKey: Aggregation.PARTITION_KEY, explicitHashKey: shardStart, size: openBytes }
        items!.push({ record, members: openMembers, size: openBytes })
      }
      open = undefined
      openMembers = []
    }
    const consider = (held: Held<T>): boolean => {
      if (shardStart === undefined) {
        if (!fits(held.size)) return false
        addPlain(held, held.size)
        return true
      }
      if (open !== undefined && openMembers.length < aggregation!.maxRecords) {
        const grown = Aggregation.sizeWith(open, held.record) + AGGREGATE_KEY_BYTES
        if (grown <= aggregation!.maxBytes) {
          if (!mayGrow(grown - openBytes)) return false
          Aggregation.add(open, held.record)
          openMembers.push(held)
          count(held)
          bytes += grown - openBytes
          takenBytes += grown - openBytes
          openBytes = grown
          return true
        }
      }
      closeOpen()
      const fresh = Aggregation.make()
      const alone = Aggregation.sizeWith(fresh, held.record) + AGGREGATE_KEY_BYTES
      if (alone > aggregation!.maxBytes) {
        // Too large to share: it goes as it is.
        if (!fits(held.size)) return false
        items!.push(held)
        count(held)
        bytes += held.size
        taken++
        takenBytes += held.size
        return true
      }
      if (!fits(alone)) return false
      // The aggregate counts as one entry of the request from now; it is encoded when it closes.
      Aggregation.add(fresh, held.record)
      open = fresh
      openMembers = [held]
      openBytes = alone
      count(held)
      bytes += alone
      taken++
      takenBytes += alone
      return true
    }
    let closed = false
    if (line.retries.length > 0) {
      const left: Array<Held<T>> = []
      for (const held of line.retries) {
        if (!closed && held.readyAt <= now && !mustWait(held)) {
          if (consider(held)) continue
          closed = true
        }
        left.push(held)
      }
      line.retries = left
    }
    if (skip === undefined) {
      while (!closed && line.head < line.fresh.length) {
        const held = line.fresh[line.head]
        if (!consider(held)) break
        line.head++
        line.freshBytes -= held.size
        acc.freshRecords--
        acc.freshBytes -= held.size
      }
    } else if (!closed) takeOrdered(acc, line, (held) => fits(held.size), mustWait, (held) => addPlain(held, held.size))
    closeOpen()
    compact(line)
    if (taken > 0) {
      perShard.set(line.shard, taken)
      line.inFlight++
      if (pacing !== undefined && line.shard !== BLIND) pacing.spend(line.shard, taken, takenBytes, now)
    }
  }
  if (entries.length === 0) return undefined
  const batch: Outgoing<T> = { entries, items, bytes, sentAt: now, epoch: acc.epoch, perShard }
  acc.inFlight.add(batch)
  acc.lastSentAt = now
  acc.wokenFull = false
  return batch
}

// The aggregate's partition key: Kinesis counts its bytes; the explicit hash key chooses the shard.
const AGGREGATE_KEY_BYTES = Aggregation.PARTITION_KEY.length

// Fresh records of a line with `ordered`: records whose key must wait stay where they are, in order; the others
// join the batch until it or the line's budget is full, looking at most ORDERED_SCAN_LIMIT records ahead.
const takeOrdered = <T>(
  acc: Accumulator<T>,
  line: Line<T>,
  fits: (held: Held<T>) => boolean,
  mustWait: (held: Held<T>) => boolean,
  add: (held: Held<T>) => void
): void => {
  const end = Math.min(line.fresh.length, line.head + ORDERED_SCAN_LIMIT)
  let kept: Array<Held<T>> | undefined
  let i = line.head
  for (; i < end; i++) {
    const held = line.fresh[i]
    if (mustWait(held)) {
      ;(kept ??= []).push(held)
      continue
    }
    if (!fits(held)) break
    add(held)
    line.freshBytes -= held.size
    acc.freshRecords--
    acc.freshBytes -= held.size
  }
  if (kept === undefined) line.head = i
  else {
    // The records that waited go back ahead of the rest, in the order taken.
    const rest = line.fresh.slice(i)
    line.fresh = kept.concat(rest)
    line.head = 0
  }
}

// A consumed head is cut off once it is most of the array, so a long-lived line neither leaks nor copies often.
const compact = <T>(line: Line<T>): void => {
  if (line.head === line.fresh.length) {
    line.fresh = []
    line.head = 0
  } else if (line.head > 4096 && line.head * 2 > line.fresh.length) {
    line.fresh = line.fresh.slice(line.head)
    line.head = 0
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Settling
// ---------------------------------------------------------------------------------------------------------------

// A record leaves the accumulator: its room goes to waiters, and flushes waiting for it move on.
const release = <T>(acc: Accumulator<T>, held: Held<T>): boolean => {
  if (held.settled) return false // settled once only, so the counts and flushes stay exact
  held.settled = true
  acc.heldRecords--
  acc.heldBytes -= held.size
  if (acc.flushes.length > 0) {
    for (let i = acc.flushes.length - 1; i >= 0; i--) {
      const flush = acc.flushes[i]
      if (held.seq <= flush.upTo && --flush.remaining === 0) {
        acc.flushes.splice(i, 1)
        acc.events.push({ _tag: "Flushed", flush: flush.id })
      }
    }
  }
  if (acc.waiters.length > 0) grant(acc)
  checkDrained(acc)
  return true
}

/**
 * A record was stored on `shardId`. Returns whether that is another shard than predicted: the shard map is out of
 * date (the stream was resharded), and the caller should reload it.
 */
export const delivered = <T>(acc: Accumulator<T>, held: Held<T>, shardId: string): boolean => {
  release(acc, held)
  return held.shard !== BLIND && held.shard !== shardId
}

/**
 * An aggregate packed for `shard` was stored on another shard: the map is out of date (a reshard). Until a new map
 * comes, that shard's records go plain, each routed by its own key, rather than packed for a shard that split.
 */
export const misplaced = <T>(acc: Accumulator<T>, shard: string): void => {
  acc.misplacing.add(shard)
}

/** A record failed for good. Returns false if it had already been settled. */
export const failed = <T>(acc: Accumulator<T>, held: Held<T>): boolean => release(acc, held)

/**
 * Puts records back to be sent again from their `readyAt` on (set by the caller from its retry schedule), each in
 * its shard's line, ahead of that line's records never sent, in the order taken.
 */
export const retry = <T>(acc: Accumulator<T>, again: ReadonlyArray<Held<T>>): void => {
  const byLine = new Map<Line<T>, Array<Held<T>>>()
  for (const held of again) {
    if (held.settled) continue
    held.shard = predict(acc, held) // the map may have changed while it was in flight
    const line = lineOf(acc, held.shard)
    const list = byLine.get(line)
    if (list === undefined) byLine.set(line, [held])
    else list.push(held)
  }
  for (const [line, list] of byLine) line.retries = mergeBySeq(line.retries, list.sort(bySeq))
}

const bySeq = <T>(a: Held<T>, b: Held<T>) => a.seq - b.seq

/** What a request's response said of each shard it carried records for, for the pacing. */
export interface Feedback {
  /** Shards that refused records for their throughput (read before `retry` moves the records). */
  readonly throttled: ReadonlySet<string>
  /** Records stored, by the shard they were sent for. */
  readonly stored: ReadonlyMap<string, number>
}

/**
 * A request is over: every one of its records was passed to `delivered`, `retry` or `failed`. With `feedback` (an
 * answered request), throttled shards' budgets shrink and the others' grow back; a request that failed as a whole
 * says nothing of the shards, and changes no budget.
 */
export const finish = <T>(
  acc: Accumulator<T>,
  batch: Outgoing<T>,
  feedback: Feedback | undefined,
  now: number
): void => {
  if (!acc.inFlight.delete(batch)) return
  if (batch.epoch < acc.epoch) acc.staleInFlight--
  if (acc.options.ordered) {
    for (const held of batch.entries) {
      const key = held.record.partitionKey
      const count = acc.keysInFlight.get(key) ?? 0
      if (count <= 1) acc.keysInFlight.delete(key)
      else acc.keysInFlight.set(key, count - 1)
    }
  }
  const { pacing } = acc.options
  for (const shard of batch.perShard.keys()) {
    const line = acc.lines.get(shard)
    if (line !== undefined) line.inFlight--
    if (pacing === undefined || shard === BLIND || feedback === undefined) continue
    if (feedback.throttled.has(shard)) pacing.throttled(shard, batch.sentAt, now)
    else {
      const stored = feedback.stored.get(shard) ?? 0
      if (stored > 0) pacing.succeeded(shard, stored, now)
    }
  }
}

/**
 * The records of a request that are neither settled, nor waiting to be sent again, nor in another request: what a
 * failed settlement left behind.
 */
export const stranded = <T>(acc: Accumulator<T>, batch: Outgoing<T>): Array<Held<T>> => {
  const elsewhere = new Set<Held<T>>()
  for (const line of acc.order) for (const held of line.retries) elsewhere.add(held)
  for (const other of acc.inFlight) if (other !== batch) { for (const held of other.entries) elsewhere.add(held) }
  return batch.entries.filter((held) => !held.settled && !elsewhere.has(held))
}

// ---------------------------------------------------------------------------------------------------------------
// Shards
// ---------------------------------------------------------------------------------------------------------------

/**
 * Uses a new shard map: every record waiting is put in the line of its shard under the new map, in the order
 * taken. Requests in flight finish under the old one; with `ordered`, nothing is sent until they have.
 */
export const reshard = <T>(acc: Accumulator<T>, map: ShardMap.ShardMap | undefined): void => {
  const route = map === undefined || ShardMap.size(map) === 0 ? undefined : routeOf(map)
  acc.route = route
  acc.shardStarts.clear()
  acc.misplacing.clear()
  if (map !== undefined) {
    for (const shard of map.shards) acc.shardStarts.set(shard.shardId, ShardMap.fromHex(shard.startingHashKey))
  }
  acc.routePending = false
  acc.epoch++
  acc.staleInFlight = acc.inFlight.size
  const fresh: Array<Held<T>> = []
  const retries: Array<Held<T>> = []
  for (const line of acc.order) {
    for (const held of line.retries) retries.push(held)
    for (let i = line.head; i < line.fresh.length; i++) fresh.push(line.fresh[i])
  }
  fresh.sort(bySeq)
  retries.sort(bySeq)
  acc.lines.clear()
  const kept = acc.order.filter((line) => line.inFlight > 0)
  acc.order = []
  for (const line of kept) {
    line.fresh = []
    line.head = 0
    line.freshBytes = 0
    line.retries = []
    acc.lines.set(line.shard, line)
    acc.order.push(line)
  }
  for (const held of retries) {
    held.shard = predict(acc, held)
    lineOf(acc, held.shard).retries.push(held)
  }
  for (const held of fresh) {
    held.shard = predict(acc, held)
    const line = lineOf(acc, held.shard)
    line.fresh.push(held)
    line.freshBytes += held.size
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading
// ---------------------------------------------------------------------------------------------------------------

/** What the accumulator holds now. */
export interface Holding {
  /** Records taken and not yet settled: waiting, waiting to retry, or in flight. */
  readonly records: number
  readonly bytes: number
  /** Requests in flight. */
  readonly requests: number
  /** Lines with records waiting or in flight. */
  readonly shards: number
}

/** What the accumulator holds now. */
export const holding = <T>(acc: Accumulator<T>): Holding => {
  let shards = 0
  for (const line of acc.order) {
    if (line.inFlight > 0 || line.retries.length > 0 || line.head < line.fresh.length) shards++
  }
  return { records: acc.heldRecords, bytes: acc.heldBytes, requests: acc.inFlight.size, shards }
}

/** The records a request carries, as PutRecords entries. */
export const entriesOf = <T>(batch: Outgoing<T>) =>
  (batch.items ?? batch.entries).map(({ record }: Item<T>) =>
    record.explicitHashKey === undefined ?
      { Data: record.data, PartitionKey: record.partitionKey } :
      { Data: record.data, PartitionKey: record.partitionKey, ExplicitHashKey: record.explicitHashKey }
  )
