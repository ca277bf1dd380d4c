/**
 * `@shutterstock/kinesis-helpers` 1.0.15 as its README shows: the caller builds PutRecords batches of 500 and
 * gives them to a `KinesisBackgroundWriter` (`concurrency` in flight, `send` waits for a free slot), over a
 * `KinesisRetrier` that re-sends the failed records of a batch. The retrier's first delay is set to 100 ms, as
 * this library's default schedule starts, instead of its 2 s default, so both retry at the same pace; its
 * default of 5 retries stays.
 */
import { PutRecordsCommand, type PutRecordsRequestEntry } from "@aws-sdk/client-kinesis"
import { KinesisBackgroundWriter, KinesisBackgroundWriterError, KinesisRetrier } from "@shutterstock/kinesis-helpers"
import * as Clients from "../Clients.js"
import type { Job } from "../Job.js"
import type { Offer } from "../Offer.js"
import type { Writer } from "./Writer.js"

const MAX_BATCH = 500
const lingerMs = 100

export const prepare: Writer = async (job: Job) => {
  const client = Clients.v3(job)
  return {
    run: async (offer: Offer) => {
      const writer = new KinesisBackgroundWriter({
        concurrency: job.concurrency,
        kinesisClient: new KinesisRetrier({ kinesisClient: client, retryBaseDelayMS: 100 })
      })
      let batch: Array<PutRecordsRequestEntry> = []
      let since = 0
      const send = () => {
        const command = new PutRecordsCommand({ StreamName: job.stream, Records: batch })
        batch = []
        return writer.send(command)
      }
      for (let i = 0; offer.more(i); i++) {
        const paced = offer.pace(i)
        if (paced !== undefined) {
          await paced
          // At an offered rate the caller must also send short batches, or the last records would wait forever.
          if (batch.length > 0 && performance.now() - since >= lingerMs) await send()
        }
        if (batch.length === 0) since = performance.now()
        batch.push({ Data: offer.data(i), PartitionKey: offer.partitionKey(i) })
        if (batch.length === MAX_BATCH) await send()
      }
      if (batch.length > 0) await send()
      await writer.onIdle()
      // Failed records are listed one by one; a request that threw is one error for its whole batch.
      let reportedFailed = 0
      for (const error of writer.errors) reportedFailed += error instanceof KinesisBackgroundWriterError ? 1 : MAX_BATCH
      return { reportedFailed }
    },
    close: async () => client.destroy()
  }
}
