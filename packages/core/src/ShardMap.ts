/**
 * Which shard a record goes to: the open shards' hash key ranges, from ListShards, and a record's hash key (the MD5
 * of its partition key, or its explicit hash key).
 *
 * Pure: the caller calls ListShards, page after page as `nextListing` says, and hands the shards to `fromShards`.
 * Hash keys are 32-digit lowercase hexadecimal strings: they compare with `<` in the order of the numbers they
 * stand for, so the per-record path needs no BigInt.
 */
import * as Hash from "./Hash.js"

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
  explicitHashKey === undefined ? Hash.hashKeyHex(partitionKey) : toHex(explicitHashKey)

/** A shard as ListShards describes it (the SDK's `Shard`, of which only these fields are read). */
export interface Shard {
  readonly ShardId?: string | undefined
  readonly HashKeyRange?:
    | { readonly StartingHashKey?: string | undefined; readonly EndingHashKey?: string | undefined }
    | undefined
  readonly SequenceNumberRange?:
    | { readonly StartingSequenceNumber?: string | undefined; readonly EndingSequenceNumber?: string | undefined }
    | undefined
}

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

/** Places partition keys among a map's shards, as `shardOf(map, hashKeyOf(key))` does. */
export const partitionKeyLocator = (map: ShardMap): (partitionKey: string) => string | undefined => (partitionKey) =>
  shardOf(map, Hash.hashKeyHex(partitionKey))

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

/** The ListShards request of a listing's first page: open shards only (`AT_LATEST`). */
export const firstListing = (target: Target) => ({ ...target, ShardFilter: { Type: "AT_LATEST" as const } })

/**
 * The ListShards request of the page after `page`, or undefined when it was the last: later pages name the stream
 * through the token only, since the API refuses a stream name or filter beside it. (Emulators that ignore
 * `AT_LATEST`, kinesalite, list closed shards anyway, and `fromShards` drops them.)
 */
export const nextListing = (page: { readonly NextToken?: string | undefined }) =>
  page.NextToken === undefined || page.NextToken === "" ? undefined : { NextToken: page.NextToken }
