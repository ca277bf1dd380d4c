/**
 * The CPU cost of the pure core alone, no I/O: each message through `Record.tryEncode` (what the writer calls: a
 * 100-byte string, a default
 * partition key made as the writer makes it), then the encoded records cut into PutRecords batches with
 * `Batch.cut` (which steps `Batch.take`). Records per second on one core, the process's only work.
 */
import { Batch, InvalidRecord, Record } from "@effect-kinesis/writer"
import { payload } from "./Payload.js"
import { profiled } from "./Profile.js"

/** What one measurement found. */
export interface CoreMeasured {
  readonly records: number
  readonly elapsedMs: number
  readonly recordsPerSecond: number
  /** Batches cut, as a check that the work was done. */
  readonly batches: number
}

const CHUNK = 10_000

/** Encodes and batches `records` messages of `bytes` bytes, after a warm-up, and times it. */
export const measure = async (records: number, bytes: number, profile?: string): Promise<CoreMeasured> => {
  // Distinct messages, made before timing: producing them is the caller's cost, not the core's.
  const messages = Array.from({ length: CHUNK }, (_, i) => payload(i, bytes).normalize())
  const limits: Batch.Limits = {
    maxBatchRecords: Batch.MAX_BATCH_RECORDS,
    maxBatchBytes: Batch.DEFAULT_MAX_BATCH_BYTES
  }
  const prefix = `${Math.floor(Math.random() * 0xffffffff).toString(36)}-`
  let counter = 0
  // The writer's own default key: a random prefix and a counter in base 36.
  const randomKey = () => prefix + (counter++).toString(36)
  const encoded: Array<Record.Encoded> = new Array(CHUNK)
  const round = (count: number): number => {
    let batches = 0
    for (let done = 0; done < count; done += CHUNK) {
      const n = Math.min(CHUNK, count - done)
      encoded.length = n
      for (let i = 0; i < n; i++) {
        const result = Record.tryEncode(messages[i], undefined, randomKey, Record.DEFAULT_MAX_RECORD_BYTES)
        if (result instanceof InvalidRecord) throw result
        encoded[i] = result
      }
      batches += Batch.cut(encoded, limits).length
    }
    return batches
  }
  round(Math.min(records, 200_000))
  const start = performance.now()
  const batches = await profiled(profile, async () => round(records))
  const elapsedMs = performance.now() - start
  return { records, elapsedMs, recordsPerSecond: records / (elapsedMs / 1000), batches }
}
