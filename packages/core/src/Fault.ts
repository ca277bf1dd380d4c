/**
 * What went wrong with a call to Kinesis, as data, and which failures are worth sending again: the classification
 * of errors by code, HTTP status and what the network said under the SDK's wrappers.
 */

/** A failure of a call to Kinesis, whole-request (the SDK threw) or for one record (an entry's error code). */
export interface Fault {
  /** The operation that failed, such as `PutRecords`. */
  readonly operation: string
  /** The error's name or code as AWS gives it, such as `ProvisionedThroughputExceededException`. */
  readonly code: string
  /** What AWS (or the network) said. */
  readonly detail: string
  /** Whether the same request may succeed if sent again. */
  readonly retriable: boolean
  /** The HTTP status of the response, when there was one. */
  readonly statusCode?: number | undefined
  /** The original error, for debugging. */
  readonly cause?: unknown
}

/** The code of a record refused for its shard's throughput. */
export const THROTTLED = "ProvisionedThroughputExceededException"

/**
 * The code of an answer that is not Kinesis's: an HTTP status with a body the SDK could not read as Kinesis JSON
 * (an HTML page, an empty body, text), from a wrong endpoint, a proxy or a load balancer. Its detail names the
 * status, the content type, the endpoint and the body's first characters.
 */
export const NOT_KINESIS = "NotKinesis"

/** What a person reads of a fault: its detail, or its code when it has none. */
export const describe = (fault: { readonly code: string; readonly detail: string }): string =>
  fault.detail === "" ? fault.code : `${fault.code}: ${fault.detail}`

// Per-record codes and whole-request error names after which the same request may succeed.
const retriableCodes = new Set([
  "ProvisionedThroughputExceededException",
  "InternalFailure",
  "InternalFailureException",
  "InternalServerError",
  "ServiceUnavailable",
  "ServiceUnavailableException",
  "ThrottlingException",
  "Throttling",
  "ThrottledException",
  "TooManyRequestsException",
  "RequestLimitExceeded",
  "LimitExceededException",
  "SlowDown",
  "KMSThrottlingException",
  "RequestTimeout",
  "RequestTimeoutException",
  "TimeoutError",
  "MissingResult",
  "NetworkingError"
])

// Node's codes for a connection that broke or never answered: the request may not have arrived, so send again.
const transientNetworkCodes = new Set([
  "ECONNRESET",
  "ECONNREFUSED",
  "ECONNABORTED",
  "EPIPE",
  "ETIMEDOUT",
  "ESOCKETTIMEDOUT",
  "EAI_AGAIN",
  "ENOTFOUND",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "UND_ERR_SOCKET",
  "UND_ERR_CONNECT_TIMEOUT",
  "ERR_HTTP2_STREAM_ERROR"
])

// Failures before the request left this process (name resolution, connecting, the TLS handshake): no server saw it.
const neverSentCodes = new Set([
  "ENOTFOUND",
  "EAI_AGAIN",
  "EAI_FAIL",
  "EAI_NONAME",
  "EAI_NODATA",
  "ECONNREFUSED",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "EHOSTDOWN",
  "ENETDOWN",
  "EADDRNOTAVAIL",
  "UND_ERR_CONNECT_TIMEOUT",
  "EPROTO"
])

// A certificate refused: sending again meets the same certificate, so these are not retried.
const certificateCodes = new Set([
  "CERT_HAS_EXPIRED",
  "CERT_NOT_YET_VALID",
  "CERT_REVOKED",
  "DEPTH_ZERO_SELF_SIGNED_CERT",
  "SELF_SIGNED_CERT_IN_CHAIN",
  "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
  "UNABLE_TO_GET_ISSUER_CERT",
  "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
  "ERR_TLS_CERT_ALTNAME_INVALID"
])

const isNeverSentCode = (code: string): boolean =>
  neverSentCodes.has(code) || certificateCodes.has(code) || code.startsWith("ERR_TLS_") || code.startsWith("ERR_SSL_")

