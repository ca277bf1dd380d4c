/**
 * `aws-kinesis-writable` 4.3.0 (AWS SDK v2, a bunyan-style Writable): records written to the stream, sent 500 at
 * a time or after 100 ms. It has no concurrency setting (every full buffer is sent at once), so the shared
 * agent's `maxSockets` is what bounds it. It retries a request that fails as a whole, twice; records a response
 * marks as failed are not retried (its code never reads `FailedRecordCount`).
 */
import KinesisWritable from "aws-kinesis-writable"
import AWS from "aws-sdk"
import { once } from "node:events"
import * as Clients from "../Clients.js"
import type { Job } from "../Job.js"
import type { Offer } from "../Offer.js"
import type { Writer } from "./Writer.js"

export const prepare: Writer = async (job: Job) => {
  const kinesis = new AWS.Kinesis({
    endpoint: job.endpoint,
    region: job.region,
    credentials: new AWS.Credentials(Clients.credentials),
    maxRetries: 0,
    httpOptions: { agent: Clients.agent(job) }
  })
  return {
    run: async (offer: Offer) => {
      let key = 0
      const stream = new KinesisWritable({
        streamName: job.stream,
        kinesis,
        objectMode: true,
        // Its default key is Date.now(): every record of a millisecond on one shard. The offer's keys, as the others.
        partitionKey: () => offer.partitionKey(key++),
        buffer: { length: 500, timeout: 0.1 }
      })
      let reportedFailed = 0
      stream.on("error", (error: Error & { records?: Array<unknown> }) => {
        reportedFailed += error.records?.length ?? 0
      })
      // It signals no end of sending: count the batches it dispatches until each one's callback has run.
      let pending = 0
      let check = () => {}
      const dispatch = stream.dispatch.bind(stream)
      stream.dispatch = (records, callback) => {
        pending++
        dispatch(records, (error) => {
          pending--
          callback?.(error)
          check()
        })
      }
      for (let i = 0; offer.more(i); i++) {
        const paced = offer.pace(i)
        if (paced !== undefined) await paced
        // Its input is JSON text (it parses strings); the payload is a JSON string literal, sent back byte for byte.
        if (!stream.write(offer.payload(i))) await once(stream, "drain")
      }
      stream.end()
      await new Promise<void>((resolve) => {
        check = () => {
          if (pending === 0 && stream.recordsQueue.length === 0) resolve()
        }
        check()
      })
      return { reportedFailed }
    },
    close: async () => {}
  }
}
