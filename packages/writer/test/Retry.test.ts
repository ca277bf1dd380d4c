import { Kinesis, KinesisError, Retry } from "@effect-kinesis/writer"
import { Effect } from "effect"
import { createServer } from "node:net"
import type { AddressInfo } from "node:net"
import { describe, expect, it } from "./support/line.js"

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

describe("Retry.classify, a request that never reached a server", () => {
  it("names the root cause under the SDK's wrappers: cause chains, AggregateError, the message", () => {
    const dns = Object.assign(new Error("getaddrinfo ENOTFOUND kinesis.nowhere"), {
      code: "ENOTFOUND",
      syscall: "getaddrinfo"
    })
    const http2 = Object.assign(new Error("The pending stream has been canceled (caused by: getaddrinfo ENOTFOUND)"), {
      code: "ERR_HTTP2_STREAM_CANCEL",
      cause: dns,
      $metadata: { attempts: 1 }
    })
    const wrapped = Retry.classify("PutRecords", http2)
    expect(wrapped.code).toBe("ENOTFOUND")
    expect(wrapped.detail).toBe(
      "getaddrinfo ENOTFOUND kinesis.nowhere: the endpoint's host name does not resolve, so the request never reached" +
        " a server (reported as ERR_HTTP2_STREAM_CANCEL)"
    )
    expect(wrapped.cause).toBe(http2)
    expect(wrapped.retriable).toBe(true)

    const onlyInMessage = Object.assign(new Error("The stream has been canceled (caused by: connect EHOSTUNREACH)"), {
      code: "ERR_HTTP2_STREAM_CANCEL"
    })
    expect(Retry.classify("PutRecords", onlyInMessage).code).toBe("EHOSTUNREACH")

    const refused = (address: string) =>
      Object.assign(new Error(`connect ECONNREFUSED ${address}:4567`), { code: "ECONNREFUSED", syscall: "connect" })
    const aggregate = new AggregateError([refused("::1"), refused("127.0.0.1")], "")
    expect(Retry.classify("PutRecords", new Error("request failed", { cause: aggregate })).code).toBe("ECONNREFUSED")
  })

  it("does not retry a refused certificate", () => {
    const tls = Object.assign(new Error("self-signed certificate"), { code: "DEPTH_ZERO_SELF_SIGNED_CERT" })
    const classified = Retry.classify("PutRecords", tls)
    expect(classified.code).toBe("DEPTH_ZERO_SELF_SIGNED_CERT")
    expect(classified.retriable).toBe(false)
    expect(Retry.mayHaveStored(classified)).toBe(false)
  })
})

describe("Retry.mayHaveStored", () => {
  const classify = (error: unknown) => Retry.classify("PutRecords", error)
  const network = (code: string, fields: object = {}) =>
    Object.assign(new Error(`${code} happened`), { code, ...fields })

  it("is false when the request certainly never reached Kinesis, or was answered with a 4xx", () => {
    for (
      const error of [
        classify(network("ENOTFOUND", { syscall: "getaddrinfo" })),
        classify(network("EAI_AGAIN", { syscall: "getaddrinfo" })),
        classify(network("ECONNREFUSED", { syscall: "connect" })),
        classify(network("EHOSTUNREACH", { syscall: "connect" })),
        classify(network("ENETUNREACH", { syscall: "connect" })),
        classify(network("ETIMEDOUT", { syscall: "connect" })),
        classify(network("ERR_SSL_WRONG_VERSION_NUMBER")),
        classify(network("ERR_HTTP2_STREAM_CANCEL", { cause: network("ENOTFOUND") })),
        classify(network("ECONNRESET", {
          message: "Client network socket disconnected before secure TLS connection was established"
        })),
        classify(Object.assign(new Error("the request socket did not establish a connection with the server"), {
          name: "TimeoutError"
        })),
        classify(sdkError("ProvisionedThroughputExceededException", 400)),
        classify(sdkError("ResourceNotFoundException", 400)),
        classify(sdkError("Throttled", 429)),
        new KinesisError({
          operation: "PutRecords",
          code: "ProvisionedThroughputExceededException",
          detail: "",
          retriable: true
        })
      ]
    ) {
      expect(Retry.mayHaveStored(error), error.message).toBe(false)
    }
  })

  it("is true when the request was sent and no answer says what became of it", () => {
    for (
      const error of [
        classify(network("ECONNRESET")),
        classify(network("EPIPE")),
        classify(network("ETIMEDOUT", { name: "TimeoutError" })),
        classify(sdkError("TimeoutError")),
        classify(sdkError("InternalFailure", 500)),
        classify(sdkError("SomethingNew", 503)),
        classify(network("ERR_HTTP2_STREAM_CANCEL")),
        classify("a string"),
        new KinesisError({ operation: "PutRecords", code: "RequestTimeout", detail: "no answer", retriable: true })
      ]
    ) {
      expect(Retry.mayHaveStored(error), error.message).toBe(true)
    }
  })
})

describe("Retry.classify, through a real SDK client", () => {
  const credentials = { accessKeyId: "a", secretAccessKey: "b" }
  const put = (endpoint: string) =>
    Effect.gen(function*() {
      const kinesis = yield* Kinesis
      return yield* kinesis.putRecords({ StreamName: "s", Records: [{ Data: new Uint8Array([1]), PartitionKey: "k" }] })
        .pipe(Effect.flip)
    }).pipe(Effect.provide(Kinesis.layer({ region: "us-east-1", credentials, endpoint })))

  const closedPort = Effect.promise(() =>
    new Promise<number>((resolve) => {
      const server = createServer()
      server.listen(0, "127.0.0.1", () => {
        const { port } = server.address() as AddressInfo
        server.close(() => resolve(port))
      })
    })
  )

  it.effect("names a closed port ECONNREFUSED, never stored", () =>
    Effect.gen(function*() {
      const error = yield* put(`http://127.0.0.1:${yield* closedPort}`)
      expect(error.code).toBe("ECONNREFUSED")
      expect(error.retriable).toBe(true)
      expect(error.detail).toMatch(/never reached a server/)
      expect(Retry.mayHaveStored(error)).toBe(false)
    }))

  // `.invalid` never resolves (RFC 6761); a machine without any DNS server says EAI_AGAIN instead.
  it.effect("names a host that does not resolve ENOTFOUND over HTTP/1.1, never stored", () =>
    Effect.gen(function*() {
      const error = yield* put("http://no-such-host.invalid")
      expect(["ENOTFOUND", "EAI_AGAIN"]).toContain(error.code)
      expect(error.detail).toMatch(/no-such-host\.invalid.*never reached a server/)
      expect(Retry.mayHaveStored(error)).toBe(false)
    }))

  it.effect("names it ENOTFOUND under the SDK's default HTTP/2 handler too, not ERR_HTTP2_STREAM_CANCEL", () =>
    Effect.gen(function*() {
      const error = yield* put("https://no-such-host.invalid")
      expect(["ENOTFOUND", "EAI_AGAIN"]).toContain(error.code)
      expect(Retry.mayHaveStored(error)).toBe(false)
    }))
})
