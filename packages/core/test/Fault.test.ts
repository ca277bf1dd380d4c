import { Fault } from "@effect-kinesis/core"
import { describe, expect, it } from "vitest"

// An SDK error as the AWS SDK v3 throws it for an answer it could not read: `$metadata` and the raw `$response`.
const unread = (name: string, status: number, headers: Record<string, string> = {}, fields: object = {}) =>
  Object.assign(new Error(`${name} happened`), {
    name,
    $metadata: { httpStatusCode: status },
    $response: { statusCode: status, headers, body: {} },
    ...fields
  })

const endpoint = "http://127.0.0.1:1234/"

describe("Fault.excerpt", () => {
  it("quotes a short body whole, and the first 100 characters of a long one with ...", () => {
    expect(Fault.excerpt("<html>hello</html>")).toBe("\"<html>hello</html>\"")
    const long = "x".repeat(100)
    expect(Fault.excerpt(long)).toBe(`"${long}"`)
    expect(Fault.excerpt(`${long}y`)).toBe(`"${long}..."`)
    expect(Fault.excerpt("abcdef", 3)).toBe("\"abc...\"")
  })

  it("makes whitespace runs one space, and escapes control characters, quotes and backslashes", () => {
    expect(Fault.excerpt("\n  <html>\r\n\t<head>  </head>\n")).toBe("\"<html> <head> </head>\"")
    expect(Fault.excerpt("a\u0000b\u0007c\u007fd\u009be")).toBe("\"a\\u0000b\\u0007c\\u007fd\\u009be\"")
    expect(Fault.excerpt("say \"hi\" C:\\dir")).toBe("\"say \\\"hi\\\" C:\\\\dir\"")
  })

  it("decodes bytes as UTF-8, bytes that are not as U+FFFD, and never cuts a character in two", () => {
    expect(Fault.excerpt(new TextEncoder().encode("héllo 👋"))).toBe("\"héllo 👋\"")
    expect(Fault.excerpt(new Uint8Array([0x3c, 0xff, 0xfe, 0x3e]))).toBe("\"<\uFFFD\uFFFD>\"")
    expect(Fault.excerpt("👋👋👋", 2)).toBe("\"👋👋...\"")
  })
})

describe("Fault.notKinesis", () => {
  it("names the status, the content type, the endpoint and the body's first characters", () => {
    const fault = Fault.notKinesis("PutRecords", {
      statusCode: 404,
      contentType: "text/html",
      body: "<html><head><title>404 Not Found</title></head></html>",
      endpoint
    })
    expect(fault).toMatchObject({
      operation: "PutRecords",
      code: Fault.NOT_KINESIS,
      statusCode: 404,
      detail: "HTTP 404 text/html from http://127.0.0.1:1234/: not a Kinesis endpoint? " +
        "\"<html><head><title>404 Not Found</title></head></html>\""
    })
    expect(Fault.NOT_KINESIS).toBe("NotKinesis")
    expect(Fault.describe(fault)).toBe(`NotKinesis: ${fault.detail}`)
  })

  it("says what it does not know: no content type, an empty body, no body kept, no endpoint", () => {
    const detail = (answer: Fault.Answer) => Fault.notKinesis("PutRecords", answer).detail
    expect(detail({ statusCode: 404, body: new Uint8Array(0), endpoint })).toBe(
      "HTTP 404 without a content type from http://127.0.0.1:1234/: not a Kinesis endpoint? (empty body)"
    )
    expect(detail({ statusCode: 404, contentType: " ", body: "" })).toBe(
      "HTTP 404 without a content type: not a Kinesis endpoint? (empty body)"
    )
    expect(detail({ statusCode: 403, contentType: "text/plain" })).toBe(
      "HTTP 403 text/plain: not a Kinesis endpoint?"
    )
    expect(detail({ statusCode: 200, contentType: "text/html;\r\n charset=\"utf-8\"", body: "<p>" })).toBe(
      "HTTP 200 text/html; charset=\\\"utf-8\\\": not a Kinesis endpoint? \"<p>\""
    )
  })

  it("retries what a proxy or load balancer says while something behind it is down or busy: 5xx, 429, 408", () => {
    for (const statusCode of [500, 502, 503, 504, 429, 408]) {
      const fault = Fault.notKinesis("PutRecords", { statusCode, contentType: "text/html", body: "<html>" })
      expect(fault.retriable, String(statusCode)).toBe(true)
    }
  })

  it("does not retry any other answer: the endpoint is not Kinesis, a misconfiguration that sending again hides", () => {
    for (const statusCode of [200, 201, 301, 302, 400, 401, 403, 404, 405]) {
      const fault = Fault.notKinesis("PutRecords", { statusCode, contentType: "text/html", body: "<html>" })
      expect(fault.retriable, String(statusCode)).toBe(false)
    }
  })

  it("may have stored the records behind a 5xx (a proxy may have passed the request on), never behind another", () => {
    const stored = (statusCode: number) => Fault.mayHaveStored(Fault.notKinesis("PutRecords", { statusCode }))
    expect([500, 502, 503, 504].map(stored)).toEqual([true, true, true, true])
    expect([200, 302, 403, 404, 408, 429].map(stored)).toEqual([false, false, false, false, false, false])
  })
})

