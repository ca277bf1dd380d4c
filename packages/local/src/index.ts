/**
 * @effect-kinesis/local: an embedded Kinesis for tests, demos and development.
 */
export { KinesisProxy } from "./KinesisProxy.js"
export { LocalKinesis } from "./LocalKinesis.js"
export * as StreamReader from "./StreamReader.js"
export type { StoredRecord } from "./StreamReader.js"
