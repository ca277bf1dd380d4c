/**
 * An embedded Kinesis: kinesalite in-process on 127.0.0.1, in memory, with the streams you ask for, behind a
 * proxy that can enforce AWS's per-shard limits and inject faults, and the `Kinesis` service pointed at it; its
 * shards can be split and merged while it runs. For tests, demos and development without an AWS account.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  type KinesisClientConfig,
  ListShardsCommand,
  MergeShardsCommand,
  type Shard,
  SplitShardCommand
} from "@aws-sdk/client-kinesis"
import { Kinesis, KinesisError, Retry } from "@effect-kinesis/writer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import kinesalite from "kinesalite"
import type { AddressInfo } from "node:net"
import { KinesisProxy } from "./KinesisProxy.js"
import * as StreamReader from "./StreamReader.js"
import type { StoredRecord } from "./StreamReader.js"

/** The embedded Kinesis and what it can do besides the Kinesis API. */
export class LocalKinesis extends Context.Tag("@effect-kinesis/local/LocalKinesis")<
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

  /** Starts the server and creates the streams in the current scope; closing the scope stops the server. */
  static readonly make = (
    options: LocalKinesis.Options = {}
  ): Effect.Effect<LocalKinesis.Service, KinesisError, Scope.Scope> =>
    Effect.gen(function*() {
      const port = yield* startServer(0)
      const kinesaliteEndpoint = `http://127.0.0.1:${port}`
      const proxy = yield* KinesisProxy.make({
        target: kinesaliteEndpoint,
        limits: options.limits,
        faults: options.faults,
        seed: options.seed,
        now: options.now,
        port: options.port,
        account: localAccount,
        region: localRegion
      })
      const credentials = { accessKeyId: "local", secretAccessKey: "local" }
      const clientConfig: KinesisClientConfig = { endpoint: proxy.endpoint, region: localRegion, credentials }
      // Set-up and reading back go straight to kinesalite, so that no fault plan or limit gets in their way.
      const admin = yield* Kinesis.make({ endpoint: kinesaliteEndpoint, region: localRegion, credentials })
      const service = makeService(proxy, kinesaliteEndpoint, clientConfig, admin)
      for (const [name, shards] of Object.entries(options.streams ?? {})) yield* service.createStream(name, shards)
      return service
    })
}

/** Types of the `LocalKinesis` service. */
export declare namespace LocalKinesis {
  /** What to start. */
  export interface Options {
    /** Streams to create, by name, with their shard counts. */
    readonly streams?: Readonly<Record<string, number>> | undefined
    /** The port clients connect to (the proxy's); 0 (the default) picks a free one. */
    readonly port?: number | undefined
    /**
     * Per-shard write limits, enforced by the proxy: `true` for AWS's (1,000 records and 1 MiB per second, one
     * second of burst), an object to set them, `false` or omitted (the default) for none.
     */
    readonly limits?: boolean | KinesisProxy.Limits | undefined
    /** The fault plan the proxy starts with (none by default); change it while running through `proxy`. */
    readonly faults?: KinesisProxy.FaultPlan | undefined
    /** The seed of the fault plan's random draws (default 1). */
    readonly seed?: number | undefined
    /** The clock of the limits, in milliseconds (default: the Effect `Clock` of the fiber that builds it). */
    readonly now?: (() => number) | undefined
  }

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

const localRegion = "us-east-1"
const localAccount = "000000000000"

const startServer = (port: number): Effect.Effect<number, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<ReturnType<typeof kinesalite>>((resume) => {
      const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 10_000 })
      // The proxy keeps its connections to kinesalite alive; a server that closed an idle one (Node's default, after
      // 5 s) could close it just as the proxy reused it, and the request would fail with a reset.
      server.keepAliveTimeout = 10 * 60 * 1000
      server.headersTimeout = server.keepAliveTimeout + 1000
      server.once("error", (error) => resume(Effect.die(error)))
      server.listen(port, "127.0.0.1", () => resume(Effect.succeed(server)))
    }),
    (server) =>
      Effect.async<void>((resume) => {
        // Keep-alive connections would hold close() open until they time out.
        server.closeAllConnections()
        server.close(() => resume(Effect.void))
      })
  ).pipe(Effect.map((server) => (server.address() as AddressInfo).port))

// Refused before reaching kinesalite, as AWS would refuse it.
const refused = (operation: string, code: string, detail: string) =>
  new KinesisError({ operation, code, detail, retriable: false, statusCode: 400 })

const compareHashKeys = (a: Shard, b: Shard): number => {
  const difference = BigInt(a.HashKeyRange!.StartingHashKey!) - BigInt(b.HashKeyRange!.StartingHashKey!)
  return difference < 0n ? -1 : difference > 0n ? 1 : 0
}

