import { ShardMap } from "@effect-kinesis/core"
import * as fc from "fast-check"
import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"

const MAX = (1n << 128n) - 1n

// The reference: MD5 over the UTF-8 bytes (encoded apart from the module's path), read as a big-endian number.
const referenceHash = (partitionKey: string): bigint =>
  BigInt(`0x${createHash("md5").update(new TextEncoder().encode(partitionKey)).digest("hex")}`)

// A shard as ListShards gives it: the map reads only some of its fields.
interface Shard extends ShardMap.Shard {
  readonly SequenceNumberRange?: {
    readonly StartingSequenceNumber: string
    readonly EndingSequenceNumber?: string | undefined
  }
}

const shard = (id: number, start: bigint, end: bigint, closed = false): Shard => ({
  ShardId: `shardId-${String(id).padStart(12, "0")}`,
  HashKeyRange: { StartingHashKey: start.toString(), EndingHashKey: end.toString() },
  SequenceNumberRange: {
    StartingSequenceNumber: "49600000000000000000000000000000000000000000000000000000",
    ...(closed ? { EndingSequenceNumber: "49600000000000000000000000000000000000000000000000000999" } : {})
  }
})

// The reference lookup: a linear scan in BigInt over the open shards.
const referenceShardOf = (shards: ReadonlyArray<Shard>, key: bigint): string | undefined =>
  shards.find((s) =>
    s.SequenceNumberRange?.EndingSequenceNumber === undefined &&
    BigInt(s.HashKeyRange!.StartingHashKey!) <= key && key <= BigInt(s.HashKeyRange!.EndingHashKey!)
  )?.ShardId

const hashKeyArbitrary = fc.bigInt({ min: 0n, max: MAX })

// A stream's shards after some history: the key space cut at random points, some ranges left out (a gap, as while
// resharding), closed parents over the same keys as open children, listed in any order.
const shardsArbitrary = fc
  .record({
    cuts: fc.uniqueArray(fc.bigInt({ min: 1n, max: MAX }), { maxLength: 40 }),
    dropped: fc.array(fc.boolean(), { minLength: 41, maxLength: 41 }),
    closedParents: fc.array(fc.tuple(hashKeyArbitrary, hashKeyArbitrary), { maxLength: 5 }),
    order: fc.array(fc.nat(), { minLength: 50, maxLength: 50 })
  })
  .map(({ closedParents, cuts, dropped, order }) => {
    const bounds = [0n, ...[...cuts].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), MAX + 1n]
    const shards: Array<Shard> = []
    for (let i = 0; i + 1 < bounds.length; i++) {
      if (!dropped[i] || bounds.length === 2) shards.push(shard(i, bounds[i], bounds[i + 1] - 1n))
    }
    closedParents.forEach(([a, b], i) => shards.push(shard(1000 + i, a < b ? a : b, a < b ? b : a, true)))
    return shards
      .map((s, i) => ({ s, rank: order[i % order.length] * 100 + i }))
      .sort((x, y) => x.rank - y.rank)
      .map(({ s }) => s)
  })

