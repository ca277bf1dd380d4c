/**
 * The `Kinesis` service: the AWS SDK client as an Effect service, with every error classified.
 *
 * Who retries what: the writer does. `Kinesis.layer` builds its client with `maxAttempts: 1` unless the
 * configuration says otherwise, so that the SDK's retries and the writer's `Schedule` never multiply; a client
 * given to `Kinesis.fromClient` keeps the retry settings it was built with.
 *
 * An answer that is not Kinesis's (a 404 page, a proxy's 502, an empty body) fails with code `NotKinesis`, naming
 * its status, content type, endpoint and first characters: the service adds one middleware to the client (once,
 * a client given to it included) that keeps the body and endpoint of such answers, and of no other.
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
import { Fault } from "@effect-kinesis/core"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import * as Context from "effect/Context"
import * as Effect from "effect/Effect"
import * as Layer from "effect/Layer"
import type * as Scope from "effect/Scope"
import { KinesisError } from "./Errors.js"
import { classify } from "./Retry.js"

export type { KinesisClientConfig } from "@aws-sdk/client-kinesis"

// What the transport kept of the answers that are not Kinesis's, by response: the SDK's error holds the response,
// but not its body (a stream it has read) nor where the request went, which a `NotKinesis` error quotes.
const seenAnswers = new WeakMap<object, Fault.Seen>()

// Kinesis answers in JSON or CBOR under these types, errors included: only other answers are kept.
const isKinesisContentType = (headers: unknown): boolean => {
  const type = typeof headers === "object" && headers !== null ?
    Object.entries(headers).find(([key]) => key.toLowerCase() === "content-type")?.[1] :
    undefined
  return typeof type === "string" && /^\s*application\/x-amz-(json|cbor)-/i.test(type)
}

const readAll = async (body: AsyncIterable<unknown>): Promise<Uint8Array> => {
  const chunks: Array<Uint8Array> = []
  for await (const chunk of body) {
    chunks.push(typeof chunk === "string" ? new TextEncoder().encode(chunk) : chunk as Uint8Array)
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks)
}

interface RawRequest {
  readonly protocol?: string | undefined
  readonly hostname?: string | undefined
  readonly port?: number | undefined
  readonly path?: string | undefined
}

const endpointOf = (request: RawRequest): string =>
  `${request.protocol ?? "https:"}//${request.hostname ?? ""}${request.port === undefined ? "" : `:${request.port}`}${
    request.path ?? "/"
  }`

// Sits between the SDK's deserializer and the network: reads the body of an answer that is not Kinesis's, gives
// the deserializer the same bytes, and keeps them with the endpoint for the error. Kinesis's answers pass untouched.
const keepForeignAnswers = <Args extends { readonly request: unknown }, Result extends { readonly response: unknown }>(
  next: (args: Args) => Promise<Result>
) =>
async (args: Args): Promise<Result> => {
  const result = await next(args)
  const response = result.response as { headers?: unknown; body?: unknown } | undefined
  if (typeof response !== "object" || response === null || isKinesisContentType(response.headers)) return result
  const body = response.body
  const kept = typeof body === "string" || body instanceof Uint8Array ?
    body :
    typeof body === "object" && body !== null && Symbol.asyncIterator in body ?
    await readAll(body as AsyncIterable<unknown>) :
    undefined
  if (kept !== undefined) response.body = kept
  seenAnswers.set(response, { endpoint: endpointOf(args.request as RawRequest), body: kept })
  return result
}

const keepForeignAnswersName = "@effect-kinesis/writer-effect3: keep answers that are not Kinesis's"

// Once per client (`override` replaces the same middleware); a stand-in without a middleware stack is left alone.
const installKeepForeignAnswers = (client: KinesisClient): void => {
  const stack = (client as { readonly middlewareStack?: KinesisClient["middlewareStack"] }).middlewareStack
  stack?.add(keepForeignAnswers, {
    step: "deserialize",
    priority: "low",
    name: keepForeignAnswersName,
    override: true
  })
}

// A failure of the SDK as a `KinesisError`; an answer that is not Kinesis's quotes what `keepForeignAnswers` kept.
const failure = (operation: string, error: unknown): KinesisError => {
  const response = typeof error === "object" && error !== null
    ? (error as { $response?: unknown }).$response
    : undefined
  const seen = typeof response === "object" && response !== null ? seenAnswers.get(response) : undefined
  return seen === undefined ? classify(operation, error) : new KinesisError(Fault.classify(operation, error, seen))
}

const fromSdkClient = (client: KinesisClient): Kinesis.Service => {
  installKeepForeignAnswers(client)
  const send = <A>(operation: string, call: (client: KinesisClient, signal: AbortSignal) => Promise<A>) =>
    Effect.tryPromise({ try: (signal) => call(client, signal), catch: (error) => failure(operation, error) })
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
