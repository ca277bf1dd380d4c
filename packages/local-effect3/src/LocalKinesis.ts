/**
 * An embedded Kinesis: kinesalite in-process on 127.0.0.1, in memory, with the streams you ask for, behind a
 * proxy that can enforce AWS's per-shard limits and inject faults, and the `Kinesis` service pointed at it; its
 * shards can be split and merged while it runs. For tests, demos and development without an AWS account. The
 * Effect service over `LocalServer` of `@effect-kinesis/local-server`.
 */
import type { KinesisClientConfig, Shard } from "@aws-sdk/client-kinesis"
import { LocalServer, type StoredRecord, StreamReader } from "@effect-kinesis/local-server"
import { Kinesis, type KinesisError, Retry } from "@effect-kinesis/writer-effect3"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { fromControls, KinesisProxy } from "./KinesisProxy.js"

/** The embedded Kinesis and what it can do besides the Kinesis API. */
export class LocalKinesis extends Context.Tag("@effect-kinesis/local-effect3/LocalKinesis")<
  LocalKinesis,
  LocalKinesis.Service
>() {
  /**
   * Starts kinesalite on 127.0.0.1 (a free port, in memory) behind a `KinesisProxy`, creates `streams` and waits
   * until they are active, then provides `Kinesis` pointed at the proxy (HTTP/1.1, dummy credentials) and the
   * proxy's controls. Both servers stop when the layer is released.
   */
  static readonly layer = (
    options: LocalKinesis.Options = {}
  ): Layer.Layer<LocalKinesis | Kinesis | KinesisProxy, KinesisError> =>
    Layer.scopedContext(
      Effect.gen(function*() {
        const local = yield* LocalKinesis.make(options)
        const kinesis = yield* Kinesis.make(local.clientConfig)
        return Context.make(LocalKinesis, local).pipe(
          Context.add(Kinesis, kinesis),
          Context.add(KinesisProxy, local.proxy)
        )
      })
    )

  /**
   * Starts the server and creates the streams in the current scope; closing the scope stops the server. Its clock
   * is `options.now`, else the Effect `Clock`; a nonsensical plan or limits are a defect.
   */
  static readonly make = (
    options: LocalKinesis.Options = {}
  ): Effect.Effect<LocalKinesis.Service, KinesisError, Scope.Scope> =>
    Effect.gen(function*() {
      const clock = yield* Effect.clock
      const now = options.now ?? (() => clock.unsafeCurrentTimeMillis())
      const server = yield* Effect.acquireRelease(
        // The streams are created below, so that a refusal is a `KinesisError` rather than a defect.
        Effect.promise(() => LocalServer.start({ ...options, streams: undefined, now })),
        (server) => Effect.promise(() => server.close())
      )
      const service = fromServer(server)
      for (const [name, shards] of Object.entries(options.streams ?? {})) yield* service.createStream(name, shards)
      return service
    })
}

/** Types of the `LocalKinesis` service. */
export declare namespace LocalKinesis {
  /** What to start: streams, port, limits, fault plan, seed and clock (`now`: the Effect `Clock` by default). */
  export type Options = LocalServer.Options

  /** The running embedded Kinesis. */
  export interface Service {
    /** `http://127.0.0.1:PORT`, the proxy: where clients connect. */
    readonly endpoint: string
    /** kinesalite itself, behind the proxy: no limits, no faults. */
    readonly kinesaliteEndpoint: string
    /** The proxy's controls: fault plan, limits, counters. */
    readonly proxy: KinesisProxy.Service
    /** The region its ARNs name. */
    readonly region: string
    /** A configuration for SDK clients of your own: endpoint, region and dummy credentials. */
    readonly clientConfig: KinesisClientConfig
    /** The ARN of a stream on this server. */
    readonly streamArn: (name: string) => string
    /** Creates a stream and waits until it is active. */
    readonly createStream: (name: string, shards: number) => Effect.Effect<void, KinesisError>
    /** The stream's shards, open and closed, in the order they were made (parents before their children). */
    readonly listShards: (name: string) => Effect.Effect<ReadonlyArray<Shard>, KinesisError>
    /**
     * Splits an open shard in two at `newStartingHashKey` (default: the middle of its range), waits until the stream
     * is active again, and has the proxy place records by the new shards at once. Gives the two children, the lower
     * range first.
     */
    readonly splitShard: (
      stream: string,
      shardId: string,
      newStartingHashKey?: string | undefined
    ) => Effect.Effect<readonly [Shard, Shard], KinesisError>
    /**
     * Merges two adjacent open shards (in either order) into one, waits until the stream is active again, and has
     * the proxy place records by the new shards at once. Gives the merged shard.
     */
    readonly mergeShards: (
      stream: string,
      shardId: string,
      adjacentShardId: string
    ) => Effect.Effect<Shard, KinesisError>
    /**
     * Every user record in the stream, shard by shard (closed parents before their children), each shard in order;
     * KPL aggregates are unpacked into their user records, as a KCL consumer sees them.
     */
    readonly readAll: (name: string) => Effect.Effect<ReadonlyArray<StoredRecord>, KinesisError>
    /** Every Kinesis record as stored, aggregates left packed, in the same order as `readAll`. */
    readonly readStored: (name: string) => Effect.Effect<ReadonlyArray<StoredRecord>, KinesisError>
  }
}

// A call of the server: a failed Kinesis call as a `KinesisError`; anything else (a broken invariant) is a defect.
const call = <A>(run: (signal: AbortSignal) => Promise<A>): Effect.Effect<A, KinesisError> =>
  Effect.tryPromise({ try: run, catch: (error) => error }).pipe(
    Effect.catchAll((error) =>
      error instanceof LocalServer.CallError || error instanceof StreamReader.ReadError ?
        Effect.fail(Retry.classify(error.operation, error.cause)) :
        Effect.die(error)
    )
  )

const fromServer = (server: LocalServer.LocalServer): LocalKinesis.Service => ({
  endpoint: server.endpoint,
  kinesaliteEndpoint: server.kinesaliteEndpoint,
  proxy: fromControls(server.proxy),
  region: server.region,
  clientConfig: server.clientConfig,
  streamArn: server.streamArn,
  createStream: (name, shards) => call(() => server.createStream(name, shards)),
  listShards: (name) => call(() => server.listShards(name)),
  splitShard: (stream, shardId, newStartingHashKey) =>
    call(() => server.splitShard(stream, shardId, newStartingHashKey)),
  mergeShards: (stream, shardId, adjacentShardId) => call(() => server.mergeShards(stream, shardId, adjacentShardId)),
  readAll: (name) => call((signal) => server.readAll(name, { signal })),
  readStored: (name) => call((signal) => server.readStored(name, { signal }))
})
