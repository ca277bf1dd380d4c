import { DescribeStreamSummaryCommand } from "@aws-sdk/client-kinesis"
import { Kinesis, KinesisWriter, Retry } from "@effect-kinesis/writer"
import { Effect, Schedule } from "effect"
import { createServer } from "node:http"
import type { AddressInfo } from "node:net"
import { describe, expect, it } from "./support/line.js"

// Endpoints that are not Kinesis (a web server, a proxy's error page), as a plain HTTP server on 127.0.0.1.
interface Page {
  readonly status: number
  readonly contentType?: string | undefined
  readonly body: string
}

const credentials = { accessKeyId: "a", secretAccessKey: "b" }

/** A server answering every request with `page`, stopped with the scope; it counts the requests it saw. */
const serve = (page: Page) =>
  Effect.acquireRelease(
    Effect.promise(() =>
      new Promise<{ readonly server: ReturnType<typeof createServer>; readonly requests: Array<string> }>(
        (resolve) => {
          const requests: Array<string> = []
          const server = createServer((request, response) => {
            requests.push(String(request.headers["x-amz-target"] ?? ""))
            request.resume()
            request.on("end", () => {
              response.writeHead(
                page.status,
                page.contentType === undefined ? {} : { "content-type": page.contentType }
              )
              response.end(page.body)
            })
          })
          server.listen(0, "127.0.0.1", () => resolve({ server, requests }))
        }
      )
    ),
    ({ server }) =>
      Effect.promise(() =>
        new Promise<void>((resolve) => {
          server.closeAllConnections()
          server.close(() => resolve())
        })
      )
  ).pipe(Effect.map(({ requests, server }) => ({
    endpoint: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    /** The PutRecords requests the server saw. */
    puts: () => requests.filter((target) => target.endsWith(".PutRecords")).length
  })))

const page404 = "<html><head><title>404 Not Found</title></head>\n  <body><h1>Not Found</h1>" +
  "<p>The requested URL was not found on this server.</p></body></html>"

const cases: ReadonlyArray<
  { readonly name: string; readonly page: Page; readonly detail: string; readonly retried: boolean }
> = [
  {
    name: "an empty 404",
    page: { status: 404, body: "" },
    detail: "HTTP 404 without a content type from ENDPOINT/: not a Kinesis endpoint? (empty body)",
    retried: false
  },
  {
    name: "a 404 page",
    page: { status: 404, contentType: "text/html", body: page404 },
    detail: "HTTP 404 text/html from ENDPOINT/: not a Kinesis endpoint? \"<html><head><title>404 Not Found</title>" +
      "</head> <body><h1>Not Found</h1><p>The requested URL was not...\"",
    retried: false
  },
  {
    name: "a proxy's 502 page",
    page: { status: 502, contentType: "text/html", body: "<html><body>502 Bad Gateway</body></html>" },
    detail: "HTTP 502 text/html from ENDPOINT/: not a Kinesis endpoint? \"<html><body>502 Bad Gateway</body></html>\"",
    retried: true
  },
  {
    name: "a 200 page",
    page: { status: 200, contentType: "text/html; charset=utf-8", body: "<!DOCTYPE html>\n<html>Welcome</html>" },
    detail:
      "HTTP 200 text/html; charset=utf-8 from ENDPOINT/: not a Kinesis endpoint? \"<!DOCTYPE html> <html>Welcome</html>\"",
    retried: false
  }
]

describe("an endpoint that is not Kinesis", () => {
  for (const { detail, name, page, retried } of cases) {
    it.scopedLive(`names ${name} NotKinesis, with its status, type, endpoint and first characters`, () =>
      Effect.gen(function*() {
        const server = yield* serve(page)
        const error = yield* Effect.gen(function*() {
          const kinesis = yield* Kinesis
          return yield* kinesis.putRecords({
            StreamName: "s",
            Records: [{ Data: new Uint8Array([1]), PartitionKey: "k" }]
          }).pipe(Effect.flip)
        }).pipe(Effect.provide(Kinesis.layer({ region: "us-east-1", credentials, endpoint: server.endpoint })))
        expect(error.code).toBe("NotKinesis")
        expect(error.statusCode).toBe(page.status)
        expect(error.detail).toBe(detail.replace("ENDPOINT", server.endpoint))
        expect(error.message).toBe(`NotKinesis: ${error.detail}`)
        expect(error.retriable).toBe(retried)
        // A 5xx may come from a proxy that passed the request on; any other answer came from something else.
        expect(Retry.mayHaveStored(error)).toBe(page.status >= 500)
      }))

    it.scopedLive(`${retried ? "retries" : "does not retry"} ${name} in the writer`, () =>
      Effect.gen(function*() {
        const server = yield* serve(page)
        const failed = yield* Effect.gen(function*() {
          // Two retries at once: a retried answer is sent three times, one that is not, once.
          const writer = yield* KinesisWriter.make({
            stream: "s",
            linger: 0,
            shardAware: false,
            retry: Schedule.recurs(2)
          })
          return yield* writer.put("x", "k").pipe(Effect.flip)
        }).pipe(
          Effect.scoped,
          Effect.provide(Kinesis.layer({ region: "us-east-1", credentials, endpoint: server.endpoint }))
        )
        expect(failed).toMatchObject({
          _tag: "RecordFailed",
          code: "NotKinesis",
          detail: detail.replace("ENDPOINT", server.endpoint),
          retriable: retried,
          attempts: retried ? 3 : 1
        })
        expect(server.puts()).toBe(retried ? 3 : 1)
      }))
  }

  it.scopedLive("names it through the service's send too, as the CLI's DescribeStreamSummary does", () =>
    Effect.gen(function*() {
      const server = yield* serve({ status: 403, contentType: "text/plain", body: "Forbidden by proxy\u0001" })
      const error = yield* Effect.gen(function*() {
        const kinesis = yield* Kinesis
        return yield* kinesis.send(
          "DescribeStreamSummary",
          (client, abortSignal) => client.send(new DescribeStreamSummaryCommand({ StreamName: "s" }), { abortSignal })
        ).pipe(Effect.flip)
      }).pipe(Effect.provide(Kinesis.layer({ region: "us-east-1", credentials, endpoint: server.endpoint })))
      expect(error).toMatchObject({
        operation: "DescribeStreamSummary",
        code: "NotKinesis",
        statusCode: 403,
        retriable: false,
        detail: `HTTP 403 text/plain from ${server.endpoint}/: not a Kinesis endpoint? "Forbidden by proxy\\u0001"`
      })
    }))
})