const makeService = (
  proxy: KinesisProxy.Service,
  kinesaliteEndpoint: string,
  clientConfig: KinesisClientConfig,
  admin: Kinesis.Service
): LocalKinesis.Service => {
  const listShards = (name: string) =>
    admin.send("ListShards", async (client, abortSignal) => {
      const shards: Array<Shard> = []
      let next: string | undefined
      do {
        const page = await client.send(
          new ListShardsCommand(next === undefined ? { StreamName: name } : { NextToken: next }),
          { abortSignal }
        )
        shards.push(...(page.Shards ?? []))
        next = page.NextToken
      } while (next !== undefined)
      return shards
    })

  // Reading back goes straight to kinesalite, through the stream reader.
  const read = (name: string, unpack: boolean) =>
    Effect.tryPromise({
      try: (signal) => StreamReader.readAll(admin.client, name, { unpack, signal }),
      catch: (error) =>
        error instanceof StreamReader.ReadError ?
          Retry.classify(error.operation, error.cause) :
          Retry.classify("GetRecords", error)
    })

  const untilActive = (name: string) =>
    admin.send(
      "DescribeStreamSummary",
      (client, abortSignal) => client.send(new DescribeStreamSummaryCommand({ StreamName: name }), { abortSignal })
    ).pipe(
      Effect.map((summary) => summary.StreamDescriptionSummary?.StreamStatus),
      Effect.repeat({ until: (state) => state === "ACTIVE", schedule: Schedule.spaced("10 millis") }),
      Effect.asVoid
    )

  // A shard to split or merge: one of the stream's, still open, with its hash key range.
  const openShard = (
    operation: "SplitShard" | "MergeShards",
    stream: string,
    shards: ReadonlyArray<Shard>,
    shardId: string
  ) => {
    const shard = shards.find((shard) => shard.ShardId === shardId)
    const where = `in stream ${stream} under account ${localAccount}`
    if (shard === undefined) {
      return Effect.fail(refused(operation, "ResourceNotFoundException", `Could not find shard ${shardId} ${where}.`))
    }
    if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) {
      const detail = `Shard ${shardId} ${where} has already been merged or split, and thus is not eligible for ` +
        (operation === "SplitShard" ? "splitting." : "merging.")
      return Effect.fail(refused(operation, "InvalidArgumentException", detail))
    }
    return Effect.succeed({
      shard,
      start: BigInt(shard.HashKeyRange!.StartingHashKey!),
      end: BigInt(shard.HashKeyRange!.EndingHashKey!)
    })
  }

  // After a reshaping: the stream active again, and the proxy placing records by its new open shards.
  const reshaped = (stream: string) => Effect.zipRight(untilActive(stream), proxy.refreshShards(stream))

  return {
    endpoint: proxy.endpoint,
    kinesaliteEndpoint,
    proxy,
    region: localRegion,
    clientConfig,
    streamArn: (name) => `arn:aws:kinesis:${localRegion}:${localAccount}:stream/${name}`,
    createStream: (name, shards) =>
      Effect.gen(function*() {
        yield* admin.send("CreateStream", (client, abortSignal) =>
          client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards }), { abortSignal }))
        yield* untilActive(name)
      }),
    listShards,
    splitShard: (stream, shardId, newStartingHashKey) =>
      Effect.gen(function*() {
        const { end, start } = yield* openShard("SplitShard", stream, yield* listShards(stream), shardId)
        const key = newStartingHashKey ?? ((start + end + 1n) / 2n).toString()
        yield* admin.send("SplitShard", (client, abortSignal) =>
          client.send(
            new SplitShardCommand({ StreamName: stream, ShardToSplit: shardId, NewStartingHashKey: key }),
            { abortSignal }
          ))
        yield* reshaped(stream)
        const children = (yield* listShards(stream))
          .filter((shard) => shard.ParentShardId === shardId && shard.AdjacentParentShardId === undefined)
          .sort(compareHashKeys)
        if (children.length !== 2) return yield* Effect.dieMessage(`${shardId} was split into ${children.length}`)
        return [children[0], children[1]] as const
      }),
    mergeShards: (stream, shardId, adjacentShardId) =>
      Effect.gen(function*() {
        const shards = yield* listShards(stream)
        const one = yield* openShard("MergeShards", stream, shards, shardId)
        const other = yield* openShard("MergeShards", stream, shards, adjacentShardId)
        // kinesalite takes the lower range first; AWS takes either order, and so does this.
        const [lower, upper] = one.start < other.start ? [one.shard, other.shard] : [other.shard, one.shard]
        yield* admin.send("MergeShards", (client, abortSignal) =>
          client.send(
            new MergeShardsCommand({
              StreamName: stream,
              ShardToMerge: lower.ShardId!,
              AdjacentShardToMerge: upper.ShardId!
            }),
            { abortSignal }
          ))
        yield* reshaped(stream)
        const merged = (yield* listShards(stream)).find((shard) =>
          shard.ParentShardId === lower.ShardId && shard.AdjacentParentShardId === upper.ShardId
        )
        if (merged === undefined) return yield* Effect.dieMessage(`${lower.ShardId} and ${upper.ShardId} not merged`)
        return merged
      }),
    readStored: (name) => read(name, false),
    readAll: (name) => read(name, true)
  }
}
