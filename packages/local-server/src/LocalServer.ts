/**
 * An embedded Kinesis: kinesalite in-process on 127.0.0.1, in memory, with the streams you ask for, behind a proxy
 * that can enforce AWS's per-shard limits and inject faults; its shards can be split and merged while it runs. For
 * tests, demos and development without an AWS account. Plain Node, promises, no `effect`.
 */
import { KinesisClient, type KinesisClientConfig, type Shard } from "@aws-sdk/client-kinesis"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import * as Admin from "./internal/admin.js"
import * as Kinesalite from "./internal/kinesalite.js"
import * as Proxy from "./internal/proxy.js"
import type * as Types from "./internal/types.js"
import type { StoredRecord } from "./StreamReader.js"

export { CallError } from "./internal/admin.js"

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
  readonly limits?: boolean | Types.Limits | undefined
  /** The fault plan the proxy starts with (none by default); change it while running through `proxy`. */
  readonly faults?: Types.FaultPlan | undefined
  /** The seed of the fault plan's random draws (default 1). */
  readonly seed?: number | undefined
  /** The clock of the limits and per-second counters, in milliseconds (default `Date.now`). */
  readonly now?: (() => number) | undefined
}

/** How to read a stream back. */
export interface ReadOptions {
  /** Stops reading: the requests under way are aborted. */
  readonly signal?: AbortSignal | undefined
}

/** The running embedded Kinesis. */
export interface LocalServer {
  /** `http://127.0.0.1:PORT`, the proxy: where clients connect. */
  readonly endpoint: string
  /** kinesalite itself, behind the proxy: no limits, no faults. */
  readonly kinesaliteEndpoint: string
  /** The proxy's controls: fault plan, limits, counters. */
  readonly proxy: Types.Controls
  /** The region its ARNs name. */
  readonly region: string
  /**
   * A configuration for SDK clients of your own: endpoint, region and dummy credentials. Add a
   * `requestHandler: new NodeHttpHandler()` (HTTP/1.1): the SDK's default speaks HTTP/2, which the server does not.
   */
  readonly clientConfig: KinesisClientConfig
  /** The ARN of a stream on this server. */
  readonly streamArn: (name: string) => string
  /** Creates a stream and waits until it is active; a failed call rejects with a `CallError`. */
  readonly createStream: (name: string, shards: number) => Promise<void>
  /** The stream's shards, open and closed, in the order they were made (parents before their children). */
  readonly listShards: (name: string) => Promise<ReadonlyArray<Shard>>
  /**
   * Splits an open shard in two at `newStartingHashKey` (default: the middle of its range), waits until the stream
   * is active again, and has the proxy place records by the new shards at once. Gives the two children, the lower
   * range first. A shard that is not there, or no longer open, is refused as AWS refuses it.
   */
  readonly splitShard: (
    stream: string,
    shardId: string,
    newStartingHashKey?: string | undefined
  ) => Promise<readonly [Shard, Shard]>
  /**
   * Merges two adjacent open shards (in either order) into one, waits until the stream is active again, and has
   * the proxy place records by the new shards at once. Gives the merged shard.
   */
  readonly mergeShards: (stream: string, shardId: string, adjacentShardId: string) => Promise<Shard>
  /**
   * Every user record in the stream, shard by shard (closed parents before their children), each shard in order;
   * KPL aggregates are unpacked into their user records, as a KCL consumer sees them. A failed call rejects with a
   * `StreamReader.ReadError`.
   */
  readonly readAll: (name: string, options?: ReadOptions) => Promise<ReadonlyArray<StoredRecord>>
  /** Every Kinesis record as stored, aggregates left packed, in the same order as `readAll`. */
  readonly readStored: (name: string, options?: ReadOptions) => Promise<ReadonlyArray<StoredRecord>>
  /** Stops the proxy and kinesalite; what it held is gone. */
  readonly close: () => Promise<void>
}

const region = "us-east-1"
const account = "000000000000"

/**
 * Starts kinesalite on 127.0.0.1 (a free port, in memory) behind the proxy, creates `streams` and waits until they
 * are active. Rejects a nonsensical fault plan or limits (naming each problem) before starting anything; whatever
 * started is stopped again when a later step fails.
 */
export const start = async (options: Options = {}): Promise<LocalServer> => {
  Proxy.assertPlan(options.faults ?? {})
  Proxy.assertLimits(options.limits ?? false)
  const stops: Array<() => Promise<void>> = []
  const close = async () => {
    // The last started stops first: the admin client, then the proxy (which drains into kinesalite), then kinesalite.
    for (const stop of stops.splice(0).reverse()) await stop()
  }
  try {
    const kinesalite = await Kinesalite.start(0)
    stops.push(kinesalite.close)
    const proxy = await Proxy.start({
      target: kinesalite.endpoint,
      limits: options.limits,
      faults: options.faults,
      seed: options.seed,
      now: options.now,
      port: options.port,
      account,
      region
    })
    stops.push(proxy.close)
    const credentials = { accessKeyId: "local", secretAccessKey: "local" }
    // Set-up and reading back go straight to kinesalite, so that no fault plan or limit gets in their way.
    const client = new KinesisClient({
      endpoint: kinesalite.endpoint,
      region,
      credentials,
      maxAttempts: 1,
      requestHandler: new NodeHttpHandler()
    })
    stops.push(async () => client.destroy())
    const admin = Admin.make(client, account, proxy.refreshShards)
    for (const [name, shards] of Object.entries(options.streams ?? {})) await admin.createStream(name, shards)
    let closed: Promise<void> | undefined
    const { close: _close, port: _port, ...controls } = proxy
    return {
      endpoint: proxy.endpoint,
      kinesaliteEndpoint: kinesalite.endpoint,
      proxy: controls,
      region,
      clientConfig: { endpoint: proxy.endpoint, region, credentials },
      streamArn: (name) => `arn:aws:kinesis:${region}:${account}:stream/${name}`,
      createStream: admin.createStream,
      listShards: admin.listShards,
      splitShard: admin.splitShard,
      mergeShards: admin.mergeShards,
      readAll: (name, options) => admin.read(name, true, options?.signal),
      readStored: (name, options) => admin.read(name, false, options?.signal),
      close: () => closed ??= close()
    }
  } catch (error) {
    await close()
    throw error
  }
}