describe("ShardMap hash keys", () => {
  it("hashes partition keys with MD5 as RFC 1321 gives it, as 32 lowercase hex digits", () => {
    expect(ShardMap.hashKeyOf("", undefined)).toBe("d41d8cd98f00b204e9800998ecf8427e")
    expect(ShardMap.hashKeyOf("a", undefined)).toBe("0cc175b9c0f1b6a831c399e269772661")
    expect(ShardMap.hashKeyOf("abc", undefined)).toBe("900150983cd24fb0d6963f7d28e17f72")
    expect(ShardMap.hashKeyOf("message digest", undefined)).toBe("f96b697d7cb7938d525a2f31aaf161d0")
  })

  it("hashes the UTF-8 bytes of multi-byte keys and emoji", () => {
    const keys = ["é", "clé-é", "键", "日本語", "🔑key", "😀", "👩‍👩‍👧‍👦", "a\u0000b"]
    for (const key of keys) {
      expect(BigInt(`0x${ShardMap.hashKeyOf(key, undefined)}`)).toBe(referenceHash(key))
    }
    // "é" is c3 a9 in UTF-8, not e9 as in Latin-1.
    expect(ShardMap.hashKeyOf("é", undefined)).toBe(createHash("md5").update(Buffer.from([0xc3, 0xa9])).digest("hex"))
  })

  it("gives the number a BigInt reference reads from the MD5 of any key", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 100 }), (key) => {
        const hashKey = ShardMap.hashKeyOf(key, undefined)
        expect(hashKey).toMatch(/^[0-9a-f]{32}$/)
        expect(BigInt(`0x${hashKey}`)).toBe(referenceHash(key))
      })
    )
  })

  it("takes an explicit hash key instead of the partition key's hash", () => {
    expect(ShardMap.hashKeyOf("ignored", "0")).toBe(ShardMap.MIN_HASH_KEY)
    expect(ShardMap.hashKeyOf("ignored", MAX.toString())).toBe(ShardMap.MAX_HASH_KEY)
    expect(ShardMap.hashKeyOf("ignored", "255")).toBe("000000000000000000000000000000ff")
  })

  it("orders hex hash keys as their numbers, and converts both ways", () => {
    fc.assert(
      fc.property(hashKeyArbitrary, hashKeyArbitrary, (a, b) => {
        const x = ShardMap.toHex(a.toString())
        const y = ShardMap.toHex(b.toString())
        expect(x).toHaveLength(32)
        expect(x < y).toBe(a < b)
        expect(x === y).toBe(a === b)
        expect(ShardMap.fromHex(x)).toBe(a.toString())
      })
    )
    expect(ShardMap.toHex("0")).toBe(ShardMap.MIN_HASH_KEY)
    expect(ShardMap.toHex(MAX.toString())).toBe(ShardMap.MAX_HASH_KEY)
    expect(ShardMap.fromHex(ShardMap.MAX_HASH_KEY)).toBe(MAX.toString())
  })
})

describe("ShardMap partitionKeyLocator", () => {
  it("places any key where the BigInt reference does, on any map", () => {
    fc.assert(
      fc.property(shardsArbitrary, fc.array(fc.string({ unit: "binary", minLength: 1, maxLength: 60 })), (
        shards,
        keys
      ) => {
        const locate = ShardMap.partitionKeyLocator(ShardMap.fromShards(shards))
        for (const key of keys) expect(locate(key)).toBe(referenceShardOf(shards, referenceHash(key)))
      })
    )
  })

  it("decides by the whole hash key when its first 48 bits are those of a range's bound", () => {
    // Bounds a few units from keys' own hashes: the first 48 bits tie, the other 80 decide.
    fc.assert(
      fc.property(
        fc.string({ minLength: 1, maxLength: 20 }),
        fc.integer({ min: -3, max: 3 }),
        fc.integer({ min: -3, max: 3 }),
        fc.boolean(),
        (key, startOffset, endOffset, gapAfter) => {
          const hash = referenceHash(key)
          const clamp = (value: bigint) => value < 1n ? 1n : value > MAX - 1n ? MAX - 1n : value
          const start = clamp(hash + BigInt(startOffset))
          const end = clamp(hash + BigInt(endOffset) + 10n)
          const shards = [
            shard(0, 0n, start - 1n),
            shard(1, start, end),
            ...(gapAfter ? [] : [shard(2, end + 1n, MAX)])
          ]
          const locate = ShardMap.partitionKeyLocator(ShardMap.fromShards(shards))
          expect(locate(key)).toBe(referenceShardOf(shards, hash))
        }
      )
    )
  })

  it("answers undefined on an empty map, and below or above every range", () => {
    expect(ShardMap.partitionKeyLocator(ShardMap.empty)("key")).toBeUndefined()
    const hash = referenceHash("key")
    const above = ShardMap.fromShards([shard(0, hash + 1n, MAX)])
    const below = ShardMap.fromShards([shard(0, 0n, hash - 1n)])
    expect(ShardMap.partitionKeyLocator(above)("key")).toBeUndefined()
    expect(ShardMap.partitionKeyLocator(below)("key")).toBeUndefined()
  })
})

