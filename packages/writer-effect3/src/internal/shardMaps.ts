/**
 * The writer's view of the stream's shards: read at start, read again every `refresh`, and soon after the
 * accumulator asks (a record landed on another shard than predicted). Each answer goes to `onMap`, each failure to
 * `onFailure`; the first failure is said once at Warning, and the recovery at Info.
 */
import type { ListShardsCommandInput, ListShardsCommandOutput } from "@aws-sdk/client-kinesis"
import { ListShardsCommand } from "@aws-sdk/client-kinesis"
import { ShardMap } from "@effect-kinesis/core"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import type { KinesisError } from "../Errors.js"
import type { Kinesis } from "../Kinesis.js"
import * as Retry from "../Retry.js"

// The first read holds the writer's first request back (records sent before it would go unpaced), so it waits
// little: past this, the writer starts shard-blind and the map takes over when it comes.
const FIRST_READ_MILLIS = 2000

// A reshard shows in many responses at once: the map is read at most once a second.
const MIN_RELOAD_MILLIS = 1000

// After a failure that may pass (throttled ListShards, a timeout), the next try comes sooner than `refresh`.
const RETRY_MILLIS = 5000

/** The stream to list: by name, or by ARN. */
export type Target = ShardMap.Target

const listShards = (kinesis: Kinesis.Service, input: ListShardsCommandInput) =>
  kinesis.listShards !== undefined ?
    kinesis.listShards(input) :
    kinesis.send("ListShards", (client, abortSignal) => client.send(new ListShardsCommand(input), { abortSignal }))

/** Lists the stream's open shards, page after page, into a map; a failure is the call's `KinesisError`. */
export const load = (kinesis: Kinesis.Service, target: Target): Effect.Effect<ShardMap.ShardMap, KinesisError> =>
  Effect.gen(function*() {
    const shards: Array<ShardMap.Shard> = []
    let page: ListShardsCommandOutput = yield* listShards(kinesis, ShardMap.firstListing(target))
    shards.push(...(page.Shards ?? []))
    for (let next = ShardMap.nextListing(page); next !== undefined; next = ShardMap.nextListing(page)) {
      page = yield* listShards(kinesis, next)
      shards.push(...(page.Shards ?? []))
    }
    return ShardMap.fromShards(shards)
  })

/** What the writer gives the follower. */
export interface Options {
  readonly kinesis: Kinesis.Service
  readonly target: Target
  readonly streamName: string
  readonly refreshMillis: number
  readonly requestTimeoutMillis: number
  readonly now: () => number
  /** A read answered. */
  readonly onMap: (map: ShardMap.ShardMap) => Effect.Effect<void>
  /** A read failed. */
  readonly onFailure: Effect.Effect<void>
}

/** The running follower. */
export interface Follower {
  /** Reads the map again soon: at once if the last read was at least a second ago. */
  readonly refresh: () => void
}

/** Starts following the stream's shard map in the current scope. */
export const follow = (options: Options): Effect.Effect<Follower, never, Scope.Scope> =>
  Effect.gen(function*() {
    const fiberId = yield* Effect.fiberId
    let signal: Deferred.Deferred<void> | undefined
    let asked = false
    const refresh = () => {
      asked = true
      if (signal !== undefined) Deferred.unsafeDone(signal, Exit.void)
    }
    const read = (timeoutMillis: number) =>
      load(options.kinesis, options.target).pipe(
        Effect.timeoutFail({ duration: timeoutMillis, onTimeout: () => Retry.timedOut("ListShards", timeoutMillis) }),
        Effect.catchAllDefect((defect) => Effect.fail(Retry.classify("ListShards", defect))),
        Effect.either
      )
    const loop: Effect.Effect<never> = Effect.gen(function*() {
      let known = false
      let warned = false
      while (true) {
        asked = false
        const readAt = options.now()
        const loaded = yield* read(
          !known && !warned ? Math.min(FIRST_READ_MILLIS, options.requestTimeoutMillis) : options.requestTimeoutMillis
        )
        let wait = options.refreshMillis
        if (Either.isRight(loaded)) {
          const map = loaded.right
          yield* options.onMap(map)
          if (!known) yield* Effect.logDebug(`stream ${options.streamName} has ${ShardMap.size(map)} open shard(s)`)
          known = true
          if (warned) {
            yield* Effect.logInfo(`read the shards of stream ${options.streamName}: sending shard-aware again`)
          }
          warned = false
        } else {
          const error = loaded.left
          yield* options.onFailure
          if (error.retriable) wait = Math.min(wait, RETRY_MILLIS)
          if (!warned) {
            warned = true
            yield* Effect.logWarning(
              `cannot read the shards of stream ${options.streamName} (ListShards: ${error.code}${
                error.detail === "" ? "" : `: ${error.detail}`
              }); sending without shard awareness until it can`
            ).pipe(Effect.annotateLogs({ stream: options.streamName, code: error.code }))
          }
        }
        if (!asked) {
          const next = Deferred.unsafeMake<void>(fiberId)
          signal = next
          yield* Effect.raceFirst(Deferred.await(next), Effect.sleep(wait))
          signal = undefined
        }
        // Asked again: at once, unless the last read began less than a second ago.
        const early = readAt + MIN_RELOAD_MILLIS - options.now()
        if (early > 0) yield* Effect.sleep(early)
      }
    })
    // Interruptible even when built inside an uninterruptible region (a layer), so that closing can stop it.
    yield* Effect.forkScoped(Effect.interruptible(loop))
    return { refresh }
  })
