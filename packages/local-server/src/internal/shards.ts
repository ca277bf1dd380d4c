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
  /**
   * Waits until `stream` is no longer being created or reshaped, then reads its shards again; never fails (a stream
   * that cannot be listed is read again when a record needs it).
   */
  readonly refresh: (stream: string) => Promise<void>
  /** Ends the waits of `refresh`: the target is going away. */
  readonly close: () => void
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

// How often, and how long at most, `refresh` asks whether a reshaping is over.
const pollMillis = 10
const pollLimitMillis = 30_000

// Statuses during which the shards listed may still change.
const changing = new Set(["CREATING", "UPDATING"])

/** Shard maps read through `invoke`, a call of the target's Kinesis API. */
export const make = (invoke: (operation: string, payload: unknown) => Promise<Reply>): ShardMaps => {
  const maps = new Map<string, Promise<ReadonlyArray<ShardRange>>>()
  let closed = false

  // Whether the stream is being created or reshaped; a stream that cannot be described is not.
  const isChanging = async (stream: string): Promise<boolean> => {
    const reply = await invoke("DescribeStreamSummary", { StreamName: stream }).catch(() => undefined)
    if (reply?.status !== 200) return false
    const summary = JSON.parse(reply.body.toString()) as { StreamDescriptionSummary?: { StreamStatus?: string } }
    return changing.has(summary.StreamDescriptionSummary?.StreamStatus ?? "")
  }

  // The open shards, and whether they may be kept: not when the stream was being reshaped as they were read.
  const read = async (stream: string) => {
    const shards: Array<ListedShard> = []
    let next: string | undefined
    do {
      const reply = await invoke("ListShards", next === undefined ? { StreamName: stream } : { NextToken: next })
      if (reply.status !== 200) throw new Error(`ListShards ${stream}: ${reply.status}`)
      const page = JSON.parse(reply.body.toString()) as { Shards: Array<ListedShard>; NextToken?: string }
      shards.push(...page.Shards)
      next = page.NextToken
    } while (next !== undefined)
    return { shards: openShards(shards), keep: !(await isChanging(stream)) }
  }

  const get = (stream: string): Promise<ReadonlyArray<ShardRange>> => {
    let map = maps.get(stream)
    if (map === undefined) {
      const reading = read(stream)
      const loaded = reading.then(({ shards }) => shards)
      // A failed read is not kept (the stream may come later), nor one made during a reshaping (its shards are about
      // to change), nor one forgotten meanwhile.
      void reading.then(({ keep }) => keep, () => false).then((keep) => {
        if (!keep && maps.get(stream) === loaded) maps.delete(stream)
      })
      maps.set(stream, loaded)
      map = loaded
    }
    return map
  }

  return {
    get,
    forget: (stream) => {
      maps.delete(stream)
    },
    refresh: async (stream) => {
      // SplitShard and MergeShards answer while the stream is UPDATING: the new shards are listed once it is ACTIVE.
      const deadline = Date.now() + pollLimitMillis
      while (!closed && Date.now() < deadline && await isChanging(stream)) {
        await new Promise((resolve) => setTimeout(resolve, pollMillis))
      }
      maps.delete(stream)
      if (!closed) await get(stream).catch(() => undefined)
    },
    close: () => {
      closed = true
    }
  }
}
