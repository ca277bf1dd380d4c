/**
 * The producer side of a run, the same for every writer: the records, the pace they are offered at, and the
 * memory probe. Each writer's own loop calls `pace(i)` before offering record i.
 */
import * as v8 from "node:v8"
import { payload } from "./Payload.js"

/** What a writer's producer loop offers, and how fast. */
export interface Offer {
  readonly records: number
  readonly recordBytes: number
  /** The data of record `index`. */
  readonly payload: (index: number) => string
  /** The partition key the writers that need one from their caller use: distinct keys spread over all shards. */
  readonly partitionKey: (index: number) => string
  /**
   * Called before record `index` is offered: undefined to go on at once, or a promise to wait for when the
   * producer is ahead of the offered rate. Every 1,024 records it samples memory, so a writer whose intake never
   * yields to the event loop still has its peak seen.
   */
  readonly pace: (index: number) => Promise<void> | undefined
}

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

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

/** The offer of a run: as fast as the writer takes records, or at `ratePerSecond`, from the first `pace` call on. */
export const make = (records: number, recordBytes: number, ratePerSecond: number | undefined, probe: Probe): Offer => {
  let start = 0
  // Pacing in steps of about 10 ms of records keeps timer overhead out of the measurement.
  const step = ratePerSecond === undefined ? 1024 : Math.max(1, Math.floor(ratePerSecond / 100))
  return {
    records,
    recordBytes,
    payload: (index) => payload(index, recordBytes),
    partitionKey: (index) => `k${index}`,
    pace: (index) => {
      if (index === 0) start = performance.now()
      if ((index & 1023) === 0) probe.sample()
      if (ratePerSecond === undefined || index % step !== 0) return undefined
      const wait = start + (index / ratePerSecond) * 1000 - performance.now()
      return wait > 1 ? sleep(wait) : undefined
    }
  }
}
