import { describe, expect, it } from "@effect/vitest"
import * as fc from "fast-check"
import * as Lines from "../src/Lines.js"

const bytes = (text: string) => new TextEncoder().encode(text)
const text = (piece: Lines.Piece) => (piece._tag === "Line" ? new TextDecoder().decode(piece.bytes) : piece)

const split = (chunks: ReadonlyArray<string>, max = 100) => {
  const splitter = Lines.make(max)
  return [...chunks.flatMap((chunk) => Lines.push(splitter, bytes(chunk))), ...Lines.end(splitter)].map(text)
}

describe("Lines", () => {
  it("cuts lines at newlines, numbered from 1, whatever the chunk boundaries", () => {
    expect(split(["a\nbb", "b\n", "\ncc"])).toEqual(["a", "bbb", "", "cc"])
    expect(split(["a", "b", "c\n"])).toEqual(["abc"])
  })

  it("drops a final carriage return", () => {
    expect(split(["a\r\nb\r", "\n"])).toEqual(["a", "b"])
  })

  it("reports a line longer than the bound by its number and length, without keeping it", () => {
    const splitter = Lines.make(4)
    const pieces = [
      ...Lines.push(splitter, bytes("ok\n12345")),
      ...Lines.push(splitter, bytes("6789")),
      ...Lines.push(splitter, bytes("0\nlast"))
    ]
    expect(splitter.carry.length).toBe(1)
    expect([...pieces, ...Lines.end(splitter)].map(text)).toEqual([
      "ok",
      { _tag: "TooLong", number: 2, end: 14, length: 10 },
      "last"
    ])
  })

  it("keeps at most the bound in memory for a line that never ends", () => {
    const splitter = Lines.make(1024)
    for (let i = 0; i < 1000; i++) Lines.push(splitter, new Uint8Array(64 * 1024).fill(65))
    expect(splitter.carry).toEqual([])
    expect(Lines.end(splitter)).toEqual([{
      _tag: "TooLong",
      number: 1,
      end: 1000 * 64 * 1024,
      length: 1000 * 64 * 1024
    }])
  })

  it("gives the same lines for any chunking (property)", () => {
    fc.assert(fc.property(
      fc.array(fc.constantFrom("a", "b", "\n", "\r\n", "é"), { maxLength: 60 }),
      fc.array(fc.nat(), { maxLength: 10 }),
      (parts, cuts) => {
        const whole = parts.join("")
        const points = [...new Set(cuts.map((cut) => cut % (whole.length + 1)))].sort((a, b) => a - b)
        const chunks = [0, ...points].map((start, i, all) => whole.slice(start, all[i + 1] ?? whole.length))
        const expected = whole.split("\n").map((line) => line.replace(/\r$/, ""))
        if (whole.endsWith("\n") || whole === "") expected.pop()
        expect(split(chunks, 1000)).toEqual(expected)
      }
    ))
  })

  it("tells where each line ends, so that a reading started there goes on with the same lines and numbers (property)", () => {
    const encoder = new TextEncoder()
    fc.assert(fc.property(
      fc.array(fc.constantFrom("a", "bb", "\n", "\r\n", "é"), { maxLength: 60 }),
      fc.nat(),
      fc.integer({ min: 1, max: 7 }),
      (parts, pick, chunkSize) => {
        const whole = encoder.encode(parts.join(""))
        const read = (start: Lines.Start) => {
          const splitter = Lines.make(1000, start)
          const pieces: Array<Lines.Piece> = []
          for (let at = start.offset; at < whole.length; at += chunkSize) {
            pieces.push(...Lines.push(splitter, whole.subarray(at, Math.min(at + chunkSize, whole.length))))
          }
          return [...pieces, ...Lines.end(splitter)]
        }
        const all = read({ lines: 0, offset: 0 })
        // Each line's bytes lie between the end of the one before and its own end.
        let previous = 0
        for (const piece of all) {
          expect(piece.end).toBeGreaterThan(previous)
          if (piece._tag === "Line") {
            expect(new TextDecoder().decode(whole.subarray(previous, piece.end)).replace(/\r?\n$/, "")).toBe(
              new TextDecoder().decode(piece.bytes)
            )
          }
          previous = piece.end
        }
        expect(previous).toBe(whole.length)
        if (all.length === 0) return
        const from = pick % all.length
        const resumed = read({ lines: all[from].number, offset: all[from].end })
        expect(resumed.map((piece) => [piece.number, piece.end, text(piece)])).toEqual(
          all.slice(from + 1).map((piece) => [piece.number, piece.end, text(piece)])
        )
      }
    ))
  })
})
