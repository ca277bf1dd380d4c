/**
 * The types of the proxy, apart from its public module, so that the proxy's internals can use them and the public
 * module can re-export them without an import cycle.
 */

/** What to start. */
export interface Options {
  /** The Kinesis endpoint to forward to, such as kinesalite's `http://127.0.0.1:PORT`. */
  readonly target: string
  /** Per-shard write limits: `true` for AWS's, an object to set them, `false` or omitted for none. */
  readonly limits?: boolean | Limits | undefined
  /** The fault plan to start with (none by default). */
  readonly faults?: FaultPlan | undefined
  /** The seed of the fault plan's random draws, when the plan does not give one (default 1). */
  readonly seed?: number | undefined
  /** The port to listen on; 0 (the default) picks a free one. */
  readonly port?: number | undefined
  /** The account id in ARNs and error messages (default `000000000000`). */
  readonly account?: string | undefined
  /** The region in ARNs and error messages (default `us-east-1`). */
  readonly region?: string | undefined
  /** The clock of the limits and per-second counters, in milliseconds (default `Date.now`). */
  readonly now?: (() => number) | undefined
}

/** Write limits of each shard of a stream. */
export interface ShardLimits {
  /** Records per second a shard takes (AWS: 1,000). */
  readonly recordsPerSecond?: number | undefined
  /** Bytes (data + partition key) per second a shard takes (AWS: 1 MiB). */
  readonly bytesPerSecond?: number | undefined
  /** How many seconds of unused capacity a shard may save up and spend at once (AWS-like: 1). */
  readonly burstSeconds?: number | undefined
}

/** Write limits of every stream, and of some streams in particular. */
export interface Limits extends ShardLimits {
  /** Limits of particular streams, by name, over the defaults above; `false` leaves a stream unlimited. */
  readonly streams?: Readonly<Record<string, ShardLimits | false>> | undefined
}

/** How often a request fault happens: a fraction of the requests (0 to 1), or a fraction for a number of times. */
export type Chance = number | {
  /** The fraction of candidate requests (1 by default). */
  readonly rate?: number | undefined
  /** At most this many times in all, then no more (unbounded by default). */
  readonly times?: number | undefined
}

/** The per-record error codes Kinesis gives in a PutRecords response. */
export type RecordErrorCode = "ProvisionedThroughputExceededException" | "InternalFailure"

/** A whole request answered with an AWS error, such as `AccessDeniedException` (400) or `InternalFailure` (500). */
export interface ErrorFault {
  /** The error type, sent as `__type` and in the `x-amzn-ErrorType` header. */
  readonly type: string
  /** The HTTP status (400 by default). */
  readonly status?: number | undefined
  /** The message (by default, the one AWS gives for well-known types). */
  readonly message?: string | undefined
  /** The fraction of candidate requests (1 by default). */
  readonly rate?: number | undefined
  /** At most this many times in all (unbounded by default). */
  readonly times?: number | undefined
}

/** A wait before the request goes on (to be forwarded, or to meet another fault). */
export interface DelayFault {
  /** How long, in milliseconds of real time. */
  readonly millis: number
  /** The fraction of candidate requests (1 by default). */
  readonly rate?: number | undefined
  /** At most this many times in all (unbounded by default). */
  readonly times?: number | undefined
}

/** Records failed by their position in each PutRecords request. */
export interface IndexFault {
  /** Positions (from 0) of the records to fail in each request. */
  readonly indexes: ReadonlyArray<number>
  /** The error code (`InternalFailure` by default). */
  readonly code?: RecordErrorCode | undefined
  /** At most this many requests (unbounded by default). */
  readonly times?: number | undefined
}

/**
 * The faults to inject. Record faults apply to each record of a PutRecords request (and to PutRecord); at most
 * one request fault (`serverError`, `error`, `hang`, `resetBeforeForward`, `resetAfterForward`) happens per
 * request, so their rates add up to at most 1; a `delay` may come before any of them.
 */
