/**
 * The proxy's connection to its target: requests forwarded as they came or rebuilt, calls of its own (ListShards),
 * and the requests still with the target when the proxy stops.
 */
import * as http from "node:http"
import { AMZ_JSON, passHeaders, type Reply } from "./wire.js"

/** The target, over keep-alive connections. */
export interface Upstream {
  /** Sends a request with `body` as the client sent it (method, path, headers), and gives the whole answer. */
  readonly forward: (req: Pick<http.IncomingMessage, "method" | "url" | "headers">, body: Buffer) => Promise<Reply>
  /** Calls a Kinesis operation of the target with `payload`, for the proxy's own needs. */
  readonly invoke: (operation: string, payload: unknown) => Promise<Reply>
  /** Waits for the requests with the target to finish, at most `millis`, then closes every connection. */
  readonly close: (millis: number) => Promise<void>
}

/** The target at `endpoint`, such as kinesalite's `http://127.0.0.1:PORT`. */
export const make = (endpoint: string): Upstream => {
  const target = new URL(endpoint)
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  const forwarding = new Set<Promise<unknown>>()

  const forward: Upstream["forward"] = (req, body) => {
    const request = new Promise<Reply>((resolve, reject) => {
      const upstream = http.request(
        {
          protocol: target.protocol,
          hostname: target.hostname,
          port: target.port,
          method: req.method ?? "POST",
          path: req.url ?? "/",
          agent,
          headers: { ...passHeaders(req.headers), host: target.host, "content-length": body.length }
        },
        (response) => {
          const chunks: Array<Buffer> = []
          response.on("data", (chunk: Buffer) => chunks.push(chunk))
          response.on(
            "end",
            () =>
              resolve({ status: response.statusCode ?? 500, headers: response.headers, body: Buffer.concat(chunks) })
          )
          response.on("error", reject)
        }
      )
      upstream.on("error", reject)
      upstream.end(body)
    })
    forwarding.add(request)
    return request.finally(() => forwarding.delete(request))
  }

  return {
    forward,
    invoke: (operation, payload) =>
      forward(
        {
          method: "POST",
          url: "/",
          headers: {
            "content-type": AMZ_JSON,
            "x-amz-target": `Kinesis_20131202.${operation}`,
            "x-amz-date": new Date().toISOString().replace(/[-:]|\.\d{3}/g, ""),
            // kinesalite checks that a signature is there, not what it says.
            authorization: "AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/kinesis/aws4_request, " +
              "SignedHeaders=host, Signature=0"
          }
        },
        Buffer.from(JSON.stringify(payload))
      ),
    close: async (millis) => {
      // Requests already with the target finish first: cutting them mid-body would upset the target.
      let timer: ReturnType<typeof setTimeout> | undefined
      const deadline = new Promise((resolve) => {
        timer = setTimeout(resolve, millis)
      })
      await Promise.race([Promise.allSettled([...forwarding]), deadline])
      // A pending deadline would keep the process alive that long after everything stopped.
      clearTimeout(timer)
      agent.destroy()
    }
  }
}
