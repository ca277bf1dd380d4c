/**
 * What the embedded Kinesis does besides the Kinesis API: streams created and waited for, shards listed, split and
 * merged, streams read back; straight to kinesalite, so that no fault plan or limit gets in the way.
 */
import {
  CreateStreamCommand,
  DescribeStreamSummaryCommand,
  InvalidArgumentException,
  type KinesisClient,
  ListShardsCommand,
  MergeShardsCommand,
  ResourceNotFoundException,
  type Shard,
  SplitShardCommand
} from "@aws-sdk/client-kinesis"
import { Fault } from "@effect-kinesis/core"
import { setTimeout as sleep } from "node:timers/promises"
import * as StreamReader from "../StreamReader.js"

/** A call to kinesalite that failed: its operation, the error's code and whether sending again may help. */
export class CallError extends Error {
  override readonly name = "CallError"
  /** The operation that failed, such as `CreateStream`. */
  readonly operation: string
  /** The error's code as AWS gives it (`ResourceNotFoundException`...), or what the network said. */
  readonly code: string
  /** Whether the same call may succeed if sent again. */
  readonly retriable: boolean
  /** The SDK's error. */
  override readonly cause: unknown
  constructor(operation: string, cause: unknown) {
    const fault = Fault.classify(operation, cause)
    super(`${operation} failed: ${Fault.describe(fault)}`)
    this.operation = operation
    this.code = fault.code
    this.retriable = fault.retriable
    this.cause = cause
  }
}

/** The operations, over a client of kinesalite. */
export interface Admin {
  readonly createStream: (name: string, shards: number) => Promise<void>
  readonly listShards: (name: string) => Promise<Array<Shard>>
  readonly splitShard: (
    stream: string,
    shardId: string,
    newStartingHashKey?: string | undefined
  ) => Promise<readonly [Shard, Shard]>
  readonly mergeShards: (stream: string, shardId: string, adjacentShardId: string) => Promise<Shard>
  readonly read: (name: string, unpack: boolean, signal: AbortSignal | undefined) => Promise<Array<StoredRecord>>
}

type StoredRecord = StreamReader.StoredRecord

// One SDK call; its failure as a `CallError` naming the operation.
const call = async <A>(operation: string, send: () => Promise<A>): Promise<A> => {
  try {
    return await send()
  } catch (cause) {
    throw new CallError(operation, cause)
  }
}

const compareHashKeys = (a: Shard, b: Shard): number => {
  const difference = BigInt(a.HashKeyRange!.StartingHashKey!) - BigInt(b.HashKeyRange!.StartingHashKey!)
  return difference < 0n ? -1 : difference > 0n ? 1 : 0
}

/**
 * The operations over `client` (kinesalite's), for `account`; `reshaped` has the proxy place records by a stream's
 * new shards once a split or merge is over.
 */
export const make = (client: KinesisClient, account: string, reshaped: (stream: string) => Promise<void>): Admin => {
  const listShards = async (name: string) => {
    const shards: Array<Shard> = []
    let next: string | undefined
    do {
      const input = next === undefined ? { StreamName: name } : { NextToken: next }
      const page = await call("ListShards", () => client.send(new ListShardsCommand(input)))
      shards.push(...(page.Shards ?? []))
      next = page.NextToken
    } while (next !== undefined)
    return shards
  }

  const untilActive = async (name: string) => {
    for (;;) {
      const summary = await call(
        "DescribeStreamSummary",
        () => client.send(new DescribeStreamSummaryCommand({ StreamName: name }))
      )
      if (summary.StreamDescriptionSummary?.StreamStatus === "ACTIVE") return
      await sleep(10)
    }
  }

  // Refused before reaching kinesalite, as AWS would refuse it.
  const refused = (
    operation: string,
    type: "ResourceNotFoundException" | "InvalidArgumentException",
    message: string
  ) => {
    const $metadata = { httpStatusCode: 400 }
    const cause = type === "ResourceNotFoundException" ?
      new ResourceNotFoundException({ message, $metadata }) :
      new InvalidArgumentException({ message, $metadata })
    return new CallError(operation, cause)
  }

  // A shard to split or merge: one of the stream's, still open, with its hash key range.
  const openShard = (
    operation: "SplitShard" | "MergeShards",
    stream: string,
    shards: ReadonlyArray<Shard>,
    shardId: string
  ) => {
    const shard = shards.find((shard) => shard.ShardId === shardId)
    const where = `in stream ${stream} under account ${account}`
    if (shard === undefined) {
      throw refused(operation, "ResourceNotFoundException", `Could not find shard ${shardId} ${where}.`)
    }
    if (shard.SequenceNumberRange?.EndingSequenceNumber !== undefined) {
      const detail = `Shard ${shardId} ${where} has already been merged or split, and thus is not eligible for ` +
        (operation === "SplitShard" ? "splitting." : "merging.")
      throw refused(operation, "InvalidArgumentException", detail)
    }
    return {
      shard,
      start: BigInt(shard.HashKeyRange!.StartingHashKey!),
      end: BigInt(shard.HashKeyRange!.EndingHashKey!)
    }
  }

  // After a reshaping: the stream active again, and the proxy placing records by its new open shards.
  const afterReshaping = async (stream: string) => {
    await untilActive(stream)
    await reshaped(stream)
  }

  return {
    createStream: async (name, shards) => {
      await call("CreateStream", () => client.send(new CreateStreamCommand({ StreamName: name, ShardCount: shards })))
      await untilActive(name)
    },
    listShards,
    splitShard: async (stream, shardId, newStartingHashKey) => {
      const { end, start } = openShard("SplitShard", stream, await listShards(stream), shardId)
      const key = newStartingHashKey ?? ((start + end + 1n) / 2n).toString()
      await call(
        "SplitShard",
        () => client.send(new SplitShardCommand({ StreamName: stream, ShardToSplit: shardId, NewStartingHashKey: key }))
      )
      await afterReshaping(stream)
      const children = (await listShards(stream))
        .filter((shard) => shard.ParentShardId === shardId && shard.AdjacentParentShardId === undefined)
        .sort(compareHashKeys)
      if (children.length !== 2) throw new Error(`${shardId} was split into ${children.length}`)
      return [children[0], children[1]] as const
    },
    mergeShards: async (stream, shardId, adjacentShardId) => {
      const shards = await listShards(stream)
      const one = openShard("MergeShards", stream, shards, shardId)
      const other = openShard("MergeShards", stream, shards, adjacentShardId)
      // kinesalite takes the lower range first; AWS takes either order, and so does this.
      const [lower, upper] = one.start < other.start ? [one.shard, other.shard] : [other.shard, one.shard]
      await call("MergeShards", () =>
        client.send(
          new MergeShardsCommand({
            StreamName: stream,
            ShardToMerge: lower.ShardId!,
            AdjacentShardToMerge: upper.ShardId!
          })
        ))
      await afterReshaping(stream)
      const merged = (await listShards(stream)).find((shard) =>
        shard.ParentShardId === lower.ShardId && shard.AdjacentParentShardId === upper.ShardId
      )
      if (merged === undefined) throw new Error(`${lower.ShardId} and ${upper.ShardId} not merged`)
      return merged
    },
    read: (name, unpack, signal) => StreamReader.readAll(client, name, { unpack, signal })
  }
}
