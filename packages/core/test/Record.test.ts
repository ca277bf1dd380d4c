import { Record } from "@effect-kinesis/core"
import * as fc from "fast-check"
import { describe, expect, it } from "vitest"

const noRandom = () => {
  throw new Error("a random key was made though a key was given")
}
const fixedKey = () => "random-key"
const MiB = 1024 * 1024

const refusal = (message: unknown, key?: Record.Key, max = MiB) => {
  const result = Record.encode(message, key, fixedKey, max)
  if (!Record.isInvalid(result)) throw new Error(`expected a refusal, got a record of ${result.size} bytes`)
  expect(result).toBeInstanceOf(Record.Invalid)
  expect(result._tag).toBe("Invalid")
  return result.reason
}

const accepted = (message: unknown, key?: Record.Key, max = MiB) => {
  const given = typeof key === "string" ? key : key?.partitionKey
  const result = Record.encode(message, key, given === undefined ? fixedKey : noRandom, max)
  if (Record.isInvalid(result)) throw new Error(`expected a record, got: ${result.reason}`)
  return result
}

const decode = (bytes: Uint8Array) => new TextDecoder().decode(bytes)

describe("Record.encode", () => {
  it("sends a string as its UTF-8 bytes", () => {
    const record = accepted("héllo 👋", "k")
    expect([...record.data]).toEqual([...new TextEncoder().encode("héllo 👋")])
    expect(record.size).toBe(record.data.length + 1)
  })

  it("sends a Uint8Array as it is, without a copy", () => {
    const bytes = new Uint8Array([0, 255, 1])
    expect(accepted(bytes, "k").data).toBe(bytes)
  })

  it("sends other values as their JSON text", () => {
    expect(decode(accepted({ a: [1, "two", null, true] }, "k").data)).toBe(`{"a":[1,"two",null,true]}`)
    expect(decode(accepted(42, "k").data)).toBe("42")
    expect(decode(accepted(null, "k").data)).toBe("null")
  })

  it("refuses values JSON can not carry faithfully, without throwing", () => {
    expect(refusal(undefined)).toMatch(/undefined/)
    expect(refusal(10n)).toMatch(/BigInt/)
    expect(refusal({ nested: 10n })).toMatch(/BigInt/)
    const cycle: { self?: unknown } = {}
    cycle.self = cycle
    expect(refusal(cycle)).toMatch(/circular/)
    expect(refusal(() => 1)).toMatch(/function/)
    expect(refusal(Symbol("s"))).toMatch(/symbol/)
    expect(refusal(NaN)).toMatch(/NaN/)
    expect(refusal({ deep: [1, Infinity] })).toMatch(/Infinity/)
    expect(refusal(new ArrayBuffer(4))).toMatch(/Uint8Array/)
    expect(refusal(new Int16Array(2))).toMatch(/Uint8Array/)
  })

  it("refuses strings with lone surrogates, which UTF-8 can not carry", () => {
    expect(refusal("a\uD800b")).toMatch(/surrogate/)
    expect(refusal("\uDC00")).toMatch(/surrogate/)
    expect(refusal("ok", "key\uD83D")).toMatch(/surrogate/)
  })

  it("takes a record of exactly maxRecordBytes and refuses one byte more, counting the key's UTF-8 bytes", () => {
    const key = "ключ" // 4 characters, 8 bytes
    expect(accepted(new Uint8Array(100 - 8), key, 100).size).toBe(100)
    expect(refusal(new Uint8Array(100 - 7), key, 100)).toMatch(/101 bytes/)
    expect(accepted("é".repeat(46), "ab", 94).size).toBe(94)
    expect(refusal("é".repeat(46), "abc", 94)).toMatch(/95 bytes/)
  })

  it("counts the random key against the limit too", () => {
    expect(Record.isInvalid(Record.encode(new Uint8Array(90), undefined, () => "x".repeat(11), 100))).toBe(true)
    expect(Record.isInvalid(Record.encode(new Uint8Array(90), undefined, () => "x".repeat(10), 100))).toBe(false)
  })

  it("takes partition keys of 1 to 256 characters and refuses an empty or longer one", () => {
    expect(accepted("m", "k").partitionKey).toBe("k")
    expect(accepted("m", "k".repeat(256)).partitionKey).toHaveLength(256)
    expect(refusal("m", "")).toMatch(/empty/)
    expect(refusal("m", "k".repeat(257))).toMatch(/257 characters/)
    // 256 UTF-16 code units even when that is 128 emoji
    expect(accepted("m", "😀".repeat(128)).partitionKey).toHaveLength(256)
    expect(refusal("m", "😀".repeat(128) + "a")).toMatch(/257/)
  })

  it("makes a random key only when none is given", () => {
    expect(accepted("m").partitionKey).toBe("random-key")
    expect(accepted("m", { explicitHashKey: "5" }).partitionKey).toBe("random-key")
    expect(accepted("m", { partitionKey: "given" }).partitionKey).toBe("given")
  })

  it("takes explicit hash keys from 0 to 2^128 - 1, in plain decimal", () => {
    const max = ((1n << 128n) - 1n).toString()
    expect(accepted("m", { partitionKey: "k", explicitHashKey: "0" }).explicitHashKey).toBe("0")
    expect(accepted("m", { partitionKey: "k", explicitHashKey: max }).explicitHashKey).toBe(max)
    for (const bad of [(1n << 128n).toString(), "-1", "01", "1.5", "1e3", "abc", "", " 1", "0x10"]) {
      expect(refusal("m", { partitionKey: "k", explicitHashKey: bad })).toMatch(/explicit hash key/)
    }
  })

  it("refuses keys that are not strings", () => {
    expect(refusal("m", 5 as unknown as string)).toMatch(/must be a string/)
    expect(refusal("m", { partitionKey: 5 as unknown as string })).toMatch(/must be a string/)
    expect(refusal("m", { explicitHashKey: 5 as unknown as string })).toMatch(/explicit hash key/)
  })
})

