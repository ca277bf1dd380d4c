/**
 * @effect-kinesis/local: an embedded Kinesis for tests, demos and development.
 */
export { KinesisProxy } from "./KinesisProxy.js"
export { LocalKinesis, type StoredRecord } from "./LocalKinesis.js"
