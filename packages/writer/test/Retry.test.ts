import { KinesisError, Retry } from "@effect-kinesis/writer"
import { describe, expect, it } from "@effect/vitest"

const sdkError = (name: string, status?: number) =>
  Object.assign(new Error(`${name} happened`), { name, $metadata: { httpStatusCode: status } })

describe("Retry.classify", () => {
  it("retries throttling, internal failures, KMS throttling, 5xx, timeouts and broken connections", () => {
    for (
      const error of [
        sdkError("ProvisionedThroughputExceededException", 400),
        sdkError("ThrottlingException", 400),
        sdkError("LimitExceededException", 400),
        sdkError("InternalFailure", 500),
        sdkError("KMSThrottlingException", 400),
        sdkError("SomethingNew", 503),
        sdkError("TimeoutError"),
        Object.assign(new Error("socket hang up"), { code: "ECONNRESET" }),
        Object.assign(new Error("refused"), { code: "ECONNREFUSED" })
      ]
    ) {
      const classified = Retry.classify("PutRecords", error)
      expect(classified, classified.code).toBeInstanceOf(KinesisError)
      expect(classified.retriable, classified.code).toBe(true)
    }
  })

  it("does not retry missing streams, bad arguments, denied access or KMS errors", () => {
    for (
      const name of [
        "ResourceNotFoundException",
        "InvalidArgumentException",
        "ValidationException",
        "AccessDeniedException",
        "KMSAccessDeniedException",
        "KMSDisabledException",
        "KMSInvalidStateException",
        "KMSNotFoundException",
        "KMSOptInRequired",
        "ExpiredTokenException"
      ]
    ) {
      const classified = Retry.classify("PutRecords", sdkError(name, 400))
      expect(classified.code).toBe(name)
      expect(classified.retriable, name).toBe(false)
      expect(classified.statusCode).toBe(400)
    }
  })

  it("keeps the SDK's message and the original error", () => {
    const original = sdkError("AccessDeniedException", 400)
    const classified = Retry.classify("PutRecords", original)
    expect(classified.message).toBe("AccessDeniedException: AccessDeniedException happened")
    expect(classified.cause).toBe(original)
  })

  it("does not retry an unknown 4xx, and never crashes on odd throws", () => {
    expect(Retry.classify("PutRecords", sdkError("Teapot", 418)).retriable).toBe(false)
    expect(Retry.classify("PutRecords", "a string").code).toBe("UnknownError")
    expect(Retry.classify("PutRecords", null).retriable).toBe(false)
  })
})