// What a person can do with the code: the raw messages (getaddrinfo ENOTFOUND host) do not say it.
const explanations: ReadonlyArray<readonly [(code: string) => boolean, string]> = [
  [(code) => code === "ENOTFOUND" || code === "EAI_NONAME", "the endpoint's host name does not resolve"],
  [(code) => code.startsWith("EAI_"), "the endpoint's host name could not be resolved (DNS failed or timed out)"],
  [(code) => code === "ECONNREFUSED", "nothing accepts connections at the endpoint's address and port"],
  [(code) => /^E(HOST|NET)(UNREACH|DOWN)$/.test(code), "there is no route to the endpoint"],
  [(code) => certificateCodes.has(code), "the endpoint's TLS certificate was refused"],
  [(code) => code === "EPROTO" || /^ERR_(SSL|TLS)_/.test(code), "the TLS handshake failed"]
]

// Codes of what the network said, as opposed to the wrappers the SDK puts around them (ERR_HTTP2_STREAM_CANCEL).
const isRootCode = (code: string): boolean =>
  isNeverSentCode(code) || (transientNetworkCodes.has(code) && !code.startsWith("ERR_HTTP2_"))

// The connecting phase named in words only: the SDK's connect timeout, a socket closed during the TLS handshake.
const connectPhaseMessage =
  /did not establish a connection|without establishing a connection|before secure TLS connection was established/

/** What the network said under the SDK's wrappers: the first root code found through `cause`, `errors`, messages. */
interface Root {
  readonly code: string
  readonly message: string
  readonly syscall: string | undefined
}

const rootOf = (error: unknown): Root | undefined => {
  const seen = new Set<unknown>()
  let level: Array<unknown> = [error]
  let fromMessage: Root | undefined
  for (let depth = 0; depth < 8 && level.length > 0; depth++) {
    const next: Array<unknown> = []
    for (const candidate of level) {
      if (typeof candidate !== "object" || candidate === null || seen.has(candidate)) continue
      seen.add(candidate)
      const fields = candidate as {
        readonly code?: unknown
        readonly message?: unknown
        readonly syscall?: unknown
        readonly cause?: unknown
        readonly errors?: unknown
      }
      const message = typeof fields.message === "string" ? fields.message : ""
      const syscall = typeof fields.syscall === "string" ? fields.syscall : undefined
      if (typeof fields.code === "string" && isRootCode(fields.code)) return { code: fields.code, message, syscall }
      // HTTP/2 sometimes keeps the cause only in its message: "... (caused by: getaddrinfo ENOTFOUND host)".
      if (fromMessage === undefined) {
        const code = message.match(/\b[A-Z][A-Z0-9_]{3,}\b/g)?.find(isRootCode)
        if (code !== undefined) fromMessage = { code, message, syscall: undefined }
      }
      if (fields.cause !== undefined) next.push(fields.cause)
      if (Array.isArray(fields.errors)) next.push(...fields.errors)
    }
    level = next
  }
  return fromMessage
}

const neverSent = (root: Root): boolean =>
  isNeverSentCode(root.code) || root.syscall === "connect" || root.syscall === "getaddrinfo" ||
  connectPhaseMessage.test(root.message)

/** Whether a Kinesis error code (of a record or of a whole request) is worth retrying. `KMS*` only when throttled. */
export const isRetriableCode = (code: string): boolean => retriableCodes.has(code)

/** Whether an HTTP status is worth retrying: 5xx, and 429. */
export const isRetriableStatus = (status: number): boolean => status >= 500 || status === 429

const describeError = (error: unknown): string => {
  if (error instanceof Error) return error.message
  if (typeof error === "string") return error
  try {
    return JSON.stringify(error) ?? String(error)
  } catch {
    return String(error)
  }
}

const describeRoot = (root: Root, reportedAs: string | undefined): string => {
  const explanation = explanations.find(([applies]) => applies(root.code))?.[1]
  const said = root.message === "" ? root.code : root.message
  const reason = neverSent(root) ?
    `${said}: ${explanation ?? "the connection failed"}, so the request never reached a server` :
    said
  return reportedAs === undefined || reportedAs === root.code ? reason : `${reason} (reported as ${reportedAs})`
}

/** An HTTP answer that is not Kinesis's, as the transport saw it: what a `NotKinesis` fault quotes. */
export interface Answer {
  /** The HTTP status. */
  readonly statusCode: number
  /** The `content-type` header, when there was one. */
  readonly contentType?: string | undefined
  /** The body, when it was kept (the SDK consumes it): its first characters are quoted. */
  readonly body?: Uint8Array | string | undefined
  /** Where the request went, such as `http://127.0.0.1:4567/`, when known. */
  readonly endpoint?: string | undefined
}

