/**
 * Messages of the Kinesis JSON protocol over HTTP: answers in AWS's format, answers passed on from the target, and
 * the headers that go from one connection to the next.
 */
import { randomUUID } from "node:crypto"
import type * as http from "node:http"

/** The content type of Kinesis requests and answers in JSON. */
export const AMZ_JSON = "application/x-amz-json-1.1"

/** An answer of the target, whole. */
export interface Reply {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

// Headers that belong to one connection, not to the message, and are not passed on.
const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"])

/** The headers of a message that may go on to the next connection. */
export const passHeaders = (headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders => {
  const out: http.OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !hopByHop.has(name)) out[name] = value
  return out
}

/** Answers with a JSON body, unless the client has left or an answer already went. */
export const sendJson = (res: http.ServerResponse, status: number, body: unknown, errorType?: string): void => {
  if (res.destroyed || res.headersSent) return
  const payload = Buffer.from(JSON.stringify(body))
  res.writeHead(status, {
    "content-type": AMZ_JSON,
    "content-length": payload.length,
    "x-amzn-requestid": randomUUID(),
    ...(errorType === undefined ? {} : { "x-amzn-errortype": errorType })
  })
  res.end(payload)
}

/** Answers with an AWS error: its type in the body and in the `x-amzn-ErrorType` header. */
export const sendError = (res: http.ServerResponse, status: number, type: string, message: string): void =>
  sendJson(res, status, { __type: type, message }, type)

/** Answers with the target's answer, as it came. */
export const sendReply = (res: http.ServerResponse, reply: Reply): void => {
  if (res.destroyed || res.headersSent) return
  res.writeHead(reply.status, { ...passHeaders(reply.headers), "content-length": reply.body.length })
  res.end(reply.body)
}