describe("ShardMap lookup", () => {
  const quarter = (MAX + 1n) / 4n
  const four = [0, 1, 2, 3].map((i) => shard(i, BigInt(i) * quarter, BigInt(i + 1) * quarter - 1n))

  it("finds the shard of each range's ends, inclusive, and of 0 and 2^128 - 1", () => {
    const map = ShardMap.fromShards(four)
    expect(ShardMap.size(map)).toBe(4)
    expect(ShardMap.shardOf(map, ShardMap.MIN_HASH_KEY)).toBe(four[0].ShardId)
    expect(ShardMap.shardOf(map, ShardMap.MAX_HASH_KEY)).toBe(four[3].ShardId)
    for (const [i, s] of four.entries()) {
      expect(ShardMap.shardOf(map, ShardMap.toHex(s.HashKeyRange!.StartingHashKey!))).toBe(four[i].ShardId)
      expect(ShardMap.shardOf(map, ShardMap.toHex(s.HashKeyRange!.EndingHashKey!))).toBe(four[i].ShardId)
    }
  })

  it("ignores closed shards and answers undefined in a gap", () => {
    const parent = shard(9, 0n, MAX, true)
    const map = ShardMap.fromShards([parent, four[0], four[2], four[3]])
    expect(ShardMap.size(map)).toBe(3)
    expect(map.shards.map((s) => s.shardId)).toEqual([four[0].ShardId, four[2].ShardId, four[3].ShardId])
    expect(ShardMap.shardOf(map, ShardMap.toHex(quarter.toString()))).toBeUndefined()
    expect(ShardMap.shardOf(map, ShardMap.toHex((2n * quarter - 1n).toString()))).toBeUndefined()
    expect(ShardMap.shardOf(map, ShardMap.toHex((quarter - 1n).toString()))).toBe(four[0].ShardId)
    expect(ShardMap.shardOf(map, ShardMap.toHex((2n * quarter).toString()))).toBe(four[2].ShardId)
    expect(ShardMap.shardOf(ShardMap.empty, ShardMap.MIN_HASH_KEY)).toBeUndefined()
    expect(ShardMap.predict(ShardMap.empty, "key", undefined)).toBeUndefined()
  })

  it("predicts a single shard over the whole key space without hashing, and hashes when it covers less", () => {
    const whole = ShardMap.fromShards([shard(0, 0n, MAX)])
    expect(ShardMap.predict(whole, "anything", undefined)).toBe(whole.shards[0].shardId)
    const half = ShardMap.fromShards([shard(1, 0n, MAX / 2n)])
    const low = ["a", "b", "c", "d", "e", "f", "g", "h"].find((key) => referenceHash(key) <= MAX / 2n)!
    const high = ["a", "b", "c", "d", "e", "f", "g", "h"].find((key) => referenceHash(key) > MAX / 2n)!
    expect(ShardMap.predict(half, low, undefined)).toBe(half.shards[0].shardId)
    expect(ShardMap.predict(half, high, undefined)).toBeUndefined()
  })

  it("finds what a linear BigInt scan finds, on random maps, at random keys and at every range's ends", () => {
    fc.assert(
      fc.property(shardsArbitrary, fc.array(hashKeyArbitrary, { maxLength: 50 }), (shards, randomKeys) => {
        const map = ShardMap.fromShards(shards)
        const ends = shards.flatMap((s) => {
          const start = BigInt(s.HashKeyRange!.StartingHashKey!)
          const end = BigInt(s.HashKeyRange!.EndingHashKey!)
          return [start, end, start - 1n, end + 1n]
        })
        const keys = [0n, MAX, ...randomKeys, ...ends].filter((key) => key >= 0n && key <= MAX)
        for (const key of keys) {
          expect(ShardMap.shardOf(map, ShardMap.toHex(key.toString()))).toBe(referenceShardOf(shards, key))
        }
      })
    )
  })

  it("predicts a record's shard from its partition key or explicit hash key as the reference does", () => {
    fc.assert(
      fc.property(
        shardsArbitrary,
        fc.string({ unit: "binary", minLength: 1, maxLength: 64 }),
        fc.option(hashKeyArbitrary, { nil: undefined }),
        (shards, partitionKey, explicit) => {
          const map = ShardMap.fromShards(shards)
          const key = explicit ?? referenceHash(partitionKey)
          expect(ShardMap.predict(map, partitionKey, explicit?.toString())).toBe(referenceShardOf(shards, key))
        }
      )
    )
  })

  it("tells a refresh that changed nothing from one that did", () => {
    fc.assert(
      fc.property(shardsArbitrary, (shards) => {
        const map = ShardMap.fromShards(shards)
        expect(ShardMap.equals(map, ShardMap.fromShards([...shards].reverse()))).toBe(true)
        // Closed shards take no writes: listing them or not changes nothing.
        const open = shards.filter((s) => s.SequenceNumberRange?.EndingSequenceNumber === undefined)
        expect(ShardMap.equals(map, ShardMap.fromShards(open))).toBe(true)
        if (open.length > 0) {
          const closedOne = {
            ...open[0],
            SequenceNumberRange: { StartingSequenceNumber: "0", EndingSequenceNumber: "1" }
          }
          expect(ShardMap.equals(map, ShardMap.fromShards([closedOne, ...open.slice(1)]))).toBe(false)
        }
      })
    )
    const base = ShardMap.fromShards([shard(0, 0n, 10n), shard(1, 11n, MAX)])
    expect(ShardMap.equals(base, ShardMap.fromShards([shard(0, 0n, 11n), shard(1, 12n, MAX)]))).toBe(false)
    expect(ShardMap.equals(base, ShardMap.fromShards([shard(0, 0n, 10n), shard(2, 11n, MAX)]))).toBe(false)
  })
})

