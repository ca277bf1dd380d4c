/**
 * @effect-kinesis/core: every decision of the Kinesis writer, without a runtime. Records, batches and their
 * settlement, the accumulator (the writer's state machine), shard maps, pacing, KPL aggregation, faults, options.
 */
export * as Accumulator from "./Accumulator.js"
export * as Aggregation from "./Aggregation.js"
export * as Batch from "./Batch.js"
export * as Failing from "./Failing.js"
export * as Fault from "./Fault.js"
export * as Hash from "./Hash.js"
export * as RateLimit from "./RateLimit.js"
export * as Record from "./Record.js"
export * as Settings from "./Settings.js"
export * as ShardMap from "./ShardMap.js"
export * as Stats from "./Stats.js"
export * as Telemetry from "./Telemetry.js"
export * as Units from "./Units.js"
