import { Hash } from "@effect-kinesis/core"
import * as fc from "fast-check"
import { createHash } from "node:crypto"
import { describe, expect, it } from "vitest"

// The reference: node's MD5 over the UTF-8 bytes TextEncoder makes (lone surrogates as U+FFFD).
const reference = (input: string | Uint8Array) =>
  createHash("md5").update(typeof input === "string" ? new TextEncoder().encode(input) : input).digest()

// Any string: ASCII, accents, CJK, astral characters and emoji sequences, lone surrogates.
const text = fc.oneof(
  fc.string({ unit: "binary", maxLength: 300 }),
  fc.string({ unit: "grapheme", maxLength: 40 }),
  fc.string({ unit: fc.constantFrom("\ud800", "\udc00", "a", "é", "键", "\u{1f600}", "\u07ff"), maxLength: 50 })
)

describe("Hash.md5", () => {
  it("gives RFC 1321's test vectors as 16 bytes", () => {
    const hex = (input: string) => Buffer.from(Hash.md5(input)).toString("hex")
    expect(Hash.md5("")).toHaveLength(16)
    expect(hex("")).toBe("d41d8cd98f00b204e9800998ecf8427e")
    expect(hex("abc")).toBe("900150983cd24fb0d6963f7d28e17f72")
    expect(hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"))
      .toBe("57edf4a22be3c955ac49da2e2107b67a")
  })

  it("hashes a string as its UTF-8 bytes, whatever it holds", () => {
    fc.assert(
      fc.property(text, (input) => {
        expect([...Hash.md5(input)]).toEqual([...reference(input)])
      }),
      { numRuns: 500 }
    )
  })

  it("hashes bytes as they are, also a view into a larger buffer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), fc.nat(20), fc.nat(20), (bytes, before, after) => {
        const buffer = new Uint8Array(before + bytes.length + after).fill(0xaa)
        buffer.set(bytes, before)
        const view = buffer.subarray(before, before + bytes.length)
        expect([...Hash.md5(bytes)]).toEqual([...reference(bytes)])
        expect([...Hash.md5(view)]).toEqual([...reference(bytes)])
      })
    )
  })
})

describe("Hash.hashKeyHex", () => {
  it("gives the MD5 of the key's UTF-8 bytes as 32 lowercase hex digits", () => {
    expect(Hash.hashKeyHex("a")).toBe("0cc175b9c0f1b6a831c399e269772661")
    // "é" is c3 a9 in UTF-8, not e9 as in Latin-1.
    expect(Hash.hashKeyHex("é")).toBe(createHash("md5").update(Buffer.from([0xc3, 0xa9])).digest("hex"))
    fc.assert(
      fc.property(text, (key) => {
        const hex = Hash.hashKeyHex(key)
        expect(hex).toMatch(/^[0-9a-f]{32}$/)
        expect(hex).toBe(reference(key).toString("hex"))
        expect(hex).toBe(Buffer.from(Hash.md5(key)).toString("hex"))
      }),
      { numRuns: 500 }
    )
  })
})