describe("Record.utf8Length", () => {
  it("equals the length of the UTF-8 encoding for any well-formed string", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme" }), (text) => {
        expect(Record.utf8Length(text)).toBe(new TextEncoder().encode(text).length)
      })
    )
  })

  it("counts a lone surrogate as the 3 bytes of U+FFFD, as TextEncoder writes it", () => {
    expect(Record.utf8Length("\ud800")).toBe(3)
    expect(Record.utf8Length("a\udc00b")).toBe(5)
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("\ud800", "\udc00", "a", "é", "\u{1f600}", "\u07ff") }), (text) => {
        expect(Record.utf8Length(text)).toBe(new TextEncoder().encode(text).length)
      })
    )
  })

  it("round-trips any well-formed string through encode", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary" }), (text) => {
        const record = accepted(text, "k", 10 * MiB)
        expect(decode(record.data)).toBe(text)
        expect(record.size).toBe(record.data.length + 1)
      })
    )
  })
})

describe("Record.encodeData", () => {
  it("gives the bytes encode sends, or the reason encode gives, without a key", () => {
    const messages: ReadonlyArray<unknown> = [
      "text",
      "héllo 👋",
      { a: 1 },
      [1, "two", null],
      42,
      null,
      new Uint8Array([1, 2]),
      "\ud800",
      Number.NaN,
      { deep: [Infinity] },
      undefined,
      10n,
      new ArrayBuffer(2),
      () => 1
    ]
    for (const message of messages) {
      const data = Record.encodeData(message)
      const record = Record.encode(message, "k", noRandom, 10 * MiB)
      if (Record.isInvalid(record)) {
        expect(data).toBeInstanceOf(Record.Invalid)
        expect(data).toMatchObject({ _tag: "Invalid", reason: record.reason, partitionKey: undefined })
      } else {
        expect(data).toBeInstanceOf(Uint8Array)
        expect([...(data as Uint8Array)]).toEqual([...record.data])
      }
    }
  })

  it("passes a Uint8Array through as it is", () => {
    const bytes = new Uint8Array([9, 8, 7])
    expect(Record.encodeData(bytes)).toBe(bytes)
  })
})

describe("Record.Invalid", () => {
  it("carries the partition key it was given, and none for a random one", () => {
    const withKey = Record.encode(Number.NaN, "orders-7", noRandom, MiB)
    expect(withKey).toMatchObject({ _tag: "Invalid", partitionKey: "orders-7" })
    const fromObject = Record.encode("x", { partitionKey: "p", explicitHashKey: "-1" }, noRandom, MiB)
    expect(fromObject).toMatchObject({ _tag: "Invalid", partitionKey: "p" })
    const tooLong = Record.encode("x".repeat(100), "key", noRandom, 50)
    expect(tooLong).toMatchObject({ _tag: "Invalid", partitionKey: "key" })
    const random = Record.encode(undefined, undefined, fixedKey, MiB)
    expect(random).toMatchObject({ _tag: "Invalid", partitionKey: undefined })
    expect(Record.isInvalid(random)).toBe(true)
  })
})
