/**
 * @effect-kinesis/local: an embedded Kinesis for tests, demos and development, as Effect services over
 * `@effect-kinesis/local-server`.
 */
export { type StoredRecord, StreamReader } from "@effect-kinesis/local-server"
export { KinesisProxy } from "./KinesisProxy.js"
export { LocalKinesis } from "./LocalKinesis.js"