describe("Fault.classify, an answer that is not Kinesis's", () => {
  it("is NotKinesis when the SDK could not parse the body (an HTML page)", () => {
    const error = unread("SyntaxError", 404, { "Content-Type": "text/html" })
    const fault = Fault.classify("PutRecords", error, { endpoint, body: "<html>Not Found</html>" })
    expect(fault).toMatchObject({
      code: "NotKinesis",
      statusCode: 404,
      retriable: false,
      detail: "HTTP 404 text/html from http://127.0.0.1:1234/: not a Kinesis endpoint? \"<html>Not Found</html>\""
    })
    expect(fault.cause).toBe(error)
  })

  it("is NotKinesis when the answer has no Kinesis error code (the SDK's Unknown, UnknownError or the status)", () => {
    for (const name of ["Unknown", "UnknownError", "404"]) {
      const fault = Fault.classify("PutRecords", unread(name, 404), { endpoint, body: new Uint8Array(0) })
      expect(fault.code, name).toBe("NotKinesis")
      expect(fault.detail, name).toBe(
        "HTTP 404 without a content type from http://127.0.0.1:1234/: not a Kinesis endpoint? (empty body)"
      )
    }
  })

  it("takes the body from the error when the transport kept none: $response.body or $responseBodyText", () => {
    const inResponse = Object.assign(unread("SyntaxError", 502), {
      $response: { statusCode: 502, headers: {}, body: "<html>Bad Gateway</html>" }
    })
    expect(Fault.classify("PutRecords", inResponse).detail).toBe(
      "HTTP 502 without a content type: not a Kinesis endpoint? \"<html>Bad Gateway</html>\""
    )
    expect(Fault.classify("PutRecords", inResponse).retriable).toBe(true)
    const asText = unread("SyntaxError", 200, { "content-type": "text/plain" }, { $responseBodyText: "ok" })
    expect(Fault.classify("PutRecords", asText).detail).toBe("HTTP 200 text/plain: not a Kinesis endpoint? \"ok\"")
    // A body the SDK has read (a stream) is not quoted.
    expect(Fault.classify("PutRecords", unread("SyntaxError", 404)).detail).toBe(
      "HTTP 404 without a content type: not a Kinesis endpoint?"
    )
  })

  it("leaves Kinesis's own errors, and failures without an answer, as they were", () => {
    const named = unread("ResourceNotFoundException", 400, { "content-type": "application/x-amz-json-1.1" })
    expect(Fault.classify("PutRecords", named, { endpoint, body: "{}" }).code).toBe("ResourceNotFoundException")
    expect(Fault.classify("PutRecords", unread("InternalFailure", 500)).code).toBe("InternalFailure")
    expect(Fault.classify("PutRecords", new SyntaxError("Unexpected token")).code).toBe("SyntaxError")
    expect(Fault.notKinesisAnswer(new SyntaxError("Unexpected token"))).toBeUndefined()
    expect(Fault.notKinesisAnswer("a string")).toBeUndefined()
    expect(Fault.notKinesisAnswer(null)).toBeUndefined()
  })
})
