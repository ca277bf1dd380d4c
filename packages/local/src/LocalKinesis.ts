/**
 * An embedded Kinesis: kinesalite in-process on 127.0.0.1, in memory, with the streams you ask for, and the
 * `Kinesis` service pointed at it. For tests, demos and development without an AWS account.
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
   * Starts kinesalite on 127.0.0.1 (a free port, in memory), creates `streams` and waits until they are active,
   * then provides `Kinesis` pointed at it (HTTP/1.1, dummy credentials). The server stops when the layer is released.
   */
  static readonly layer = (options: LocalKinesis.Options = {}): Layer.Layer<LocalKinesis | Kinesis, KinesisError> =>
    Layer.scopedContext(
      Effect.gen(function*() {
        const local = yield* LocalKinesis.make(options)
        const kinesis = yield* Kinesis.make(local.clientConfig)
        translateStreamArn(kinesis.client)
        return Context.make(LocalKinesis, local).pipe(Context.add(Kinesis, kinesis))
      })
    )

  /** Starts the server and creates the streams in the current scope; closing the scope stops the server. */
  static readonly make = (options: LocalKinesis.Options = {}): Effect.Effect<LocalKinesis.Service, KinesisError, Scope.Scope> =>
    Effect.gen(function*() {
      const port = yield* startServer(options.port ?? 0)
      const endpoint = `http://127.0.0.1:${port}`
      const clientConfig: KinesisClientConfig = {
        endpoint,
        region: localRegion,
        credentials: { accessKeyId: "local", secretAccessKey: "local" }
      }
      const admin = yield* Kinesis.make(clientConfig)
      const service = makeService(endpoint, clientConfig, admin)
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
    /** The port to listen on; 0 (the default) picks a free one. */
    readonly port?: number | undefined
  }

  /** The running embedded Kinesis. */
  export interface Service {
    /** `http://127.0.0.1:PORT`. */
    readonly endpoint: string
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

/**
 * kinesalite knows streams by name only: move a `StreamARN` to `StreamName` before the request is built,
 * so that writers given ARNs (as users do) work against it.
 */
export const translateStreamArn = (client: KinesisClient): void => {
  client.middlewareStack.add(
    (next) => (args) => {
      const input = args.input as { StreamARN?: string; StreamName?: string }
      if (typeof input.StreamARN === "string") {
        const { StreamARN, ...rest } = input
        return next({ ...args, input: { ...rest, StreamName: StreamARN.slice(StreamARN.lastIndexOf("/") + 1) } })
      }
      return next(args)
    },
    { step: "initialize", name: "effectKinesisLocalStreamArn", override: true }
  )
}

const makeService = (endpoint: string, clientConfig: KinesisClientConfig, admin: Kinesis.Service): LocalKinesis.Service => {
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
    endpoint,
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
