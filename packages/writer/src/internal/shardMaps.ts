/**
 * The writer's view of the stream's shards: read at start, read again every `refresh`, and at once when asked
 * (a record landed on another shard than predicted). Each new map is handed to `onMap`; while no map can be read,
 * the writer sends shard-blind, and says so once.
 */
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import type * as Scope from "effect/Scope"
import type { Kinesis } from "../Kinesis.js"
import * as Retry from "../Retry.js"
import * as ShardMap from "../ShardMap.js"

// The first read holds the writer's first request back (records sent before it would go unpaced), so it waits
// little: past this, the writer starts shard-blind and the map takes over when it comes.
const FIRST_READ_MILLIS = 2000

// A reshard shows in many responses at once: the map is read again at most once a second.
const MIN_RELOAD_MILLIS = 1000

// After a failure that may pass (throttled ListShards, a timeout), the next try comes sooner than `refresh`.
const RETRY_MILLIS = 5000

/** What the writer gives the follower. */
export interface Options {
  readonly kinesis: Kinesis.Service
  readonly target: ShardMap.Target
  readonly streamName: string
  readonly refreshMillis: number
  readonly requestTimeoutMillis: number
  /** A map that differs from the last one. */
  readonly onMap: (map: ShardMap.ShardMap) => Effect.Effect<void>
  /** The first read failed: the writer goes on without a map. */
  readonly onNoMap: Effect.Effect<void>
}

/** The running follower. */
export interface Follower {
  /** Reads the map again now (at most once a second). */
  readonly refresh: () => void
}

/** Starts following the stream's shard map in the current scope. */
export const follow = (options: Options): Effect.Effect<Follower, never, Scope.Scope> =>
  Effect.gen(function*() {
    const fiberId = yield* Effect.fiberId
    let signal: Deferred.Deferred<void> | undefined
    const refresh = () => {
      if (signal !== undefined) Deferred.unsafeDone(signal, Exit.void)
    }
    const read = (timeoutMillis: number) =>
      ShardMap.load(options.kinesis, options.target).pipe(
        Effect.timeoutFail({ duration: timeoutMillis, onTimeout: () => Retry.timedOut("ListShards", timeoutMillis) }),
        Effect.catchAllDefect((defect) => Effect.fail(Retry.classify("ListShards", defect))),
        Effect.either
      )
    const loop: Effect.Effect<never> = Effect.gen(function*() {
      let current: ShardMap.ShardMap | undefined
      let warned = false
      while (true) {
        const loaded = yield* read(
          current === undefined && !warned ?
            Math.min(FIRST_READ_MILLIS, options.requestTimeoutMillis) :
            options.requestTimeoutMillis
        )
        let wait = options.refreshMillis
        if (Either.isRight(loaded)) {
          const map = loaded.right
          if (current === undefined || !ShardMap.equals(current, map)) {
            current = map
            yield* options.onMap(map)
            yield* Effect.logDebug(`stream ${options.streamName} has ${ShardMap.size(map)} open shard(s)`)
          }
          if (warned) {
            yield* Effect.logInfo(`read the shards of stream ${options.streamName}: sending shard-aware again`)
          }
          warned = false
        } else {
          const error = loaded.left
          if (error.retriable) wait = Math.min(wait, RETRY_MILLIS)
          if (!warned) {
            warned = true
            if (current === undefined) yield* options.onNoMap
            yield* Effect.logWarning(
              `cannot read the shards of stream ${options.streamName} (ListShards: ${error.code}${
                error.detail === "" ? "" : `: ${error.detail}`
              }); sending without shard awareness until it can`
            ).pipe(Effect.annotateLogs({ stream: options.streamName, code: error.code }))
          }
        }
        const next = Deferred.unsafeMake<void>(fiberId)
        signal = next
        yield* Effect.raceFirst(Deferred.await(next), Effect.sleep(wait))
        signal = undefined
        yield* Effect.sleep(MIN_RELOAD_MILLIS)
      }
    })
    // Interruptible even when built inside an uninterruptible region (a layer), so that closing can stop it.
    yield* Effect.forkScoped(Effect.interruptible(loop))
    return { refresh }
  })
