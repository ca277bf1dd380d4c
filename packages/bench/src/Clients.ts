/**
 * The one set of client settings every writer gets: HTTP/1.1 over plain http, keep-alive, the same number of
 * sockets, one attempt per call (each writer retries in its own way, and the SDK's retries would blur that).
 */
import { KinesisClient } from "@aws-sdk/client-kinesis"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import * as http from "node:http"
import type { Job } from "./Job.js"

/** Dummy credentials: the embedded Kinesis checks none. */
export const credentials = { accessKeyId: "local", secretAccessKey: "local" }

/** The keep-alive agent with the run's socket count, for SDK v3 and v2 alike. */
export const agent = (job: Job): http.Agent => new http.Agent({ keepAlive: true, maxSockets: job.maxSockets })

/** An SDK v3 client with the shared settings. */
export const v3 = (job: Job): KinesisClient =>
  new KinesisClient({
    endpoint: job.endpoint,
    region: job.region,
    credentials,
    maxAttempts: 1,
    requestHandler: new NodeHttpHandler({ httpAgent: agent(job) })
  })
