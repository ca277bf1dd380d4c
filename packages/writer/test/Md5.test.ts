import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import { createHash } from "node:crypto"
import { md5Hex } from "../src/Md5.js"

// The reference: node's MD5 over the UTF-8 bytes TextEncoder makes (lone surrogates as U+FFFD).
const reference = (text: string) => createHash("md5").update(new TextEncoder().encode(text)).digest("hex")

describe("Md5", () => {
  it("gives RFC 1321's test vectors", () => {
    expect(md5Hex("")).toBe("d41d8cd98f00b204e9800998ecf8427e")
    expect(md5Hex("a")).toBe("0cc175b9c0f1b6a831c399e269772661")
    expect(md5Hex("abc")).toBe("900150983cd24fb0d6963f7d28e17f72")
    expect(md5Hex("message digest")).toBe("f96b697d7cb7938d525a2f31aaf161d0")
    expect(md5Hex("12345678901234567890123456789012345678901234567890123456789012345678901234567890"))
      .toBe("57edf4a22be3c955ac49da2e2107b67a")
  })

  it("agrees with node:crypto at every length around the block and padding edges", () => {
    for (let length = 0; length <= 200; length++) {
      const ascii = "k".repeat(length)
      expect(md5Hex(ascii)).toBe(reference(ascii))
      const wide = "é".repeat(length) // two bytes each
      expect(md5Hex(wide)).toBe(reference(wide))
    }
  })

  it("agrees with node:crypto on any string: astral characters, lone surrogates, long keys", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 300 }), (text) => {
        expect(md5Hex(text)).toBe(reference(text))
      }),
      { numRuns: 2000 }
    )
    fc.assert(
      fc.property(fc.string({ unit: fc.constantFrom("\ud800", "\udc00", "a", "\u{1f600}", "\u07ff"), maxLength: 50 }), (
        text
      ) => {
        expect(md5Hex(text)).toBe(reference(text))
      })
    )
  })

  it("grows its buffer for a key longer than any before, and stays right after", () => {
    const long = "x".repeat(5000)
    expect(md5Hex(long)).toBe(reference(long))
    expect(md5Hex("short")).toBe(reference("short"))
  })
})
