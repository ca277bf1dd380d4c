/**
 * The ceiling: a hand-written PutRecords loop with the SDK and nothing else. Batches of up to 500, `concurrency`
 * requests at once, failed entries re-sent ahead of fresh ones after a short pause; it never gives up, so it
 * never loses a record. A batch goes out when it is full, when the producer is done, or when its oldest record
 * has waited `lingerMs` (only an offered rate lets a batch stay short).
 */
import { PutRecordsCommand, type PutRecordsRequestEntry } from "@aws-sdk/client-kinesis"
import * as Clients from "../Clients.js"
import type { Job } from "../Job.js"
import type { Offer } from "../Offer.js"
import type { Writer } from "./Writer.js"

const MAX_BATCH = 500
// Bounded like the writer's default buffer, so the ceiling is not bought with memory.
const MAX_QUEUED = 10_000
const lingerMs = 100
const retryDelayMs = 100

interface Entry {
  readonly entry: PutRecordsRequestEntry
  readonly since: number
}

const utf8 = new TextEncoder()

export const prepare: Writer = async (job: Job) => {
  const client = Clients.v3(job)
  return {
    run: async (offer: Offer) => {
      let fresh: Array<Entry> = []
      let freshHead = 0
      const retries: Array<{ readonly entries: Array<Entry>; readonly at: number }> = []
      let produced = false
      let inFlight = 0
      const waiting = new Set<() => void>()
      let room: (() => void) | undefined
      const signal = () => {
        for (const resume of waiting) resume()
        waiting.clear()
      }
      const waitForWork = (ms: number) =>
        new Promise<void>((resolve) => {
          const timer = ms === Infinity ? undefined : setTimeout(done, ms)
          function done() {
            clearTimeout(timer)
            waiting.delete(done)
            resolve()
          }
          waiting.add(done)
        })

      const take = (): Array<PutRecordsRequestEntry> | number => {
        const now = performance.now()
        const batch: Array<PutRecordsRequestEntry> = []
        while (retries.length > 0 && retries[0].at <= now && batch.length < MAX_BATCH) {
          const head = retries[0]
          while (head.entries.length > 0 && batch.length < MAX_BATCH) batch.push(head.entries.shift()!.entry)
          if (head.entries.length === 0) retries.shift()
        }
        const queued = fresh.length - freshHead
        if (batch.length === 0 && queued < MAX_BATCH && !produced) {
          // A short batch waits for more records, up to the linger of its oldest one or the next retry.
          const oldest = queued > 0 ? fresh[freshHead].since + lingerMs - now : Infinity
          const retry = retries.length > 0 ? retries[0].at - now : Infinity
          const wait = Math.min(oldest, retry)
          if (wait > 0) return wait
        }
        while (freshHead < fresh.length && batch.length < MAX_BATCH) batch.push(fresh[freshHead++].entry)
        if (freshHead === fresh.length) {
          fresh = []
          freshHead = 0
        } else if (freshHead > 4096) {
          fresh = fresh.slice(freshHead)
          freshHead = 0
        }
        if (fresh.length - freshHead < MAX_QUEUED && room !== undefined) {
          const resume = room
          room = undefined
          resume()
        }
        if (batch.length > 0) return batch
        return retries.length > 0 ? Math.max(1, retries[0].at - now) : Infinity
      }

      const worker = async () => {
        while (true) {
          const batch = take()
          if (typeof batch === "number") {
            if (produced && inFlight === 0 && retries.length === 0 && fresh.length === freshHead) return signal()
            await waitForWork(batch)
            continue
          }
          inFlight++
          let failed: Array<Entry> = []
          try {
            const response = await client.send(new PutRecordsCommand({ StreamName: job.stream, Records: batch }))
            const results = response.Records ?? []
            for (let i = 0; i < batch.length; i++) {
              if (results[i] === undefined || results[i].ErrorCode) failed.push({ entry: batch[i], since: 0 })
            }
          } catch {
            failed = batch.map((entry) => ({ entry, since: 0 }))
          }
          inFlight--
          if (failed.length > 0) retries.push({ entries: failed, at: performance.now() + retryDelayMs })
          signal()
        }
      }

      const workers = Array.from({ length: job.concurrency }, worker)
      for (let i = 0; offer.more(i); i++) {
        const paced = offer.pace(i)
        if (paced !== undefined) await paced
        fresh.push({
          entry: { Data: utf8.encode(offer.payload(i)), PartitionKey: offer.partitionKey(i) },
          since: performance.now()
        })
        const queued = fresh.length - freshHead
        if (queued === MAX_BATCH) signal()
        if (queued >= MAX_QUEUED) await new Promise<void>((resolve) => (room = resolve))
      }
      produced = true
      signal()
      await Promise.all(workers)
      return { reportedFailed: 0 }
    },
    close: async () => client.destroy()
  }
}
