/**
 * Which shard a record goes to: the open shards' hash key ranges, from ListShards, and a record's hash key (the MD5
 * of its partition key, or its explicit hash key).
 *
 * Pure but for `load`, which calls ListShards. Hash keys are 32-digit lowercase hexadecimal strings: they compare
 * with `<` in the order of the numbers they stand for, so the per-record path needs no BigInt.
 */
import type { ListShardsCommandInput, Shard } from "@aws-sdk/client-kinesis"
import { ListShardsCommand } from "@aws-sdk/client-kinesis"
import * as Effect from "effect/Effect"
import type { KinesisError } from "./Errors.js"
import type { Kinesis } from "./Kinesis.js"
import * as Md5 from "./Md5.js"

/** The smallest hash key, 0, as a hash key string. */
export const MIN_HASH_KEY = "0".repeat(32)

/** The largest hash key, 2^128 - 1, as a hash key string. */
export const MAX_HASH_KEY = "f".repeat(32)

/** An open shard and the hash keys it takes, both ends inclusive, as 32-digit lowercase hexadecimal strings. */
export interface ShardRange {
  readonly shardId: string
  readonly startingHashKey: string
  readonly endingHashKey: string
}

/** The open shards of a stream, sorted by their starting hash key. */
export interface ShardMap {
  readonly shards: ReadonlyArray<ShardRange>
}

/** A map with no shard: every lookup gives `undefined`. */
export const empty: ShardMap = { shards: [] }

/** A hash key string from a decimal number from 0 to 2^128 - 1. */
export const toHex = (decimal: string): string => BigInt(decimal).toString(16).padStart(32, "0")

/** The decimal number a hash key string stands for. */
export const fromHex = (hex: string): string => BigInt(`0x${hex}`).toString(10)

/** A record's hash key: its explicit hash key (a checked decimal) if given, else the MD5 of its key's UTF-8 bytes. */
export const hashKeyOf = (partitionKey: string, explicitHashKey: string | undefined): string =>
  explicitHashKey === undefined ? Md5.md5Hex(partitionKey) : toHex(explicitHashKey)

const isOpen = (shard: Shard): boolean => shard.SequenceNumberRange?.EndingSequenceNumber === undefined

/** The map of the open shards among `shards` (closed ones, which have an ending sequence number, take no writes). */
export const fromShards = (shards: ReadonlyArray<Shard>): ShardMap => {
  const ranges: Array<ShardRange> = []
  for (const shard of shards) {
    const range = shard.HashKeyRange
    if (shard.ShardId === undefined || range?.StartingHashKey === undefined || range.EndingHashKey === undefined) {
      continue
    }
    if (!isOpen(shard)) continue
    ranges.push({
      shardId: shard.ShardId,
      startingHashKey: toHex(range.StartingHashKey),
      endingHashKey: toHex(range.EndingHashKey)
    })
  }
  ranges.sort((a, b) =>
    a.startingHashKey < b.startingHashKey ? -1 : a.startingHashKey > b.startingHashKey ?
      1 :
      a.shardId < b.shardId
      ? -1
      : a.shardId > b.shardId
      ? 1
      : 0
  )
  return { shards: ranges }
}

/**
 * The open shard whose range holds `hashKey`, or `undefined` when none does (a gap, briefly, while a stream
 * reshards). Open shards never overlap; if they did, the one starting last at or before the key would answer.
 */
export const shardOf = (map: ShardMap, hashKey: string): string | undefined => {
  const shards = map.shards
  // The last range starting at or before the key is the only one that can hold it.
  let low = 0
  let high = shards.length - 1
  let found = -1
  while (low <= high) {
    const middle = (low + high) >>> 1
    if (shards[middle].startingHashKey <= hashKey) {
      found = middle
      low = middle + 1
    } else {
      high = middle - 1
    }
  }
  return found >= 0 && hashKey <= shards[found].endingHashKey ? shards[found].shardId : undefined
}

