/**
 * @effect-kinesis/writer: a Kinesis Data Streams writer for Effect programs.
 */
export * as Accumulator from "./Accumulator.js"
export * as Aggregation from "./Aggregation.js"
export * as Batch from "./Batch.js"
export * from "./Errors.js"
export { Kinesis, type KinesisClientConfig } from "./Kinesis.js"
export { KinesisWriter } from "./KinesisWriter.js"
export * as Metrics from "./Metrics.js"
export * as RateLimit from "./RateLimit.js"
export * as Record from "./Record.js"
export * as Retry from "./Retry.js"
export * as ShardMap from "./ShardMap.js"
