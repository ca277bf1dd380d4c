/**
 * The baseline: the leanest honest PutRecords loop with the same SDK client (issue 18, item 1). The records' bytes
 * and keys are the offer's, prepared before the clock starts; 4 requests in flight, each of up to 500 records (or
 * 5 MiB) built straight from the offer's arrays when a request slot is free; the entries a response refuses (or a
 * whole request that failed) are merged into the next requests after 100 ms, ahead of fresh records; it never gives
 * up, so it never loses a record. It does no more: no linger (a request takes what has been offered, however few),
 * no buffer of its own, no validation, no shard map or pacing, no metrics, nothing per record beyond the SDK's entry.
 */
import { PutRecordsCommand, type PutRecordsRequestEntry } from "@aws-sdk/client-kinesis"
import * as Clients from "../Clients.js"
import type { Job } from "../Job.js"
import type { Offer } from "../Offer.js"
import type { Writer } from "./Writer.js"

const MAX_RECORDS = 500
const MAX_BYTES = 5 * 1024 * 1024
const IN_FLIGHT = 4
const RETRY_DELAY_MS = 100

export const prepare: Writer = async (job: Job) => {
  const client = Clients.v3(job)
  return {
    run: async (offer: Offer) => {
      let next = 0
      let offered = true
      let inFlight = 0
      // The offer's pace, while it holds the next record back: a slot with nothing else to send waits for it.
      let pacing: Promise<void> | undefined
      const refused: Array<{ readonly entries: Array<PutRecordsRequestEntry>; readonly at: number }> = []
      const waiters = new Set<() => void>()
      const wakeAll = () => {
        for (const resume of waiters) resume()
        waiters.clear()
      }
      const nap = (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = Number.isFinite(ms) ? setTimeout(done, ms) : undefined
          function done() {
            clearTimeout(timer)
            waiters.delete(done)
            resolve()
          }
          waiters.add(done)
        })

      // The next request: refused entries that are due first, then records from the offer, as many as fit.
      const request = (): Array<PutRecordsRequestEntry> => {
        const now = performance.now()
        let entries: Array<PutRecordsRequestEntry> = []
        let bytes = 0
        while (refused.length > 0 && refused[0].at <= now && entries.length < MAX_RECORDS) {
          const head = refused[0]
          const taken = head.entries.length <= MAX_RECORDS - entries.length ?
            refused.shift()!.entries :
            head.entries.splice(0, MAX_RECORDS - entries.length)
          entries = entries.length === 0 ? taken : entries.concat(taken)
          for (const entry of taken) bytes += entry.Data!.length + entry.PartitionKey!.length
        }
        while (entries.length < MAX_RECORDS && offered && pacing === undefined) {
          if (!offer.more(next)) {
            offered = false
            break
          }
          const key = offer.partitionKey(next)
          if (bytes + offer.recordBytes + key.length > MAX_BYTES) break
          const paced = offer.pace(next)
          if (paced !== undefined) {
            // Asked again once the wait is over: by then it lets the record go.
            pacing = paced.then(() => {
              pacing = undefined
            })
            break
          }
          entries.push({ Data: offer.data(next), PartitionKey: key })
          bytes += offer.recordBytes + key.length
          next++
        }
        return entries
      }

      const slot = async (): Promise<void> => {
        while (true) {
          const entries = request()
          if (entries.length === 0) {
            if (!offered && inFlight === 0 && refused.length === 0) return wakeAll()
            const due = refused.length > 0 ? Math.max(1, refused[0].at - performance.now()) : Infinity
            await (pacing ?? nap(due))
            continue
          }
          inFlight++
          try {
            const response = await client.send(new PutRecordsCommand({ StreamName: job.stream, Records: entries }))
            if ((response.FailedRecordCount ?? 0) > 0) {
              const results = response.Records ?? []
              refused.push({
                entries: entries.filter((_, i) => results[i] === undefined || results[i].ErrorCode !== undefined),
                at: performance.now() + RETRY_DELAY_MS
              })
            }
          } catch {
            refused.push({ entries, at: performance.now() + RETRY_DELAY_MS })
          }
          inFlight--
          wakeAll()
        }
      }

      await Promise.all(Array.from({ length: IN_FLIGHT }, slot))
      return { reportedFailed: 0 }
    },
    close: async () => client.destroy()
  }
}
