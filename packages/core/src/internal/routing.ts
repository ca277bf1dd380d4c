/**
 * The shard map in the accumulator: the route from a record to its shard, a new map read (waiting records move to
 * their new lines), and the user records of aggregates stored on an unexpected shard, kept until a map says whether
 * that shard's range holds them.
 */
import * as ShardMap from "../ShardMap.js"
import { regroup, requeue } from "./lines.js"
import { deliver } from "./settling.js"
import type { Held, Route, State } from "./state.js"

/** The route of a shard map: the record's hash key (MD5 of its partition key, or its explicit one) in the ranges. */
export const routeOf = (map: ShardMap.ShardMap): Route => {
  const shards = map.shards
  // One shard over the whole key space (most small streams) takes every record: no hash needed.
  if (
    shards.length === 1 && shards[0].startingHashKey === ShardMap.MIN_HASH_KEY &&
    shards[0].endingHashKey === ShardMap.MAX_HASH_KEY
  ) {
    const only = shards[0].shardId
    return () => only
  }
  return (held) => ShardMap.shardOf(map, hashKeyOf(held))
}

// A partition key is hashed again at each reshard (rare) rather than its hash key kept with every record.
const hashKeyOf = (held: Held<unknown>): string => {
  if (held.record.explicitHashKey === undefined) return ShardMap.hashKeyOf(held.record.partitionKey, undefined)
  if (held.hashKey === undefined) held.hashKey = ShardMap.toHex(held.record.explicitHashKey)
  return held.hashKey
}

/** Uses `map` (undefined: none, shard-blind) from now on. Requests in flight finish under the old one. */
const reshard = <T>(state: State<T>, map: ShardMap.ShardMap | undefined): void => {
  state.map = map
  state.route = map === undefined || ShardMap.size(map) === 0 ? undefined : routeOf(map)
  state.shardStarts.clear()
  state.misplacing.clear()
  if (map !== undefined) {
    for (const shard of map.shards) state.shardStarts.set(shard.shardId, ShardMap.fromHex(shard.startingHashKey))
  }
  state.routePending = false
  state.epoch++
  state.staleInFlight = state.inFlight.size
  state.options.pacing?.forget?.(map?.shards.map((shard) => shard.shardId) ?? [])
  regroup(state)
}

/**
 * A read of the shard map answered. A map unlike the current one is used from now on; either way, the user records
 * of misplaced aggregates are settled: stored where the landing shard's range holds them, sent again where not.
 */
export const handleShardMap = <T>(state: State<T>, map: ShardMap.ShardMap, now: number): void => {
  if (state.map === undefined || state.routePending || !ShardMap.equals(state.map, map)) reshard(state, map)
  settleMisplaced(state, map, now)
}

/**
 * A read of the shard map failed. Before any map, the writer goes on shard-blind; misplaced user records are sent
 * again, since nothing can say whether their landing shard holds them.
 */
export const handleShardMapUnavailable = <T>(state: State<T>, now: number): void => {
  if (state.routePending) reshard(state, undefined)
  settleMisplaced(state, undefined, now)
}

const settleMisplaced = <T>(state: State<T>, map: ShardMap.ShardMap | undefined, now: number): void => {
  if (state.misplaced.length === 0) return
  const pending = state.misplaced
  state.misplaced = []
  const stored: Array<Held<T>> = []
  const again: Array<Held<T>> = []
  let bytes = 0
  for (const { members, sequenceNumber, shardId } of pending) {
    const range = map?.shards.find((shard) => shard.shardId === shardId)
    members.forEach((held, index) => {
      const hashKey = hashKeyOf(held)
      if (range !== undefined && range.startingHashKey <= hashKey && hashKey <= range.endingHashKey) {
        if (deliver(state, held, shardId, sequenceNumber, index)) {
          stored.push(held)
          bytes += held.size
        }
      } else if (!held.settled) {
        held.readyAt = now
        again.push(held)
      }
    })
  }
  requeue(state, again)
  if (stored.length > 0) state.events.push({ _tag: "Delivered", records: stored, bytes, at: now })
}
