/**
 * Where a record lands: its hash key (MD5 of the partition key, or the explicit hash key) and the open shard
 * whose hash key range holds it. Pure.
 */
import { Hash } from "@effect-kinesis/core"

/** The largest hash key: 2^128 - 1. */
export const MAX_HASH_KEY = (1n << 128n) - 1n

/** An open shard and the hash keys it takes, both ends inclusive. */
export interface ShardRange {
  readonly shardId: string
  readonly start: bigint
  readonly end: bigint
}

const decimal = /^(0|[1-9][0-9]{0,38})$/

/**
 * The 128-bit hash key of a record: its explicit hash key when given, else the MD5 of the partition key's UTF-8
 * bytes read as a big-endian integer. Undefined when the explicit hash key is not a decimal in range.
 */
export const hashKeyOf = (partitionKey: string, explicitHashKey: string | undefined): bigint | undefined => {
  if (explicitHashKey !== undefined) {
    if (!decimal.test(explicitHashKey)) return undefined
    const value = BigInt(explicitHashKey)
    return value > MAX_HASH_KEY ? undefined : value
  }
  return BigInt(`0x${Hash.hashKeyHex(partitionKey)}`)
}

/** The shard, among `shards`, whose range holds `hashKey`. */
export const shardFor = (shards: ReadonlyArray<ShardRange>, hashKey: bigint): ShardRange | undefined => {
  for (const shard of shards) if (hashKey >= shard.start && hashKey <= shard.end) return shard
  return undefined
}
