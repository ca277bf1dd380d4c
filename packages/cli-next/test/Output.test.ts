import { describe, expect, it } from "@effect/vitest"
import * as Output from "../src/Output.js"

const record: Output.Read = {
  shardId: "shardId-000000000001",
  sequenceNumber: "4968",
  partitionKey: "user-1",
  arrivalTime: new Date("2025-01-31T12:00:00Z"),
  data: new TextEncoder().encode(`{"a":1}`)
}

describe("Output", () => {
  it("prints a record as text, as base64, or as JSON with its key, shard and sequence number", () => {
    expect(Output.line("text", record)).toBe(`{"a":1}\n`)
    expect(Output.line("base64", record)).toBe("eyJhIjoxfQ==\n")
    expect(JSON.parse(Output.line("json", { ...record, subSequenceNumber: 3 }))).toEqual({
      shardId: "shardId-000000000001",
      sequenceNumber: "4968",
      subSequenceNumber: 3,
      partitionKey: "user-1",
      arrivalTime: "2025-01-31T12:00:00.000Z",
      data: `{"a":1}`
    })
  })

  it("gives bytes that are not UTF-8 in base64 in JSON", () => {
    expect(JSON.parse(Output.line("json", { ...record, data: Uint8Array.of(0xff, 0) }))).toMatchObject({
      base64: "/wA="
    })
  })
})
