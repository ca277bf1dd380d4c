/**
 * A Kinesis-protocol proxy on 127.0.0.1 that makes a polite emulator (kinesalite) fail the way AWS does: it
 * places each record on its shard, refuses records beyond each shard's write limits with
 * `ProvisionedThroughputExceededException`, and injects the faults of a plan that tests change while running
 * (failed records, 500s, AWS errors, delays, hangs, and connection resets before or after the records are stored).
 * The Effect service over `ProxyServer` of `@effect-kinesis/local-server`.
 */
import { ProxyServer } from "@effect-kinesis/local-server"
import * as Clock from "effect/Clock"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"

/** The proxy in front of a Kinesis endpoint, and the handle to change its fault plan and limits while it runs. */
export class KinesisProxy extends Context.Service<KinesisProxy, KinesisProxy.Service>()(
  "@effect-kinesis/local/KinesisProxy"
) {
  /**
   * Starts the proxy on 127.0.0.1 in front of `options.target`, in the current scope; closing the scope stops it.
   * Its clock is `options.now`, else the Effect `Clock`; a nonsensical plan or limits are a defect.
   */
  static readonly make = (options: KinesisProxy.Options): Effect.Effect<KinesisProxy.Service, never, Scope.Scope> =>
    Effect.flatMap(Clock.Clock, (clock) =>
      Effect.acquireRelease(
        Effect.promise(() =>
          ProxyServer.start({ ...options, now: options.now ?? (() => clock.currentTimeMillisUnsafe()) })
        ),
        (server) => Effect.promise(() => server.close())
      )).pipe(Effect.map(fromControls))

  /** The proxy as a layer; releasing the layer stops it. */
  static readonly layer = (options: KinesisProxy.Options): Layer.Layer<KinesisProxy> =>
    Layer.effect(KinesisProxy, KinesisProxy.make(options))

  /** The default per-shard limits of Kinesis: 1,000 records and 1 MiB per second, one second of burst. */
  static readonly defaultLimits: Required<KinesisProxy.ShardLimits> = ProxyServer.defaultLimits

  /** Checks a fault plan: every problem, one sentence each; empty when the plan is sound. */
  static readonly checkFaults = (plan: KinesisProxy.FaultPlan): ReadonlyArray<string> => ProxyServer.checkFaults(plan)
}

/** The service over a running proxy's controls; a nonsensical plan or limits given to them are a defect. */
export const fromControls = (controls: ProxyServer.Controls): KinesisProxy.Service => ({
  endpoint: controls.endpoint,
  faults: Effect.sync(() => controls.faults()),
  setFaults: (plan) => Effect.sync(() => controls.setFaults(plan)),
  withFaults: (plan) => (effect) =>
    Effect.acquireUseRelease(
      Effect.sync(() => {
        const previous = controls.faults()
        controls.setFaults(plan)
        return previous
      }),
      () => effect,
      (previous) => Effect.sync(() => controls.setFaults(previous))
    ),
  setLimits: (limits) => Effect.sync(() => controls.setLimits(limits)),
  counters: Effect.sync(() => controls.counters()),
  resetCounters: Effect.sync(() => controls.resetCounters()),
  refreshShards: (stream) => Effect.promise(() => controls.refreshShards(stream))
})

/** Types of the `KinesisProxy` service. */
export declare namespace KinesisProxy {
  /** What to start; `now` defaults to the Effect `Clock` here. */
  export type Options = ProxyServer.Options
  /** Write limits of each shard of a stream. */
  export type ShardLimits = ProxyServer.ShardLimits
  /** Write limits of every stream, and of some streams in particular. */
  export type Limits = ProxyServer.Limits
  /** How often a request fault happens: a fraction of the requests (0 to 1), or a fraction for a number of times. */
  export type Chance = ProxyServer.Chance
  /** The per-record error codes Kinesis gives in a PutRecords response. */
  export type RecordErrorCode = ProxyServer.RecordErrorCode
  /** A whole request answered with an AWS error, such as `AccessDeniedException` (400) or `InternalFailure` (500). */
  export type ErrorFault = ProxyServer.ErrorFault
  /** A wait before the request goes on (to be forwarded, or to meet another fault). */
  export type DelayFault = ProxyServer.DelayFault
  /** Records failed by their position in each PutRecords request. */
  export type IndexFault = ProxyServer.IndexFault
  /** The faults to inject: record faults, at most one request fault per request, and a delay before it. */
  export type FaultPlan = ProxyServer.FaultPlan
  /** What one shard took and refused during one second. */
  export type ShardSecond = ProxyServer.ShardSecond
  /** What the proxy has seen and done since it started, or since `resetCounters`. */
  export type Counters = ProxyServer.Counters

  /** The running proxy. */
  export interface Service {
    /** `http://127.0.0.1:PORT`: point Kinesis clients here. */
    readonly endpoint: string
    /** The fault plan in force. */
    readonly faults: Effect.Effect<FaultPlan>
    /** Replaces the fault plan (an empty plan injects nothing); a nonsensical plan is a defect. */
    readonly setFaults: (plan: FaultPlan) => Effect.Effect<void>
    /** Runs `effect` with `plan` in force, then puts back the plan that was in force before. */
    readonly withFaults: (plan: FaultPlan) => <A, E, R>(effect: Effect.Effect<A, E, R>) => Effect.Effect<A, E, R>
    /** Replaces the limits (`true`: AWS's, `false`: none); every shard starts again with a full bucket. */
    readonly setLimits: (limits: boolean | Limits) => Effect.Effect<void>
    /** A snapshot of the counters. */
    readonly counters: Effect.Effect<Counters>
    /** Sets every counter back to zero. */
    readonly resetCounters: Effect.Effect<void>
    /**
     * Reads `stream`'s shards again, once the stream is no longer being created or reshaped, so that records go by
     * its open shards from now on, each with a budget of its own; for reshapings that did not pass through the proxy.
     */
    readonly refreshShards: (stream: string) => Effect.Effect<void>
  }
}
