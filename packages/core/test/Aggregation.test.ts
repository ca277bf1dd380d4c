import { Aggregation, Record } from "@effect-kinesis/core"
import * as fc from "fast-check"
import * as crypto from "node:crypto"
import { createRequire } from "node:module"
import { describe, expect, it } from "vitest"

// aws-kinesis-agg is CommonJS and its typings import packages this project does not install: typed here instead.
interface AwsUserRecord {
  readonly partitionKey: string
  readonly explicitPartitionKey?: string
  readonly subSequenceNumber?: number
  readonly data: string
}
interface AwsKinesisAgg {
  readonly deaggregateSync: (
    record: { data: string; partitionKey: string; explicitPartitionKey?: string; sequenceNumber: string },
    computeChecksums: boolean,
    done: (error: Error | undefined, records?: Array<AwsUserRecord>) => void
  ) => void
}
const require = createRequire(import.meta.url)
const awsKinesisAgg: AwsKinesisAgg = require("aws-kinesis-agg")
const protobufjs: {
  readonly AggregatedRecord: { encode: (message: object) => { finish: () => Uint8Array } }
} = require("aws-kinesis-agg/lib/common.js")

const MiB = 1024 * 1024
const bytes = (...values: Array<number>) => Uint8Array.from(values)
const hex = (text: string) => Uint8Array.from(Buffer.from(text, "hex"))
const md5 = (data: Uint8Array) => Uint8Array.from(crypto.createHash("md5").update(data).digest())
const concat = (...parts: Array<Uint8Array>) => Uint8Array.from(Buffer.concat(parts))
const framed = (message: Uint8Array) => concat(Aggregation.MAGIC, message, md5(message))

const aggregateOf = (records: ReadonlyArray<Aggregation.UserRecord>) => {
  const aggregate = Aggregation.make()
  for (const record of records) Aggregation.add(aggregate, record)
  return aggregate
}

const decoded = (data: Uint8Array) => {
  const result = Aggregation.decode({ partitionKey: Aggregation.PARTITION_KEY, data })
  if (Aggregation.isMalformed(result)) throw new Error(`expected user records, got: ${result.reason}`)
  return result
}

const normalized = (records: ReadonlyArray<Aggregation.UserRecord>) =>
  records.map((record) => ({
    partitionKey: record.partitionKey,
    explicitHashKey: record.explicitHashKey,
    data: [...record.data]
  }))

/** What aws-kinesis-agg makes of an aggregated record, with checksums verified. */
const awsDeaggregate = (data: Uint8Array): Array<AwsUserRecord> => {
  let result: Array<AwsUserRecord> | undefined
  awsKinesisAgg.deaggregateSync(
    { data: Buffer.from(data).toString("base64"), partitionKey: Aggregation.PARTITION_KEY, sequenceNumber: "1" },
    true,
    (error, records) => {
      if (error !== undefined && error !== null) throw error
      result = records
    }
  )
  if (result === undefined) throw new Error("aws-kinesis-agg returned nothing")
  return result
}

const expectAwsReads = (data: Uint8Array, records: ReadonlyArray<Aggregation.UserRecord>) => {
  const read = awsDeaggregate(data)
  expect(read.length).toBe(records.length)
  read.forEach((user, i) => {
    const record = records[i]
    expect(user.partitionKey).toBe(record.partitionKey)
    // aws-kinesis-agg gives a record without an index the table's first key (protobufjs' default index 0), where
    // the KCL gives none: compare only where one was set.
    if (record.explicitHashKey !== undefined) expect(user.explicitPartitionKey).toBe(record.explicitHashKey)
    expect(user.subSequenceNumber).toBe(i)
    expect(Buffer.from(user.data, "base64").equals(Buffer.from(record.data))).toBe(true)
  })
}

const partitionKey = fc.oneof(
  fc.constantFrom("a", "b", "é", "日本", "🙂", "key-🚀-ключ"),
  fc.string({ unit: "binary", minLength: 1, maxLength: 20 }),
  fc.string({ unit: "grapheme", minLength: 1, maxLength: 8 }),
  fc.uuid()
)
const explicitHashKey = fc.option(
  fc.oneof(
    fc.constantFrom("0", "1", Record.MAX_EXPLICIT_HASH_KEY.toString()),
    fc.bigInt({ min: 0n, max: Record.MAX_EXPLICIT_HASH_KEY }).map(String)
  ),
  { nil: undefined }
)
const userRecord: fc.Arbitrary<Aggregation.UserRecord> = fc.record({
  partitionKey,
  explicitHashKey,
  data: fc.oneof(fc.constant(new Uint8Array(0)), fc.uint8Array({ maxLength: 300 }))
})

