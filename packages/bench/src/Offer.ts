/**
 * The producer side of a run, the same for every writer: the records, the pace they are offered at, and the
 * memory probe. Each writer's own loop offers record i while `more(i)`, calling `pace(i)` before it.
 */
import * as v8 from "node:v8"
import { payload } from "./Payload.js"

/** What a writer's producer loop offers, and how fast. */
export interface Offer {
  /** The most records offered; fewer when the offer's time runs out first. */
  readonly records: number
  readonly recordBytes: number
  /** The bytes of record `index`, prepared before the clock starts (a view of one buffer shared by all). */
  readonly data: (index: number) => Uint8Array
  /** The same record as text (a JSON string literal): for a writer whose input is JSON text. */
  readonly payload: (index: number) => string
  /**
   * The partition key of record `index`, prepared before the clock starts: distinct keys spread over all shards,
   * except the hot key's share of the records. Every writer is given them.
   */
  readonly partitionKey: (index: number) => string
  /** Whether record `index` is offered: within `records`, and before the offer's time ran out. */
  readonly more: (index: number) => boolean
  /** Records offered so far. */
  readonly offered: () => number
  /**
   * Called before record `index` is offered: undefined to go on at once, or a promise to wait for when the
   * producer is ahead of the offered rate. Every 1,024 records it samples memory, so a writer whose intake never
   * yields to the event loop still has its peak seen.
   */
  readonly pace: (index: number) => Promise<void> | undefined
  /**
   * CPU time of this process when the record at the middle of the offer was offered: what the second half of the
   * run costs, once the writer's code is compiled and warm. Undefined until then.
   */
  readonly halfwayCpu: () => NodeJS.CpuUsage | undefined
  /** Wall-clock time (epoch ms) the first record was offered, and the last; 0 until then. */
  readonly window: () => { readonly from: number; readonly until: number }
}

/** How a run numbers and keys its records. */
export interface Keys {
  /** The number of the first record. */
  readonly firstIndex: number
  /** Share of the records on the one hot key. */
  readonly hotKeyShare: number
  /** Offer for this long at most, ms from the first record. */
  readonly offerMs?: number | undefined
}

/** The partition key every hot record has. */
export const HOT_KEY = "hot"

/**
 * Peak heap, sampled from a timer and from the producer loop; peak RSS is the kernel's own high-water mark, read
 * once at the end. "Heap" counts the JS heap in use and the memory outside it that V8 is told about: record bytes
 * (a Uint8Array over 64 bytes) live there, not in the heap. `v8.getHeapStatistics` costs a microsecond or two;
 * `process.memoryUsage` costs a hundred times more under load, which would tax every writer's CPU figure.
 */
export class Probe {
  peakHeap = 0
  private timer: NodeJS.Timeout | undefined

  sample(): void {
    const stats = v8.getHeapStatistics()
    const heap = stats.used_heap_size + stats.external_memory
    if (heap > this.peakHeap) this.peakHeap = heap
  }

  start(): void {
    this.sample()
    this.timer = setInterval(() => this.sample(), 10)
    this.timer.unref()
  }

  stop(): void {
    clearInterval(this.timer)
    this.sample()
  }
}

const utf8 = new TextEncoder()

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** Whether record `index` is on the hot key: spread evenly, `share` of any run of records. */
export const isHot = (index: number, share: number): boolean =>
  share > 0 && Math.floor((index + 1) * share) > Math.floor(index * share)

/**
 * The offer of a run: as fast as the writer takes records, or at `ratePerSecond`, from the first `pace` call on.
 * Every record's bytes and key are made here, before the clock starts: making them is the caller's work, not the
 * writer's, and every writer is given the same.
 */
export const make = (
  records: number,
  recordBytes: number,
  ratePerSecond: number | undefined,
  probe: Probe,
  keys: Keys = { firstIndex: 0, hotKeyShare: 0 }
): Offer => {
  let start = 0
  let from = 0
  let until = 0
  let offered = 0
  let halfwayCpu: NodeJS.CpuUsage | undefined
  const halfway = Math.floor(records / 2)
  const first = keys.firstIndex
  const offerMs = keys.offerMs ?? Infinity
  // Pacing in steps of about 10 ms of records keeps timer overhead out of the measurement.
  const step = ratePerSecond === undefined ? 1024 : Math.max(1, Math.floor(ratePerSecond / 100))
  const slab = new Uint8Array(records * recordBytes)
  const data = new Array<Uint8Array>(records)
  const partitionKeys = new Array<string>(records)
  for (let i = 0; i < records; i++) {
    const view = slab.subarray(i * recordBytes, (i + 1) * recordBytes)
    utf8.encodeInto(payload(first + i, recordBytes), view)
    data[i] = view
    partitionKeys[i] = isHot(first + i, keys.hotKeyShare) ? HOT_KEY : `k${first + i}`
  }
  return {
    records,
    recordBytes,
    data: (index) => data[index],
    payload: (index) => payload(first + index, recordBytes),
    partitionKey: (index) => partitionKeys[index],
    window: () => ({ from, until }),
    halfwayCpu: () => halfwayCpu,
    offered: () => offered,
    more: (index) => {
      if (index >= records) return false
      if (index > 0 && performance.now() - start >= offerMs) {
        // The offer ends when its time is up: the window with it, whenever the writer took its last record.
        if (until === 0) until = Math.min(Date.now(), from + offerMs)
        return false
      }
      offered = index + 1
      return true
    },
    pace: (index) => {
      if (index === 0) {
        start = performance.now()
        from = Date.now()
      }
      // Called once the writer took every record before it: the last one is offered now (within one pacing step).
      if (index === records - 1) until = Date.now()
      if ((index & 1023) === 0) probe.sample()
      if (index === halfway) halfwayCpu = process.cpuUsage()
      if (ratePerSecond === undefined || index % step !== 0) return undefined
      const wait = start + (index / ratePerSecond) * 1000 - performance.now()
      return wait > 1 ? sleep(wait) : undefined
    }
  }
}