/**
 * Places partition keys among a map's shards, as `shardOf(map, hashKeyOf(key))` does, without the 128-bit hash key
 * for almost every key: the MD5's first 48 bits decide unless they equal those of the range's bounds (a chance of
 * about one in 2^47 per bound), when the whole hash key does. A shard-aware writer places every record it takes.
 */
export const partitionKeyLocator = (map: ShardMap): (partitionKey: string) => string | undefined => {
  const shards = map.shards
  const top = (hex: string) => parseInt(hex.slice(0, 12), 16)
  const starts = Float64Array.from(shards, (shard) => top(shard.startingHashKey))
  const ends = Float64Array.from(shards, (shard) => top(shard.endingHashKey))
  const digest = new Int32Array(4)
  return (partitionKey) => {
    Md5.digestInto(partitionKey, digest)
    const key = Md5.top48(digest)
    let low = 0
    let high = shards.length - 1
    let found = -1
    while (low <= high) {
      const middle = (low + high) >>> 1
      if (starts[middle] <= key) {
        found = middle
        low = middle + 1
      } else {
        high = middle - 1
      }
    }
    // Below every range's top bits: below every range. Strictly between a range's bounds' top bits: inside it.
    if (found < 0) return undefined
    if (starts[found] < key && key < ends[found]) return shards[found].shardId
    // Past its end's top bits, before the next range's (the search found none starting at or before): in a gap.
    if (key > ends[found]) return undefined
    return shardOf(map, Md5.toHex(digest))
  }
}

/** The shard a record will be stored on, or `undefined` when no open shard holds its hash key. */
export const predict = (
  map: ShardMap,
  partitionKey: string,
  explicitHashKey: string | undefined
): string | undefined => {
  const shards = map.shards
  // A stream of one shard needs no hash: most streams in tests and many small ones in production.
  if (
    shards.length === 1 && shards[0].startingHashKey === MIN_HASH_KEY && shards[0].endingHashKey === MAX_HASH_KEY
  ) {
    return shards[0].shardId
  }
  return shards.length === 0 ? undefined : shardOf(map, hashKeyOf(partitionKey, explicitHashKey))
}

/** The number of open shards. */
export const size = (map: ShardMap): number => map.shards.length

/** Whether two maps have the same open shards with the same ranges: a refresh that changed nothing. */
export const equals = (a: ShardMap, b: ShardMap): boolean => {
  if (a === b) return true
  if (a.shards.length !== b.shards.length) return false
  for (let i = 0; i < a.shards.length; i++) {
    const x = a.shards[i]
    const y = b.shards[i]
    if (x.shardId !== y.shardId || x.startingHashKey !== y.startingHashKey || x.endingHashKey !== y.endingHashKey) {
      return false
    }
  }
  return true
}

/** The stream to list: by name, or by ARN. */
export type Target = { readonly StreamName: string } | { readonly StreamARN: string }

const listShards = (kinesis: Kinesis.Service, input: ListShardsCommandInput) =>
  kinesis.listShards !== undefined ?
    kinesis.listShards(input) :
    kinesis.send("ListShards", (client, abortSignal) => client.send(new ListShardsCommand(input), { abortSignal }))

/**
 * Lists the stream's open shards with ListShards, page after page, into a map. A failure (a missing stream, denied
 * access, throttling) is the call's `KinesisError`, classified retriable or not.
 */
export const load = (kinesis: Kinesis.Service, target: Target): Effect.Effect<ShardMap, KinesisError> =>
  Effect.gen(function*() {
    const shards: Array<Shard> = []
    // AT_LATEST leaves out the closed shards, which stay listed for the whole retention period after a reshard.
    // Emulators that ignore it (kinesalite) list them anyway, and `fromShards` drops them.
    let page = yield* listShards(kinesis, { ...target, ShardFilter: { Type: "AT_LATEST" } })
    shards.push(...(page.Shards ?? []))
    // Later pages name the stream through the token only: the API refuses a stream name or filter beside it.
    while (page.NextToken !== undefined && page.NextToken !== "") {
      page = yield* listShards(kinesis, { NextToken: page.NextToken })
      shards.push(...(page.Shards ?? []))
    }
    return fromShards(shards)
  })
