/**
 * What one request takes: lines in turn, each within its budget and the request's bounds; retries first, then
 * records never sent; with `ordered`, one record per key; with aggregation, a line's records packed into KPL
 * aggregates at its shard's starting hash key.
 */
import * as Aggregation from "../Aggregation.js"
import type { Candidate } from "./planning.js"
import { isPacked } from "./planning.js"
import { BLIND, countKey, type Held, type Item, type Line, type Request, type State } from "./state.js"

// With `ordered`, how far past a key that must wait a line is searched for records of other keys, per request.
const ORDERED_SCAN_LIMIT = 2000

// The aggregate's partition key: Kinesis counts its bytes; the explicit hash key chooses the shard.
const AGGREGATE_KEY_BYTES = Aggregation.PARTITION_KEY.length

/** Builds the request from `candidates`; undefined when every record that could go must wait for its key. */
export const build = <T>(
  state: State<T>,
  candidates: ReadonlyArray<Candidate<T>>,
  waitingKeys: Set<string> | undefined,
  now: number
): Request<T> | undefined => {
  const packer = new Packer(state, waitingKeys, now)
  const { limits, pacing } = state.options
  // Lines take turns being first, so that when a batch cannot hold every shard's records, none is always last.
  const start = candidates.length === 0 ? 0 : state.cursor % candidates.length
  state.cursor++
  for (let c = 0; c < candidates.length && packer.sent.length < limits.maxBatchRecords; c++) {
    const candidate = candidates[(start + c) % candidates.length]
    packer.takeLine(candidate)
    const { line } = candidate
    compact(line)
    if (packer.taken > 0) {
      packer.perShard.set(line.shard, packer.taken)
      line.inFlight++
      if (pacing !== undefined && line.shard !== BLIND) pacing.spend(line.shard, packer.taken, packer.takenBytes, now)
    }
  }
  if (packer.entries.length === 0) return undefined
  const { bytes, entries, items, perShard } = packer
  const request: Request<T> = { entries, items, bytes, sentAt: now, epoch: state.epoch, perShard }
  state.inFlight.add(request)
  state.lastSentAt = now
  state.wokenFull = false
  return request
}

/** One request being filled, line after line. */
class Packer<T> {
  readonly entries: Array<Held<T>> = []
  // Without aggregates, the request's entries are the user records themselves: no second list.
  readonly items: Array<Item<T>> | undefined
  /** The request's entries as sent: `items`, or `entries`. */
  readonly sent: Array<Item<T>>
  readonly perShard = new Map<string, number>()
  bytes = 0
  // The current line: its budget, what it gave, and the aggregate being packed (one entry of the request already).
  private budgetRecords = 0
  private budgetBytes = 0
  taken = 0
  takenBytes = 0
  private shardStart: string | undefined
  private open: Aggregation.Aggregate | undefined
  private openMembers: Array<Held<T>> = []
  private openBytes = 0

  constructor(
    readonly state: State<T>,
    /** With `ordered`: keys in flight, waiting for a retry, or already in this request take nothing more now. */
    readonly skip: Set<string> | undefined,
    readonly now: number
  ) {
    this.items = state.options.aggregation === undefined ? undefined : []
    this.sent = this.items ?? this.entries
  }

  takeLine({ bytes, line, records }: Candidate<T>): void {
    const { state } = this
    this.budgetRecords = records
    this.budgetBytes = bytes
    this.taken = 0
    this.takenBytes = 0
    // Aggregates only where the shard is known: a KCL drops a user record whose hash key is not in the range of
    // the shard that stored its aggregate.
    this.shardStart = state.options.aggregation !== undefined && this.skip === undefined && isPacked(state, line) ?
      state.shardStarts.get(line.shard) :
      undefined
    let closed = false
    if (line.retries.length > 0) {
      const left: Array<Held<T>> = []
      for (const held of line.retries) {
        if (!closed && held.readyAt <= this.now && !this.mustWait(held)) {
          if (this.consider(held)) continue
          closed = true
        }
        left.push(held)
      }
      line.retries = left
    }
    if (this.skip === undefined) {
      while (!closed && line.head < line.fresh.length) {
        const held = line.fresh[line.head]
        if (!this.consider(held)) break
        line.head++
        this.freshLeft(line, held)
      }
    } else if (!closed) this.takeOrdered(line)
    this.closeOpen()
  }

  private freshLeft(line: Line<T>, held: Held<T>): void {
    line.freshBytes -= held.size
    this.state.freshRecords--
    this.state.freshBytes -= held.size
  }