describe("ShardMap listing", () => {
  it("asks the first page for the stream's open shards, by name or by ARN", () => {
    expect(ShardMap.firstListing({ StreamName: "orders" })).toEqual({
      StreamName: "orders",
      ShardFilter: { Type: "AT_LATEST" }
    })
    const arn = "arn:aws:kinesis:eu-west-1:123456789012:stream/orders"
    expect(ShardMap.firstListing({ StreamARN: arn })).toEqual({ StreamARN: arn, ShardFilter: { Type: "AT_LATEST" } })
  })

  it("asks the next page by its token alone, and stops at a page without one", () => {
    expect(ShardMap.nextListing({ NextToken: "AAAA" })).toEqual({ NextToken: "AAAA" })
    expect(ShardMap.nextListing({})).toBeUndefined()
    expect(ShardMap.nextListing({ NextToken: undefined })).toBeUndefined()
    expect(ShardMap.nextListing({ NextToken: "" })).toBeUndefined()
  })

  it("reads every page of any paged listing into the map of the whole listing", () => {
    fc.assert(
      fc.property(shardsArbitrary, fc.integer({ min: 1, max: 7 }), (shards, pageSize) => {
        // A ListShards that answers `pageSize` shards a page, its token the offset of the next page.
        const requests: Array<object> = []
        const listShards = (request: ReturnType<typeof ShardMap.firstListing> | { readonly NextToken: string }) => {
          requests.push(request)
          const from = "NextToken" in request ? Number(request.NextToken) : 0
          const next = from + pageSize < shards.length ? String(from + pageSize) : undefined
          return { Shards: shards.slice(from, from + pageSize), ...(next === undefined ? {} : { NextToken: next }) }
        }
        const listed: Array<ShardMap.Shard> = []
        let page = listShards(ShardMap.firstListing({ StreamName: "s" }))
        listed.push(...page.Shards)
        for (let next = ShardMap.nextListing(page); next !== undefined; next = ShardMap.nextListing(page)) {
          page = listShards(next)
          listed.push(...page.Shards)
        }
        expect(listed).toEqual(shards)
        expect(ShardMap.equals(ShardMap.fromShards(listed), ShardMap.fromShards(shards))).toBe(true)
        expect(requests).toEqual([
          { StreamName: "s", ShardFilter: { Type: "AT_LATEST" } },
          ...Array.from({ length: Math.max(0, Math.ceil(shards.length / pageSize) - 1) }, (_, i) => ({
            NextToken: String((i + 1) * pageSize)
          }))
        ])
      })
    )
  })
})