describe("Aggregation.encode", () => {
  it("writes every byte of a small aggregate as the KPL format says", () => {
    const aggregate = aggregateOf([
      { partitionKey: "a", data: bytes(1, 2) },
      { partitionKey: "bé", explicitHashKey: "42", data: bytes() },
      { partitionKey: "a", data: bytes(0xff) }
    ])
    const message = bytes(
      ...[0x0a, 0x01, 0x61], // partition key table: "a"
      ...[0x0a, 0x03, 0x62, 0xc3, 0xa9], // partition key table: "bé" (3 UTF-8 bytes)
      ...[0x12, 0x02, 0x34, 0x32], // explicit hash key table: "42"
      ...[0x1a, 0x06, 0x08, 0x00, 0x1a, 0x02, 0x01, 0x02], // record: key 0, data 01 02
      ...[0x1a, 0x06, 0x08, 0x01, 0x10, 0x00, 0x1a, 0x00], // record: key 1, hash key 0, empty data
      ...[0x1a, 0x05, 0x08, 0x00, 0x1a, 0x01, 0xff] // record: key 0 again, data ff
    )
    const expected = concat(bytes(0xf3, 0x89, 0x9a, 0xc2), message, hex("c2aca551004868d77442d8c82857eb20"))
    expect(Aggregation.encode(aggregate)).toEqual(expected)
    expect(Aggregation.size(aggregate)).toBe(4 + 35 + 16)
    expect(Aggregation.count(aggregate)).toBe(3)
  })

  it("writes lengths of 128 and more as varints of two bytes", () => {
    const aggregate = aggregateOf([{ partitionKey: "k", data: new Uint8Array(200).fill(7) }])
    const message = concat(
      bytes(0x0a, 0x01, 0x6b),
      bytes(0x1a, 0xcd, 0x01), // the record's 205 bytes
      bytes(0x08, 0x00, 0x1a, 0xc8, 0x01), // key 0, data of 200 bytes
      new Uint8Array(200).fill(7)
    )
    expect(message.length).toBe(211)
    expect(Aggregation.encode(aggregate)).toEqual(
      concat(Aggregation.MAGIC, message, hex("bdaed74cc83fbb5d68baf0bde02b28d0"))
    )
  })

  it("writes an empty aggregate as the frame around an empty message", () => {
    const empty = Aggregation.make()
    expect(Aggregation.size(empty)).toBe(Aggregation.OVERHEAD)
    expect(Aggregation.encode(empty)).toEqual(
      concat(Aggregation.MAGIC, hex("d41d8cd98f00b204e9800998ecf8427e"))
    )
  })

  it("gives the same bytes as protobufjs, which aws-kinesis-agg aggregates with", () => {
    const records = [
      { partitionKey: "p1", explicitHashKey: "7", data: bytes(1) },
      { partitionKey: "p2", explicitHashKey: "8", data: bytes() },
      { partitionKey: "p1", explicitHashKey: "7", data: bytes(2, 3) }
    ]
    const message = protobufjs.AggregatedRecord.encode({
      partition_key_table: ["p1", "p2"],
      explicit_hash_key_table: ["7", "8"],
      records: [
        { partition_key_index: 0, explicit_hash_key_index: 0, data: bytes(1), tags: [] },
        { partition_key_index: 1, explicit_hash_key_index: 1, data: bytes(), tags: [] },
        { partition_key_index: 0, explicit_hash_key_index: 0, data: bytes(2, 3), tags: [] }
      ]
    }).finish()
    expect(Aggregation.encode(aggregateOf(records))).toEqual(framed(Uint8Array.from(message)))
  })

  it("puts each partition key and explicit hash key once in its table", () => {
    const aggregate = aggregateOf([
      { partitionKey: "same", explicitHashKey: "1", data: bytes(1) },
      { partitionKey: "same", explicitHashKey: "1", data: bytes(2) },
      { partitionKey: "other", explicitHashKey: "1", data: bytes(3) }
    ])
    const encoded = Aggregation.encode(aggregate)
    const text = Buffer.from(encoded).toString("latin1")
    expect(text.split("same").length - 1).toBe(1)
    expect(text.split("other").length - 1).toBe(1)
    expect(decoded(encoded).map((record) => record.partitionKey)).toEqual(["same", "same", "other"])
  })

  it("writes indexes of 128 and more, which aws-kinesis-agg reads back", () => {
    const records = Array.from({ length: 300 }, (_, i) => ({
      partitionKey: `key-${i}`,
      explicitHashKey: String(i * 1000),
      data: bytes(i & 0xff)
    }))
    const aggregate = aggregateOf(records)
    const encoded = Aggregation.encode(aggregate)
    expect(encoded.length).toBe(Aggregation.size(aggregate))
    expect(normalized(decoded(encoded))).toEqual(normalized(records))
    expectAwsReads(encoded, records)
  })
})

