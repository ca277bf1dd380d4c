/**
 * Per-shard write limits: which limits apply to a stream, and each open shard's token buckets (records and bytes)
 * that admit a record or refuse it. Time is passed in, in milliseconds.
 */
import * as TokenBucket from "./tokenBucket.js"
import type { Limits, ShardLimits } from "./types.js"

/** AWS's per-shard write limits. */
export const defaultShardLimits = { recordsPerSecond: 1000, bytesPerSecond: 1024 * 1024, burstSeconds: 1 } as const

/** The limits of one stream's shards, every field given. */
export interface ResolvedLimits {
  readonly recordsPerSecond: number
  readonly bytesPerSecond: number
  readonly burstSeconds: number
}

/** The limits in force and each shard's buckets. */
export interface Limiter {
  /** The limits in force. */
  readonly limits: () => boolean | Limits
  /** Puts `limits` in force; every shard starts again with full buckets. */
  readonly set: (limits: boolean | Limits) => void
  /** The limits of `stream`'s shards, or undefined when the stream is unlimited. */
  readonly of: (stream: string) => ResolvedLimits | undefined
  /** Takes a record's room from its shard's buckets and says true, or says false when the shard is over its limits. */
  readonly admit: (stream: string, shardId: string, bytes: number, time: number) => boolean
  /**
   * Moves a record's room from the shard it was admitted by to the shard that stored it, even into debt: the
   * target stored it there, so that shard's budget pays.
   */
  readonly move: (stream: string, from: string, to: string, bytes: number, time: number) => void
}

/** Every problem with limits, one sentence each. */
export const checkLimits = (limits: boolean | Limits): Array<string> => {
  if (typeof limits === "boolean") return []
  if (typeof limits !== "object" || limits === null) return ["limits must be true, false or an object"]
  const problems: Array<string> = []
  const check = (prefix: string, shard: ShardLimits) => {
    for (const name of ["recordsPerSecond", "bytesPerSecond", "burstSeconds"] as const) {
      const value = shard[name]
      if (value !== undefined && !(typeof value === "number" && value > 0 && Number.isFinite(value))) {
        problems.push(`${prefix}${name} must be a positive number, not ${String(value)}`)
      }
    }
  }
  check("", limits)
  for (const [stream, shard] of Object.entries(limits.streams ?? {})) {
    if (shard !== false) check(`streams.${stream}.`, shard)
  }
  return problems
}

/** The limits of `stream`'s shards under `limits`, or undefined when the stream is unlimited. */
export const resolveLimits = (limits: boolean | Limits, stream: string): ResolvedLimits | undefined => {
  if (limits === false) return undefined
  if (limits === true) return defaultShardLimits
  const own = limits.streams?.[stream]
  if (own === false) return undefined
  return {
    recordsPerSecond: own?.recordsPerSecond ?? limits.recordsPerSecond ?? defaultShardLimits.recordsPerSecond,
    bytesPerSecond: own?.bytesPerSecond ?? limits.bytesPerSecond ?? defaultShardLimits.bytesPerSecond,
    burstSeconds: own?.burstSeconds ?? limits.burstSeconds ?? defaultShardLimits.burstSeconds
  }
}

interface Buckets {
  readonly records: TokenBucket.TokenBucket
  readonly bytes: TokenBucket.TokenBucket
}

/** Puts `initial` in force, with every shard's buckets full at first use. */
export const make = (initial: boolean | Limits): Limiter => {
  let limits = initial
  // Keyed by stream and shard id: a shard born of a split or merge gets buckets of its own, full, at first use.
  let buckets = new Map<string, Buckets>()

  // The shard's buckets, refilled up to `time`.
  const bucketsOf = (stream: string, shardId: string, limit: ResolvedLimits, time: number): Buckets => {
    const recordCapacity = limit.recordsPerSecond * limit.burstSeconds
    const byteCapacity = limit.bytesPerSecond * limit.burstSeconds
    const key = `${stream}\u0000${shardId}`
    let bucket = buckets.get(key)
    if (bucket === undefined) {
      bucket = { records: TokenBucket.make(recordCapacity, time), bytes: TokenBucket.make(byteCapacity, time) }
      buckets.set(key, bucket)
    }
    TokenBucket.refill(bucket.records, time, limit.recordsPerSecond, recordCapacity)
    TokenBucket.refill(bucket.bytes, time, limit.bytesPerSecond, byteCapacity)
    return bucket
  }

  return {
    limits: () => limits,
    set: (next) => {
      limits = next
      buckets = new Map()
    },
    of: (stream) => resolveLimits(limits, stream),
    admit: (stream, shardId, bytes, time) => {
      const limit = resolveLimits(limits, stream)
      if (limit === undefined) return true
      const bucket = bucketsOf(stream, shardId, limit, time)
      const room = TokenBucket.canTake(bucket.records, 1, limit.recordsPerSecond * limit.burstSeconds) &&
        TokenBucket.canTake(bucket.bytes, bytes, limit.bytesPerSecond * limit.burstSeconds)
      if (!room) return false
      bucket.records.tokens -= 1
      bucket.bytes.tokens -= bytes
      return true
    },
    move: (stream, from, to, bytes, time) => {
      const limit = resolveLimits(limits, stream)
      if (limit === undefined || from === to) return
      const source = bucketsOf(stream, from, limit, time)
      source.records.tokens = Math.min(limit.recordsPerSecond * limit.burstSeconds, source.records.tokens + 1)
      source.bytes.tokens = Math.min(limit.bytesPerSecond * limit.burstSeconds, source.bytes.tokens + bytes)
      const destination = bucketsOf(stream, to, limit, time)
      destination.records.tokens -= 1
      destination.bytes.tokens -= bytes
    }
  }
}