export interface FaultPlan {
  /** Fraction of records refused with `ProvisionedThroughputExceededException`. */
  readonly throttle?: number | undefined
  /** Fraction of records failed with `InternalFailure`. */
  readonly internalFailure?: number | undefined
  /** Records failed by position. */
  readonly failIndexes?: IndexFault | undefined
  /** Requests answered 500 `InternalFailure`. */
  readonly serverError?: Chance | undefined
  /** Requests answered with an AWS error of a given type. */
  readonly error?: ErrorFault | undefined
  /** Requests never answered: the client's timeout has to fire. Nothing is stored. */
  readonly hang?: Chance | undefined
  /** Requests delayed before they go on; a request whose client left meanwhile is dropped, not stored. */
  readonly delay?: DelayFault | undefined
  /** Requests whose connection is destroyed before they are forwarded: nothing is stored. */
  readonly resetBeforeForward?: Chance | undefined
  /** Requests whose connection is destroyed after the records are stored: the client never hears. */
  readonly resetAfterForward?: Chance | undefined
  /** Operations the request faults apply to (default: `PutRecords` and `PutRecord`). */
  readonly operations?: ReadonlyArray<string> | undefined
  /** Streams the plan applies to (default: all). */
  readonly streams?: ReadonlyArray<string> | undefined
  /** The seed of the random draws; setting a plan with a seed starts its sequence again. */
  readonly seed?: number | undefined
}

/** What one shard took and refused during one second. */
export interface ShardSecond {
  readonly stream: string
  readonly shardId: string
  /** Whole seconds since the epoch, on the proxy's clock. */
  readonly second: number
  /** Records stored. */
  readonly accepted: number
  /** Bytes (data + partition keys) of the records stored. */
  readonly acceptedBytes: number
  /** Records refused because the shard was over its limits. */
  readonly throttled: number
  /** Records failed by the fault plan. */
  readonly faulted: number
}

/** What the proxy has seen and done since it started, or since `resetCounters`. */
export interface Counters {
  /** Requests received, by operation (`PutRecords`, `GetRecords`, ...). */
  readonly requests: Readonly<Record<string, number>>
  /** Records in PutRecords and PutRecord requests. */
  readonly records: {
    /** Records received. */
    readonly offered: number
    /** Records stored (forwarded and answered by the target). */
    readonly stored: number
    /** Records refused by the limits. */
    readonly throttled: number
    /** Records failed by the fault plan's record faults. */
    readonly faulted: number
    /** Records stored whose answer never reached the client (a reset after forwarding, or the client left). */
    readonly unanswered: number
  }
  /** Faults injected, by kind: `throttle`, `internalFailure`, `failIndexes` (records), and request faults. */
  readonly faults: {
    readonly throttle: number
    readonly internalFailure: number
    readonly failIndexes: number
    readonly serverError: number
    readonly error: number
    readonly hang: number
    readonly delay: number
    readonly resetBeforeForward: number
    readonly resetAfterForward: number
  }
  /** Connections destroyed by the plan (both kinds of reset). */
  readonly resets: number
  /** Requests dropped because their client left during a delay. */
  readonly abandoned: number
  /** Per shard and second: records stored, throttled and faulted. Ordered by second, stream, shard. */
  readonly shards: ReadonlyArray<ShardSecond>
}

/** The controls of a running proxy: its fault plan, limits, counters and shard maps, changed while it runs. */
export interface Controls {
  /** `http://127.0.0.1:PORT`: point Kinesis clients here. */
  readonly endpoint: string
  /** The fault plan in force. */
  readonly faults: () => FaultPlan
  /** Replaces the fault plan (an empty plan injects nothing); throws on a nonsensical plan, naming each problem. */
  readonly setFaults: (plan: FaultPlan) => void
  /** Runs `run` with `plan` in force, then puts back the plan that was in force before, however `run` ends. */
  readonly withFaults: <A>(plan: FaultPlan, run: () => Promise<A>) => Promise<A>
  /** The limits in force. */
  readonly limits: () => boolean | Limits
  /**
   * Replaces the limits (`true`: AWS's, `false`: none); every shard starts again with a full bucket; throws on
   * nonsensical limits, naming each problem.
   */
  readonly setLimits: (limits: boolean | Limits) => void
  /** A snapshot of the counters. */
  readonly counters: () => Counters
  /** Sets every counter back to zero. */
  readonly resetCounters: () => void
  /**
   * Reads `stream`'s shards again, once the stream is no longer being created or reshaped, so that records go by its
   * open shards from now on, each with a budget of its own; for reshapings that did not pass through the proxy.
   */
  readonly refreshShards: (stream: string) => Promise<void>
}

/** A running proxy: its controls, its port, and how to stop it. */
export interface Running extends Controls {
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number
  /** Stops it: hanging and delayed requests end, requests already with the target finish (at most 5 s). */
  readonly close: () => Promise<void>
}