describe("Aggregation sizes", () => {
  it("predicts the encoded size after every add, and sizeWith adds nothing", () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(userRecord, userRecord, fc.boolean()), { maxLength: 40 }), (steps) => {
        const aggregate = Aggregation.make()
        // The same records, each added as a fresh copy and never probed: what `aggregate` must equal.
        const plain = Aggregation.make()
        for (const [record, probe, twice] of steps) {
          const before = Aggregation.size(aggregate)
          const predicted = Aggregation.sizeWith(aggregate, record)
          // Another record measured between sizeWith and add neither answers for it nor leaks into the add.
          expect(Aggregation.sizeWith(aggregate, probe)).toBe(Aggregation.sizeWith(plain, { ...probe }))
          expect(Aggregation.size(aggregate)).toBe(before)
          expect(Aggregation.encode(aggregate).length).toBe(before)
          const position = Aggregation.add(aggregate, record)
          Aggregation.add(plain, { ...record })
          expect(position).toBe(Aggregation.count(aggregate) - 1)
          expect(Aggregation.size(aggregate)).toBe(predicted)
          expect(Aggregation.encode(aggregate).length).toBe(predicted)
          if (twice) {
            // The same object again: its keys are in the tables now.
            const again = Aggregation.sizeWith(aggregate, record)
            Aggregation.add(aggregate, record)
            Aggregation.add(plain, { ...record })
            expect(Aggregation.size(aggregate)).toBe(again)
          }
          expect(Aggregation.encode(aggregate)).toEqual(Aggregation.encode(plain))
        }
      }),
      { numRuns: 200 }
    )
  })

  it("counts what Kinesis counts: the data and the aggregate's partition key in UTF-8", () => {
    const aggregate = aggregateOf([{ partitionKey: "k", data: bytes(1, 2, 3) }])
    expect(Aggregation.kinesisSize(aggregate, "a")).toBe(Aggregation.size(aggregate) + 1)
    expect(Aggregation.kinesisSize(aggregate, "ключ🙂")).toBe(Aggregation.size(aggregate) + 8 + 4)
  })

  it("counts a key with a lone surrogate as the 3 bytes of U+FFFD it is written as", () => {
    const aggregate = aggregateOf([{ partitionKey: "a\ud800b", data: bytes(1) }])
    const encoded = Aggregation.encode(aggregate)
    expect(encoded.length).toBe(Aggregation.size(aggregate))
    expect(decoded(encoded)[0].partitionKey).toBe("a\ufffdb")
  })
})

describe("Aggregation.decode", () => {
  it("returns the records encoded, in order, keys and data byte for byte", () => {
    fc.assert(
      fc.property(fc.array(userRecord, { maxLength: 60 }), (records) => {
        const encoded = Aggregation.encode(aggregateOf(records))
        expect(Aggregation.isAggregated(encoded)).toBe(true)
        expect(normalized(decoded(encoded))).toEqual(normalized(records))
      }),
      { numRuns: 300 }
    )
  })

  it("gives a record that is not aggregated back as it is", () => {
    const data = new TextEncoder().encode("plain")
    expect(Aggregation.decode({ partitionKey: "pk", explicitHashKey: "9", data })).toEqual([
      { partitionKey: "pk", explicitHashKey: "9", data }
    ])
    expect(Aggregation.decode({ partitionKey: "pk", data: bytes() })).toEqual([
      { partitionKey: "pk", explicitHashKey: undefined, data: bytes() }
    ])
  })

  it("reads what other protobuf writers may write: tags, unknown fields, tables after the records", () => {
    const message = concat(
      bytes(0x1a, 0x13, 0x08, 0x01, 0x10, 0x00, 0x1a, 0x01, 0x09), // record of 19 bytes: key 1, hash key 0, data 09
      bytes(0x22, 0x03, 0x0a, 0x01, 0x74), // its tag { key: "t" }
      bytes(0x78, 0x05, 0x7d, 0x01, 0x02, 0x03, 0x04), // its unknown fields 15: a varint, a fixed32
      bytes(0x28, 0x01, 0x31, 1, 2, 3, 4, 5, 6, 7, 8), // unknown fields of the message: 5, a varint; 6, a fixed64
      bytes(0x0a, 0x01, 0x61, 0x0a, 0x01, 0x62, 0x12, 0x01, 0x35) // tables: "a", "b"; "5"
    )
    expect(decoded(framed(message))).toEqual([{ partitionKey: "b", explicitHashKey: "5", data: bytes(9) }])
  })

  it("fails with the reason on a framed aggregate whose message is broken", () => {
    const reason = (message: Uint8Array) => {
      const result = Aggregation.decode({ partitionKey: "a", data: framed(message) })
      if (!Aggregation.isMalformed(result)) throw new Error("expected a failure")
      expect(result).toBeInstanceOf(Aggregation.Malformed)
      expect(result._tag).toBe("Malformed")
      return result.reason
    }
    expect(reason(bytes(0x1a, 0x02, 0x08, 0x00))).toContain("has no data")
    expect(reason(bytes(0x1a, 0x02, 0x1a, 0x00))).toContain("has no partition key index")
    expect(reason(bytes(0x0a, 0x01, 0x61, 0x1a, 0x04, 0x08, 0x01, 0x1a, 0x00))).toContain("partition key index 1")
    expect(reason(bytes(0x0a, 0x01, 0x61, 0x1a, 0x06, 0x08, 0x00, 0x10, 0x00, 0x1a, 0x00)))
      .toContain("explicit hash key index 0")
    expect(reason(bytes(0x0a, 0x05, 0x61))).toContain("runs past the end")
    expect(reason(bytes(0x0a, 0x80))).toContain("varint")
    expect(reason(bytes(0x0b))).toContain("wire type 3")
  })
})

