/**
 * A straight port of the small Python writer this project starts from: `enqueue` appends and, once 500 are
 * queued, flushes; `flush` sends one PutRecords of the first 500 and appends the failed entries back to the
 * queue; at the end, `while (flush()) sleep(250 ms)`. One request at a time, as the original. Where Python would
 * let a failed request raise, the port puts the whole batch back, so a bench run never crashes on it.
 */
import { type KinesisClient, PutRecordsCommand, type PutRecordsRequestEntry } from "@aws-sdk/client-kinesis"
import * as Clients from "../Clients.js"
import type { Job } from "../Job.js"
import type { Offer } from "../Offer.js"
import type { Writer } from "./Writer.js"

const MAX_BATCH = 500
const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms))

class NaiveWriter {
  private queue: Array<PutRecordsRequestEntry> = []

  constructor(private readonly client: KinesisClient, private readonly stream: string) {}

  async enqueue(data: Uint8Array, partitionKey: string): Promise<void> {
    this.queue.push({ Data: data, PartitionKey: partitionKey })
    if (this.queue.length >= MAX_BATCH) await this.flush()
  }

  /** Sends one batch; true while records are left. */
  async flush(): Promise<boolean> {
    if (this.queue.length === 0) return false
    const batch = this.queue.splice(0, MAX_BATCH)
    try {
      const response = await this.client.send(new PutRecordsCommand({ StreamName: this.stream, Records: batch }))
      const results = response.Records ?? []
      for (let i = 0; i < batch.length; i++) {
        if (results[i] === undefined || results[i].ErrorCode) this.queue.push(batch[i])
      }
    } catch {
      this.queue.push(...batch)
    }
    return this.queue.length > 0
  }
}

export const prepare: Writer = async (job: Job) => {
  const client = Clients.v3(job)
  return {
    run: async (offer: Offer) => {
      const writer = new NaiveWriter(client, job.stream)
      for (let i = 0; offer.more(i); i++) {
        const paced = offer.pace(i)
        if (paced !== undefined) await paced
        await writer.enqueue(offer.data(i), offer.partitionKey(i))
      }
      while (await writer.flush()) await sleep(250)
      return { reportedFailed: 0 }
    },
    close: async () => client.destroy()
  }
}
