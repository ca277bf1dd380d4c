/**
 * Shard maps: each stream's open shards as the target lists them, read once and kept until forgotten, and the
 * open shard a record goes to.
 */
import { hashKeyOf, shardFor, type ShardRange } from "./hashKey.js"
import type { Reply } from "./wire.js"

/** The open shards of each stream, read from the target when first needed. */
export interface ShardMaps {
  /** The open shards of `stream`; fails when the target cannot list them (no such stream). */
  readonly get: (stream: string) => Promise<ReadonlyArray<ShardRange>>
  /** Drops what is known of `stream`'s shards: the next `get` reads them again. */
  readonly forget: (stream: string) => void
}

/** A shard as ListShards describes it. */
interface ListedShard {
  readonly ShardId: string
  readonly HashKeyRange: { readonly StartingHashKey: string; readonly EndingHashKey: string }
  readonly SequenceNumberRange: { readonly EndingSequenceNumber?: string }
}

/** The shards that take records: those without an ending sequence number (split or merged ones have one). */
export const openShards = (shards: ReadonlyArray<ListedShard>): Array<ShardRange> =>
  shards
    .filter((shard) => shard.SequenceNumberRange.EndingSequenceNumber === undefined)
    .map((shard) => ({
      shardId: shard.ShardId,
      start: BigInt(shard.HashKeyRange.StartingHashKey),
      end: BigInt(shard.HashKeyRange.EndingHashKey)
    }))

/** The open shard whose range holds the record's hash key; undefined for a bad explicit hash key or no such shard. */
export const place = (
  shards: ReadonlyArray<ShardRange>,
  partitionKey: string,
  explicitHashKey: string | undefined
): ShardRange | undefined => {
  const hashKey = hashKeyOf(partitionKey, explicitHashKey)
  return hashKey === undefined ? undefined : shardFor(shards, hashKey)
}

/** Shard maps read through `invoke`, a call of the target's Kinesis API. */
export const make = (invoke: (operation: string, payload: unknown) => Promise<Reply>): ShardMaps => {
  const maps = new Map<string, Promise<ReadonlyArray<ShardRange>>>()

  const list = async (stream: string): Promise<ReadonlyArray<ShardRange>> => {
    const shards: Array<ListedShard> = []
    let next: string | undefined
    do {
      const reply = await invoke("ListShards", next === undefined ? { StreamName: stream } : { NextToken: next })
      if (reply.status !== 200) throw new Error(`ListShards ${stream}: ${reply.status}`)
      const page = JSON.parse(reply.body.toString()) as { Shards: Array<ListedShard>; NextToken?: string }
      shards.push(...page.Shards)
      next = page.NextToken
    } while (next !== undefined)
    return openShards(shards)
  }

  return {
    get: (stream) => {
      let map = maps.get(stream)
      if (map === undefined) {
        const loading = list(stream)
        // A failed read is not kept (the stream may come later); a read forgotten meanwhile is not either.
        loading.catch(() => {
          if (maps.get(stream) === loading) maps.delete(stream)
        })
        maps.set(stream, loading)
        map = loading
      }
      return map
    },
    forget: (stream) => {
      maps.delete(stream)
    }
  }
}