describe("Aggregation.isAggregated", () => {
  const good = Aggregation.encode(aggregateOf([{ partitionKey: "k", data: bytes(1, 2, 3) }]))

  it("knows an aggregate, also an empty one", () => {
    expect(Aggregation.isAggregated(good)).toBe(true)
    expect(Aggregation.isAggregated(Aggregation.encode(Aggregation.make()))).toBe(true)
  })

  it("refuses plain data, a wrong magic number, a bad digest and a record too short for the frame", () => {
    expect(Aggregation.isAggregated(new TextEncoder().encode("just some text that is long enough"))).toBe(false)
    expect(Aggregation.isAggregated(bytes())).toBe(false)
    for (let i = 0; i < 4; i++) {
      const wrongMagic = Uint8Array.from(good)
      wrongMagic[i] ^= 1
      expect(Aggregation.isAggregated(wrongMagic)).toBe(false)
    }
    const badDigest = Uint8Array.from(good)
    badDigest[badDigest.length - 1] ^= 1
    expect(Aggregation.isAggregated(badDigest)).toBe(false)
    const badMessage = Uint8Array.from(good)
    badMessage[5] ^= 1
    expect(Aggregation.isAggregated(badMessage)).toBe(false)
    expect(Aggregation.isAggregated(concat(Aggregation.MAGIC, new Uint8Array(15)))).toBe(false)
    expect(Aggregation.isAggregated(Aggregation.MAGIC)).toBe(false)
  })

  it("reads a record whose digest does not match as a plain record", () => {
    const badDigest = Uint8Array.from(good)
    badDigest[badDigest.length - 1] ^= 1
    expect(decoded(badDigest)).toEqual([{ partitionKey: "a", explicitHashKey: undefined, data: badDigest }])
  })
})

describe("Aggregation read by aws-kinesis-agg", () => {
  it("gives back every user record: UTF-8 keys, explicit hash keys, empty data", () => {
    fc.assert(
      fc.property(fc.array(userRecord, { minLength: 1, maxLength: 60 }), (records) => {
        expectAwsReads(Aggregation.encode(aggregateOf(records)), records)
      }),
      { numRuns: 200 }
    )
  })

  it("gives back an aggregate packed up to 1 MiB as Kinesis counts it", () => {
    const limit = MiB - Record.utf8Length(Aggregation.PARTITION_KEY)
    const aggregate = Aggregation.make()
    const records: Array<Aggregation.UserRecord> = []
    for (let i = 0;; i++) {
      const record = {
        partitionKey: `ключ-${i % 700}-🙂`,
        explicitHashKey: i % 3 === 0 ? undefined : String(BigInt(i) * 10n ** 30n),
        data: i % 50 === 0 ? bytes() : crypto.randomBytes(100 + (i * 37) % 2000)
      }
      if (Aggregation.sizeWith(aggregate, record) > limit) break
      Aggregation.add(aggregate, record)
      records.push(record)
    }
    const encoded = Aggregation.encode(aggregate)
    expect(Aggregation.kinesisSize(aggregate, Aggregation.PARTITION_KEY)).toBeLessThanOrEqual(MiB)
    expect(encoded.length + 1).toBeGreaterThan(MiB - 2200)
    expect(Aggregation.count(aggregate)).toBe(records.length)
    expectAwsReads(encoded, records)
    expect(normalized(decoded(encoded))).toEqual(normalized(records))
  })
})
