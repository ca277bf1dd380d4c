import { DeliveryFailed, RecordFailed } from "@effect-kinesis/writer"
import { describe, expect, it } from "./support/line.js"

// Bytes that are not UTF-8 and not at the start of their buffer: the base64 must be of the view, not of the buffer.
const backing = new Uint8Array([9, 9, 0, 255, 104, 105, 128, 9])
const data = backing.subarray(2, 7)

const failed = new RecordFailed({
  stream: "orders",
  data,
  partitionKey: "user-42",
  explicitHashKey: "17",
  code: "AccessDeniedException",
  detail: "not allowed",
  attempts: 1,
  retriable: false
})

describe("RecordFailed as JSON", () => {
  it("writes the data as base64 in dataBase64, beside every other field", () => {
    const json = JSON.parse(JSON.stringify(failed)) as Record<string, unknown>
    expect(json).toEqual({
      _tag: "RecordFailed",
      message: failed.message,
      stream: "orders",
      partitionKey: "user-42",
      explicitHashKey: "17",
      code: "AccessDeniedException",
      detail: "not allowed",
      attempts: 1,
      retriable: false,
      dataBase64: "AP9oaYA="
    })
    expect([...Buffer.from(json.dataBase64 as string, "base64")]).toEqual([...data])
  })

  it("leaves out an explicit hash key the record did not have, and writes empty data as an empty string", () => {
    const plain = new RecordFailed({
      stream: "orders",
      data: new Uint8Array(0),
      partitionKey: "k",
      code: "ShutdownTimeout",
      detail: "",
      attempts: 3,
      retriable: true
    })
    const json = JSON.parse(JSON.stringify(plain)) as Record<string, unknown>
    expect(json).not.toHaveProperty("explicitHashKey")
    expect(json).not.toHaveProperty("data")
    expect(json.dataBase64).toBe("")
    expect(json.attempts).toBe(3)
  })

  it("is the form of each failure inside DeliveryFailed", () => {
    const delivery = new DeliveryFailed({ stream: "orders", failures: [failed], unlisted: 2 })
    const json = JSON.parse(JSON.stringify(delivery)) as { failures: Array<Record<string, unknown>>; unlisted: number }
    expect(json.unlisted).toBe(2)
    expect(json.failures[0]?.dataBase64).toBe("AP9oaYA=")
    expect(json.failures[0]).not.toHaveProperty("data")
  })
})