/** What the transport kept of an answer, which the SDK's error does not hold: the body and where the request went. */
export interface Seen {
  /** Where the request went, such as `http://127.0.0.1:4567/`. */
  readonly endpoint?: string | undefined
  /** The body, as received. */
  readonly body?: Uint8Array | string | undefined
}

/** How many characters of a body an error quotes. */
export const EXCERPT_LENGTH = 100

// Control characters (but the whitespace collapsed before), the quote and the backslash: escaped, visible.
const unprintable = /[\u0000-\u001f\u007f-\u009f"\\]/g

const escape = (char: string): string =>
  char === "\"" || char === "\\" ? `\\${char}` : `\\u${char.charCodeAt(0).toString(16).padStart(4, "0")}`

const utf8 = new TextDecoder()

/**
 * The first `max` characters of a body, printable and in double quotes (`"<html><head>..."`), with `...` when
 * there is more: whitespace runs (an HTML page's indentation, its lines) become one space, control characters,
 * quotes and backslashes are escaped (`\u0001`), bytes that are not UTF-8 become U+FFFD.
 */
export const excerpt = (body: Uint8Array | string, max: number = EXCERPT_LENGTH): string => {
  const text = (typeof body === "string" ? body : utf8.decode(body)).replace(/\s+/g, " ").trim()
  const characters = Array.from(text)
  const head = characters.length > max ? characters.slice(0, max).join("") : text
  return `"${head.replace(unprintable, escape)}${characters.length > max ? "..." : ""}"`
}

// A proxy's or load balancer's failure (502, 503, 504 pages while Kinesis or the route to it is down), its rate
// limit (429) or its timeout waiting for the request (408) may pass, as a server error from Kinesis would.
const isRetriableForeignStatus = (status: number): boolean => isRetriableStatus(status) || status === 408

/**
 * The fault of an answer that is not Kinesis's, named `NotKinesis`:
 * `HTTP 404 text/html from http://127.0.0.1:1234/: not a Kinesis endpoint? "<html><head><title>404 Not..."`.
 * Retried after 5xx, 429 and 408, which a proxy or load balancer gives while something behind it is down or busy;
 * not after any other status (a 404 page, a proxy's 403, a 200 page from a web server or a captive portal): the
 * endpoint is not Kinesis, and sending again for the retry schedule's 30 s would only hide the misconfiguration.
 */
export const notKinesis = (operation: string, answer: Answer, cause?: unknown): Fault => {
  const contentType = answer.contentType?.replace(/\s+/g, " ").trim() ?? ""
  const type = contentType === "" ?
    "without a content type" :
    Array.from(contentType).slice(0, EXCERPT_LENGTH).join("").replace(unprintable, escape)
  const from = answer.endpoint === undefined ? "" : ` from ${answer.endpoint}`
  const body = answer.body === undefined ? "" : answer.body.length === 0 ? " (empty body)" : ` ${excerpt(answer.body)}`
  return {
    operation,
    code: NOT_KINESIS,
    detail: `HTTP ${answer.statusCode} ${type}${from}: not a Kinesis endpoint?${body}`,
    retriable: isRetriableForeignStatus(answer.statusCode),
    statusCode: answer.statusCode,
    cause
  }
}

// The names the SDK gives an answer it could not read as Kinesis's: its JSON parser's error for a body that is not
// JSON (an HTML page, text), and an error answer without a Kinesis error code (`Unknown`; older versions named
// it `UnknownError` or by the status).
const unreadAnswerNames = new Set(["SyntaxError", "Unknown", "UnknownError"])

const headerOf = (headers: unknown, name: string): string | undefined => {
  if (typeof headers !== "object" || headers === null) return undefined
  const found = Object.entries(headers).find(([key]) => key.toLowerCase() === name)?.[1]
  return typeof found === "string" ? found : Array.isArray(found) ? found.join(", ") : undefined
}

const bodyOf = (body: unknown): Uint8Array | string | undefined =>
  typeof body === "string" || body instanceof Uint8Array ? body : undefined

/**
 * The answer under an SDK error when the SDK could not read it as Kinesis's (a body that is not JSON, an error
 * without a Kinesis error code), from the error's `$response` and what the transport kept (`seen`); none for any
 * other error, Kinesis's own included.
 */
export const notKinesisAnswer = (error: unknown, seen?: Seen): Answer | undefined => {
  if (typeof error !== "object" || error === null) return undefined
  const fields = error as {
    readonly name?: unknown
    readonly $metadata?: { readonly httpStatusCode?: unknown }
    readonly $response?: { readonly statusCode?: unknown; readonly headers?: unknown; readonly body?: unknown }
    readonly $responseBodyText?: unknown
  }
  const rawStatus = fields.$metadata?.httpStatusCode ?? fields.$response?.statusCode
  if (typeof rawStatus !== "number" || typeof fields.name !== "string") return undefined
  if (!unreadAnswerNames.has(fields.name) && fields.name !== String(rawStatus)) return undefined
  return {
    statusCode: rawStatus,
    contentType: headerOf(fields.$response?.headers, "content-type"),
    body: seen?.body ?? bodyOf(fields.$response?.body) ?? bodyOf(fields.$responseBodyText),
    endpoint: seen?.endpoint
  }
}

/**
 * Turns anything an SDK call threw into a `Fault` that says whether to retry: throttling, internal
 * failures, 5xx, timeouts and broken connections are retriable; missing streams, bad arguments, denied access,
 * KMS errors (but `KMSThrottlingException`), refused certificates and anything unknown with a 4xx status are
 * not. A failure without an answer is named by its root cause (`ENOTFOUND`, `ECONNREFUSED`...), found under the
 * SDK's wrappers (HTTP/2's `ERR_HTTP2_STREAM_CANCEL`). An answer the SDK could not read as Kinesis's is
 * `NotKinesis` (see `notKinesis`), quoting what the transport kept of it (`seen`: the body, the endpoint).
 */
export const classify = (operation: string, error: unknown, seen?: Seen): Fault => {
  const answer = notKinesisAnswer(error, seen)
  if (answer !== undefined) return notKinesis(operation, answer, error)
  const fields = (typeof error === "object" && error !== null ? error : {}) as {
    readonly name?: unknown
    readonly code?: unknown
    readonly $metadata?: { readonly httpStatusCode?: unknown }
    readonly $response?: { readonly statusCode?: unknown }
  }
  const name = typeof fields.name === "string" && fields.name !== "Error" ? fields.name : undefined
  const networkCode = typeof fields.code === "string" ? fields.code : undefined
  const rawStatus = fields.$metadata?.httpStatusCode ?? fields.$response?.statusCode
  const statusCode = typeof rawStatus === "number" ? rawStatus : undefined
  // An answer is named by the service; only a failure without one is looked into for what the network said.
  const root = statusCode === undefined ? rootOf(error) : undefined
  if (root !== undefined) {
    // A network failure may pass (DNS, a restarting endpoint); a refused certificate will not.
    const retriable = !certificateCodes.has(root.code)
    const detail = describeRoot(root, networkCode ?? name)
    return { operation, code: root.code, detail, retriable, statusCode, cause: error }
  }
  const code = name ?? networkCode ?? (statusCode !== undefined ? `HTTP${statusCode}` : "UnknownError")
  const retriable = isRetriableCode(code) ||
    (networkCode !== undefined && transientNetworkCodes.has(networkCode)) ||
    (statusCode !== undefined && isRetriableStatus(statusCode) && !code.startsWith("KMS")) ||
    (statusCode === undefined && name === undefined && networkCode !== undefined && networkCode.startsWith("E"))
  return { operation, code, detail: describeError(error), retriable, statusCode, cause: error }
}

// A record's own answer in a PutRecords response: the service saw the record and did not store it.
const recordAnswerCodes = new Set(["ProvisionedThroughputExceededException", "InternalFailure"])

/**
 * Whether the request that failed with `error` may have been processed, so that its records may be stored:
 * false when it certainly never reached Kinesis (DNS failure, connection refused, no route, TLS refused) or was
 * answered with a 4xx (or a record's own error code); true when it was sent and no answer says what became of it
 * (timeouts, resets after connecting, 5xx, anything unknown).
 */
export const mayHaveStored = (error: Fault): boolean => {
  if (error.statusCode !== undefined) return error.statusCode >= 500
  if (error.cause === undefined && recordAnswerCodes.has(error.code)) return false
  if (isNeverSentCode(error.code) || connectPhaseMessage.test(error.detail)) return false
  const root = rootOf(error.cause)
  return root === undefined || !neverSent(root)
}

/** The error of a call with no answer within `millis`: retriable, and the request may have been processed. */
export const timedOut = (operation: string, millis: number): Fault => ({
  operation,
  code: "RequestTimeout",
  detail: `no answer within ${millis} ms`,
  retriable: true
})
