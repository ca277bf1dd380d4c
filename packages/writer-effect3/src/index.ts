/**
 * @effect-kinesis/writer: a Kinesis Data Streams writer for Effect programs.
 */
export * as Aggregation from "./Aggregation.js"
export * from "./Errors.js"
export { Kinesis, type KinesisClientConfig } from "./Kinesis.js"
export { KinesisWriter } from "./KinesisWriter.js"
export * as Metrics from "./Metrics.js"
export * as Retry from "./Retry.js"