  /** May an entry of `size` bytes join the request? Its bounds and the line's budget; false closes the line. */
  private fits(size: number): boolean {
    const { limits } = this.state.options
    if (this.sent.length + (this.open === undefined ? 0 : 1) >= limits.maxBatchRecords) return false
    if (this.taken >= this.budgetRecords) return false
    if (this.sent.length > 0 && this.bytes + size > limits.maxBatchBytes) return false
    if (this.taken > 0 && this.takenBytes + size > this.budgetBytes) return false
    return true
  }

  /** May an entry already in the request grow by `growth` bytes? */
  private mayGrow(growth: number): boolean {
    return this.bytes + growth <= this.state.options.limits.maxBatchBytes &&
      this.takenBytes + growth <= this.budgetBytes
  }

  /** With `ordered`: must `held` wait for an earlier record of its key? A key skipped once stays skipped. */
  private mustWait(held: Held<T>): boolean {
    const skip = this.skip
    if (skip === undefined) return false
    const key = held.record.partitionKey
    if (skip.has(key) || this.state.keysInFlight.has(key)) {
      skip.add(key)
      return true
    }
    return false
  }

  private count(held: Held<T>): void {
    this.entries.push(held)
    if (this.skip !== undefined) {
      this.skip.add(held.record.partitionKey)
      countKey(this.state, held, 1)
    }
  }

  /** Adds a record as a plain entry of the request. */
  private addPlain(held: Held<T>): void {
    this.count(held)
    this.items?.push(held)
    this.bytes += held.size
    this.taken++
    this.takenBytes += held.size
  }

  private closeOpen(): void {
    const open = this.open
    if (open === undefined) return
    // A lone record goes as it is: the same bytes Kinesis counts, fewer for consumers to unpack.
    if (this.openMembers.length === 1) this.items!.push(this.openMembers[0])
    else {
      const data = Aggregation.encode(open)
      const record = {
        data,
        partitionKey: Aggregation.PARTITION_KEY,
        explicitHashKey: this.shardStart,
        size: this.openBytes
      }
      this.items!.push({ record, members: this.openMembers, size: this.openBytes })
    }
    this.open = undefined
    this.openMembers = []
  }

  /** Takes `held` into the request, plain or packed; false when it does not fit, which closes the line. */
  private consider(held: Held<T>): boolean {
    if (this.shardStart === undefined) {
      if (!this.fits(held.size)) return false
      this.addPlain(held)
      return true
    }
    const aggregation = this.state.options.aggregation!
    const open = this.open
    if (open !== undefined && this.openMembers.length < aggregation.maxRecords) {
      const grown = Aggregation.sizeWith(open, held.record) + AGGREGATE_KEY_BYTES
      if (grown <= aggregation.maxBytes) {
        if (!this.mayGrow(grown - this.openBytes)) return false
        Aggregation.add(open, held.record)
        this.openMembers.push(held)
        this.count(held)
        this.bytes += grown - this.openBytes
        this.takenBytes += grown - this.openBytes
        this.openBytes = grown
        return true
      }
    }
    this.closeOpen()
    const fresh = Aggregation.make()
    const alone = Aggregation.sizeWith(fresh, held.record) + AGGREGATE_KEY_BYTES
    // Too large to share: it goes as it is.
    if (alone > aggregation.maxBytes) {
      if (!this.fits(held.size)) return false
      this.addPlain(held)
      return true
    }
    if (!this.fits(alone)) return false
    // The aggregate counts as one entry of the request from now; it is encoded when it closes.
    Aggregation.add(fresh, held.record)
    this.open = fresh
    this.openMembers = [held]
    this.openBytes = alone
    this.count(held)
    this.bytes += alone
    this.taken++
    this.takenBytes += alone
    return true
  }

  // Fresh records of a line with `ordered`: records whose key must wait stay where they are, in order; the others
  // join the request until it or the line's budget is full, looking at most ORDERED_SCAN_LIMIT records ahead.
  private takeOrdered(line: Line<T>): void {
    const end = Math.min(line.fresh.length, line.head + ORDERED_SCAN_LIMIT)
    let kept: Array<Held<T>> | undefined
    let i = line.head
    for (; i < end; i++) {
      const held = line.fresh[i]
      if (this.mustWait(held)) {
        ;(kept ??= []).push(held)
        continue
      }
      if (!this.fits(held.size)) break
      this.addPlain(held)
      this.freshLeft(line, held)
    }
    if (kept === undefined) line.head = i
    else {
      // The records that waited go back ahead of the rest, in the order taken.
      const rest = line.fresh.slice(i)
      line.fresh = kept.concat(rest)
      line.head = 0
    }
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
