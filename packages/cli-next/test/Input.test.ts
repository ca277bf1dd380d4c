import { describe, expect, it } from "@effect/vitest"
import * as Input from "../src/Input.js"

const bytes = (text: string) => new TextEncoder().encode(text)
const options = (more: Partial<Input.Options> = {}): Input.Options => ({
  format: "json",
  maxRecordBytes: 1024,
  ...more
})
const random = () => "random-key"
const parse = (line: string, more: Partial<Input.Options> = {}) => Input.parse(options(more), bytes(line), random)

describe("Input", () => {
  it("sends a JSON line as written, with its key from a dotted field", () => {
    const parsed = parse(`{"user": {"id": 42}, "n": 1}`, { keyField: Input.fieldPath("user.id") })
    expect(parsed).toMatchObject({ _tag: "Record", key: "42" })
    if (parsed._tag === "Record") expect(new TextDecoder().decode(parsed.message)).toBe(`{"user": {"id": 42}, "n": 1}`)
  })

  it("indexes arrays with numeric segments", () => {
    expect(parse(`{"a": [{"k": "x"}]}`, { keyField: ["a", "0", "k"] })).toMatchObject({ key: "x" })
  })

  it("refuses invalid JSON, a missing or non-scalar key field, and a record over the limit", () => {
    expect(parse(`{"a": `)).toMatchObject({ _tag: "Bad", reason: expect.stringMatching(/^invalid JSON/) })
    expect(parse(`{"a": 1}`, { keyField: ["user", "id"] })).toEqual({ _tag: "Bad", reason: "no field user.id" })
    expect(parse(`{"k": {"x": 1}}`, { keyField: ["k"] })).toEqual({ _tag: "Bad", reason: "field k is an object" })
    expect(parse(`{"k": null}`, { keyField: ["k"] })).toEqual({ _tag: "Bad", reason: "field k is null" })
    expect(parse(`"${"x".repeat(1100)}"`)).toMatchObject({
      _tag: "Bad",
      reason: expect.stringMatching(/limit is 1024/)
    })
    expect(Input.parse(options(), Uint8Array.of(0x22, 0xff, 0x22), random)).toMatchObject({ _tag: "Bad" })
  })

  it("takes explicit hash keys as decimal strings or safe integers, and refuses others", () => {
    const field = { explicitHashKeyField: ["h"] }
    expect(parse(`{"h": "340282366920938463463374607431768211455"}`, field)).toMatchObject({
      key: { partitionKey: "random-key", explicitHashKey: "340282366920938463463374607431768211455" }
    })
    expect(parse(`{"h": 7}`, field)).toMatchObject({ key: { explicitHashKey: "7" } })
    expect(parse(`{"h": "340282366920938463463374607431768211456"}`, field)).toMatchObject({ _tag: "Bad" })
    expect(parse(`{"h": 1e30}`, field)).toMatchObject({ _tag: "Bad" })
  })

  it("sends text lines as they are and base64 lines decoded; a fixed key or a random one", () => {
    expect(parse("not json at all", { format: "text", key: "k" })).toMatchObject({ _tag: "Record", key: "k" })
    const decoded = parse("AAEC/w==", { format: "base64" })
    expect(decoded).toMatchObject({ _tag: "Record", key: "random-key", message: Uint8Array.of(0, 1, 2, 255) })
    expect(parse("AAE*", { format: "base64" })).toMatchObject({ _tag: "Bad" })
  })

  it("skips empty lines", () => {
    expect(parse("")).toEqual({ _tag: "Blank" })
  })

  it("reads no line longer than a record could be", () => {
    expect(Input.maxLineBytes(options())).toBe(1024)
    expect(Input.maxLineBytes(options({ format: "base64" }))).toBe(1368)
  })
})
