/**
 * A Kinesis-protocol proxy on 127.0.0.1 that makes a polite emulator (kinesalite) fail the way AWS does: it
 * places each record on its shard, refuses records beyond each shard's write limits with
 * `ProvisionedThroughputExceededException`, and injects the faults of a plan that tests change while running
 * (failed records, 500s, AWS errors, delays, hangs, and connection resets before or after the records are stored).
 */
import { checkPlan } from "./internal/faults.js"
import { checkLimits as checkLimitsInternal, defaultShardLimits } from "./internal/limits.js"
import * as internal from "./internal/proxy.js"
import type * as Types from "./internal/types.js"

/** What to start. */
export type Options = Types.Options
/** Write limits of each shard of a stream. */
export type ShardLimits = Types.ShardLimits
/** Write limits of every stream, and of some streams in particular. */
export type Limits = Types.Limits
/** How often a request fault happens: a fraction of the requests (0 to 1), or a fraction for a number of times. */
export type Chance = Types.Chance
/** The per-record error codes Kinesis gives in a PutRecords response. */
export type RecordErrorCode = Types.RecordErrorCode
/** A whole request answered with an AWS error, such as `AccessDeniedException` (400) or `InternalFailure` (500). */
export type ErrorFault = Types.ErrorFault
/** A wait before the request goes on (to be forwarded, or to meet another fault). */
export type DelayFault = Types.DelayFault
/** Records failed by their position in each PutRecords request. */
export type IndexFault = Types.IndexFault
/** The faults to inject: record faults, at most one request fault per request, and a delay before it. */
export type FaultPlan = Types.FaultPlan
/** What one shard took and refused during one second. */
export type ShardSecond = Types.ShardSecond
/** What the proxy has seen and done since it started, or since `resetCounters`. */
export type Counters = Types.Counters
/** The controls of a running proxy: its fault plan, limits, counters and shard maps, changed while it runs. */
export type Controls = Types.Controls

/** A running proxy: its controls, its port, and `close` to stop it. */
export interface ProxyServer extends Types.Running {}

/**
 * Starts the proxy on 127.0.0.1 in front of `options.target`, on `options.now` (default `Date.now`); rejects a
 * nonsensical plan or limits, naming each problem, before starting anything.
 */
export const start = (options: Options): Promise<ProxyServer> => internal.start(options)

/** The default per-shard limits of Kinesis: 1,000 records and 1 MiB per second, one second of burst. */
export const defaultLimits: Required<ShardLimits> = defaultShardLimits

/** Checks a fault plan: every problem, one sentence each; empty when the plan is sound. */
export const checkFaults = (plan: FaultPlan): ReadonlyArray<string> => checkPlan(plan)

/** Checks limits: every problem, one sentence each; empty when they are sound. */
export const checkLimits = (limits: boolean | Limits): ReadonlyArray<string> => checkLimitsInternal(limits)
