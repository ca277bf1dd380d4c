/**
 * The `Kinesis` service: the AWS SDK client as an Effect service, with every error classified.
 *
 * Who retries what: the writer does. `Kinesis.layer` builds its client with `maxAttempts: 1` unless the
 * configuration says otherwise, so that the SDK's retries and the writer's `Schedule` never multiply; a client
 * given to `Kinesis.fromClient` keeps the retry settings it was built with.
 */
import {
  KinesisClient,
  type KinesisClientConfig,
  ListShardsCommand,
  type ListShardsCommandInput,
  type ListShardsCommandOutput,
  PutRecordsCommand,
  type PutRecordsCommandInput,
  type PutRecordsCommandOutput
} from "@aws-sdk/client-kinesis"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import type { KinesisError } from "./Errors.js"
import { classify } from "./Retry.js"

export type { KinesisClientConfig } from "@aws-sdk/client-kinesis"

const fromSdkClient = (client: KinesisClient): Kinesis.Service => {
  const send = <A>(operation: string, call: (client: KinesisClient, signal: AbortSignal) => Promise<A>) =>
    Effect.tryPromise({ try: (signal) => call(client, signal), catch: (error) => classify(operation, error) })
  return {
    client,
    send,
    putRecords: (input) =>
      send("PutRecords", (client, abortSignal) => client.send(new PutRecordsCommand(input), { abortSignal })),
    listShards: (input) =>
      send("ListShards", (client, abortSignal) => client.send(new ListShardsCommand(input), { abortSignal }))
  }
}

const isPlainHttp = (endpoint: KinesisClientConfig["endpoint"]): boolean => {
  if (typeof endpoint === "string") return endpoint.startsWith("http://")
  if (typeof endpoint === "object" && endpoint !== null && "protocol" in endpoint) {
    return endpoint.protocol === "http:" || endpoint.protocol === "http"
  }
  return false
}

/** The client configuration `Kinesis.layer` uses: one SDK attempt, and HTTP/1.1 for a plain-http endpoint. */
export const clientConfig = (config: KinesisClientConfig = {}): KinesisClientConfig => ({
  maxAttempts: 1,
  // The SDK's default handler speaks HTTP/2, which plain-http emulators (ours, LocalStack, kinesis-mock) reject.
  ...(config.requestHandler === undefined && isPlainHttp(config.endpoint) ?
    { requestHandler: new NodeHttpHandler() } :
    {}),
  ...config
})

const make = (config?: KinesisClientConfig): Effect.Effect<Kinesis.Service, never, Scope.Scope> =>
  Effect.acquireRelease(
    Effect.sync(() => new KinesisClient(clientConfig(config))),
    (client) => Effect.sync(() => client.destroy())
  ).pipe(Effect.map(fromSdkClient))

/** The Kinesis API as an Effect service: the SDK client, and its calls with errors classified. */
export class Kinesis extends Context.Tag("@effect-kinesis/writer-effect3/Kinesis")<Kinesis, Kinesis.Service>() {
  /** Builds an SDK client from `config` (one attempt per call, HTTP/1.1 for `http://`), destroyed on release. */
  static readonly layer = (config?: KinesisClientConfig): Layer.Layer<Kinesis> => Layer.scoped(Kinesis, make(config))

  /** Uses a client built elsewhere, as it is; the caller destroys it. */
  static readonly fromClient = (client: KinesisClient): Layer.Layer<Kinesis> =>
    Layer.succeed(Kinesis, fromSdkClient(client))

  /** The service over a client built elsewhere, for wrapping (tests, proxies, instrumentation). */
  static readonly fromSdkClient = fromSdkClient

  /** Builds the service and its client in a scope, which destroys the client when it closes. */
  static readonly make = make
}

/** Types of the `Kinesis` service. */
export declare namespace Kinesis {
  /** What the writer needs of Kinesis; wrap it to observe or change calls. */
  export interface Service {
    /** The SDK client the calls go through. */
    readonly client: KinesisClient
    /** Calls the SDK; interruption aborts the request; a failure becomes a classified `KinesisError`. */
    readonly send: <A>(
      operation: string,
      call: (client: KinesisClient, signal: AbortSignal) => Promise<A>
    ) => Effect.Effect<A, KinesisError>
    /** One PutRecords request. */
    readonly putRecords: (input: PutRecordsCommandInput) => Effect.Effect<PutRecordsCommandOutput, KinesisError>
    /**
     * One ListShards request. Optional, so that services written before it still compile: without it,
     * `ShardMap.load` goes through `send`.
     */
    readonly listShards?:
      | ((input: ListShardsCommandInput) => Effect.Effect<ListShardsCommandOutput, KinesisError>)
      | undefined
  }
}
