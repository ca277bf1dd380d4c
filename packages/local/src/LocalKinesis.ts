/**
 * An embedded Kinesis: kinesalite in-process on 127.0.0.1, in memory, with the streams you ask for, behind a
 * proxy that can enforce AWS's per-shard limits and inject faults, and the `Kinesis` service pointed at it.
 * For tests, demos and development without an AWS account.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  GetRecordsCommand,
  GetShardIteratorCommand,
  type KinesisClient,
  type KinesisClientConfig,
  ListShardsCommand,
  type Shard
} from "@aws-sdk/client-kinesis"
import { Kinesis, type KinesisError } from "@effect-kinesis/writer"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import * as Schedule from "effect/Schedule"
import type * as Scope from "effect/Scope"
import type { AddressInfo } from "node:net"
import kinesalite from "kinesalite"
import { KinesisProxy } from "./KinesisProxy.js"

/** A record read back from a stream. */
export interface StoredRecord {
  readonly shardId: string
  readonly sequenceNumber: string
  readonly partitionKey: string
  readonly data: Uint8Array
}

/** The embedded Kinesis and what it can do besides the Kinesis API. */
export class LocalKinesis extends Context.Tag("@effect-kinesis/local/LocalKinesis")<LocalKinesis, LocalKinesis.Service>() {
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
  static readonly make = (options: LocalKinesis.Options = {}): Effect.Effect<LocalKinesis.Service, KinesisError, Scope.Scope> =>
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
    /** The stream's shards. */
    readonly listShards: (name: string) => Effect.Effect<ReadonlyArray<Shard>, KinesisError>
    /** Every record in the stream, shard by shard, each shard in order. */
    readonly readAll: (name: string) => Effect.Effect<ReadonlyArray<StoredRecord>, KinesisError>
  }
}

const localRegion = "us-east-1"
const localAccount = "000000000000"

const startServer = (port: number): Effect.Effect<number, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.async<ReturnType<typeof kinesalite>>((resume) => {
      const server = kinesalite({ createStreamMs: 0, deleteStreamMs: 0, updateStreamMs: 0, shardLimit: 10_000 })
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

  const readShard = (client: KinesisClient, name: string, shardId: string, abortSignal: AbortSignal) =>
    (async () => {
      const records: Array<StoredRecord> = []
      let iterator = (await client.send(
        new GetShardIteratorCommand({ StreamName: name, ShardId: shardId, ShardIteratorType: "TRIM_HORIZON" }),
        { abortSignal }
      )).ShardIterator
      while (iterator !== undefined) {
        const page = await client.send(new GetRecordsCommand({ ShardIterator: iterator, Limit: 10_000 }), { abortSignal })
        for (const record of page.Records ?? []) {
          records.push({
            shardId,
            sequenceNumber: record.SequenceNumber!,
            partitionKey: record.PartitionKey!,
            data: record.Data ?? new Uint8Array()
          })
        }
        // A shard is read to its end once a page comes back empty with nothing behind.
        if ((page.Records ?? []).length === 0 && (page.MillisBehindLatest ?? 0) === 0) break
        iterator = page.NextShardIterator
      }
      return records
    })()

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
        const status = admin.send("DescribeStreamSummary", (client, abortSignal) =>
          client.send(new DescribeStreamSummaryCommand({ StreamName: name }), { abortSignal }))
        yield* status.pipe(
          Effect.map((summary) => summary.StreamDescriptionSummary?.StreamStatus),
          Effect.repeat({ until: (state) => state === "ACTIVE", schedule: Schedule.spaced("10 millis") }),
          Effect.asVoid
        )
      }),
    listShards,
    readAll: (name) =>
      Effect.gen(function*() {
        const shards = yield* listShards(name)
        const perShard = yield* Effect.forEach(
          shards,
          (shard) => admin.send("GetRecords", (client, signal) => readShard(client, name, shard.ShardId!, signal)),
          { concurrency: 4 }
        )
        return perShard.flat()
      })
  }
}
