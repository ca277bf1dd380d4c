/**
 * The embedded Kinesis for a test: started, with an SDK client through its proxy, and both stopped when the test
 * ends, however it ends.
 */
import {
  KinesisClient,
  type KinesisClientConfig,
  PutRecordsCommand,
  type PutRecordsRequestEntry
} from "@aws-sdk/client-kinesis"
import { Fault } from "@effect-kinesis/core"
import { LocalServer } from "@effect-kinesis/local-server"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import { onTestFinished } from "vitest"

/** A client as the writer builds one: one attempt per call (no SDK retries), HTTP/1.1; destroyed when the test ends. */
export const clientOf = (config: KinesisClientConfig): KinesisClient => {
  const client = new KinesisClient({ ...config, maxAttempts: 1, requestHandler: new NodeHttpHandler() })
  onTestFinished(() => client.destroy())
  return client
}

/** Starts the embedded Kinesis for this test, with a client through its proxy; both stop when the test ends. */
export const startLocal = async (options: LocalServer.Options = {}) => {
  const server = await LocalServer.start(options)
  onTestFinished(() => server.close())
  return { server, client: clientOf(server.clientConfig) }
}

/** One PutRecords request. */
export const putRecords = (client: KinesisClient, stream: string, records: Array<PutRecordsRequestEntry>) =>
  client.send(new PutRecordsCommand({ StreamName: stream, Records: records }))

/** The call's failure, classified as the writer classifies it (code, status, retriable); a success fails the test. */
export const failure = async (operation: string, call: Promise<unknown>): Promise<Fault.Fault> => {
  try {
    await call
  } catch (error) {
    return Fault.classify(operation, error)
  }
  throw new Error(`${operation} succeeded; a failure was expected`)
}

/** A clock the test moves by hand, so that token buckets fill exactly as the test says. */
export const manualClock = () => {
  let time = 1_000_000
  return { now: () => time, advance: (millis: number) => void (time += millis) }
}
