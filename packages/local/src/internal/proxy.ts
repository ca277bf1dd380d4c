import * as Effect from "effect/Effect"
import type * as Scope from "effect/Scope"
import { randomUUID } from "node:crypto"
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import type { KinesisProxy } from "../KinesisProxy.js"
import { hashKeyOf, shardFor, type ShardRange } from "./hashKey.js"
import { seeded } from "./random.js"
import * as TokenBucket from "./tokenBucket.js"

const AMZ_JSON = "application/x-amz-json-1.1"

/** AWS's per-shard write limits. */
export const defaultShardLimits = { recordsPerSecond: 1000, bytesPerSecond: 1024 * 1024, burstSeconds: 1 } as const

type RequestFaultKind = "serverError" | "error" | "hang" | "resetBeforeForward" | "resetAfterForward"
const requestFaultKinds: ReadonlyArray<RequestFaultKind> = [
  "serverError",
  "error",
  "hang",
  "resetBeforeForward",
  "resetAfterForward"
]
const defaultOperations: ReadonlyArray<string> = ["PutRecords", "PutRecord"]
const recordCodes = new Set(["ProvisionedThroughputExceededException", "InternalFailure"])
const internalFailureMessage = "Internal service failure."
// Operations after which a stream's shard map may have changed.
const reshaping = new Set(["CreateStream", "DeleteStream", "SplitShard", "MergeShards", "UpdateShardCount"])

const rateOf = (chance: KinesisProxy.Chance | KinesisProxy.ErrorFault | KinesisProxy.DelayFault | undefined): number =>
  chance === undefined ? 0 : typeof chance === "number" ? chance : chance.rate ?? 1

const timesOf = (chance: KinesisProxy.Chance | KinesisProxy.ErrorFault | KinesisProxy.DelayFault | undefined) =>
  typeof chance === "object" ? chance.times : undefined

const isFraction = (value: unknown): boolean => typeof value === "number" && value >= 0 && value <= 1

/** Every problem with a fault plan, one sentence each. */
export const checkPlan = (plan: KinesisProxy.FaultPlan): Array<string> => {
  const problems: Array<string> = []
  if (typeof plan !== "object" || plan === null) return ["the fault plan must be an object"]
  const fraction = (name: string, value: unknown) => {
    if (value !== undefined && !isFraction(value)) {
      problems.push(`${name} must be a fraction from 0 to 1, not ${String(value)}`)
    }
  }
  const times = (name: string, value: unknown) => {
    if (value !== undefined && !(typeof value === "number" && Number.isInteger(value) && value >= 0)) {
      problems.push(`${name}.times must be a whole number, not ${String(value)}`)
    }
  }
  fraction("throttle", plan.throttle)
  fraction("internalFailure", plan.internalFailure)
  if ((plan.throttle ?? 0) + (plan.internalFailure ?? 0) > 1) {
    problems.push("throttle + internalFailure must not exceed 1")
  }
  if (plan.failIndexes !== undefined) {
    const { code, indexes } = plan.failIndexes
    if (!Array.isArray(indexes) || !indexes.every((i) => Number.isInteger(i) && i >= 0)) {
      problems.push("failIndexes.indexes must be positions from 0")
    }
    if (code !== undefined && !recordCodes.has(code)) {
      problems.push(`failIndexes.code must be ProvisionedThroughputExceededException or InternalFailure, not ${code}`)
    }
    times("failIndexes", plan.failIndexes.times)
  }
  let total = 0
  for (const kind of requestFaultKinds) {
    const chance = plan[kind]
    if (chance === undefined) continue
    fraction(typeof chance === "number" ? kind : `${kind}.rate`, rateOf(chance))
    times(kind, timesOf(chance))
    total += rateOf(chance)
  }
  if (total > 1 + 1e-9) {
    problems.push(`the rates of the request faults add up to ${total}; at most one happens per request`)
  }
  if (plan.error !== undefined) {
    if (typeof plan.error.type !== "string" || plan.error.type === "") problems.push("error.type must name an error")
    const status = plan.error.status
    if (status !== undefined && !(Number.isInteger(status) && status >= 400 && status <= 599)) {
      problems.push(`error.status must be an HTTP error status (400 to 599), not ${String(status)}`)
    }
  }
  if (plan.delay !== undefined) {
    if (!(typeof plan.delay.millis === "number" && plan.delay.millis >= 0 && Number.isFinite(plan.delay.millis))) {
      problems.push(`delay.millis must be a number of milliseconds, not ${String(plan.delay.millis)}`)
    }
    fraction("delay.rate", rateOf(plan.delay))
    times("delay", plan.delay.times)
  }
  for (const name of ["operations", "streams"] as const) {
    const list = plan[name]
    if (list !== undefined && !(Array.isArray(list) && list.every((item) => typeof item === "string"))) {
      problems.push(`${name} must be a list of names`)
    }
  }
  if (plan.seed !== undefined && !Number.isInteger(plan.seed)) {
    problems.push(`seed must be a whole number, not ${plan.seed}`)
  }
  return problems
}

interface ResolvedLimits {
  readonly recordsPerSecond: number
  readonly bytesPerSecond: number
  readonly burstSeconds: number
}

/** Every problem with limits, one sentence each. */
export const checkLimits = (limits: boolean | KinesisProxy.Limits): Array<string> => {
  if (typeof limits === "boolean") return []
  if (typeof limits !== "object" || limits === null) return ["limits must be true, false or an object"]
  const problems: Array<string> = []
  const check = (prefix: string, shard: KinesisProxy.ShardLimits) => {
    for (const name of ["recordsPerSecond", "bytesPerSecond", "burstSeconds"] as const) {
      const value = shard[name]
      if (value !== undefined && !(typeof value === "number" && value > 0 && Number.isFinite(value))) {
        problems.push(`${prefix}${name} must be a positive number, not ${String(value)}`)
      }
    }
  }
  check("", limits)
  for (const [stream, shard] of Object.entries(limits.streams ?? {})) {
    if (shard !== false) check(`streams.${stream}.`, shard)
  }
  return problems
}

const resolveLimits = (limits: boolean | KinesisProxy.Limits, stream: string): ResolvedLimits | undefined => {
  if (limits === false) return undefined
  if (limits === true) return defaultShardLimits
  const own = limits.streams?.[stream]
  if (own === false) return undefined
  return {
    recordsPerSecond: own?.recordsPerSecond ?? limits.recordsPerSecond ?? defaultShardLimits.recordsPerSecond,
    bytesPerSecond: own?.bytesPerSecond ?? limits.bytesPerSecond ?? defaultShardLimits.bytesPerSecond,
    burstSeconds: own?.burstSeconds ?? limits.burstSeconds ?? defaultShardLimits.burstSeconds
  }
}

interface Upstream {
  readonly status: number
  readonly headers: http.IncomingHttpHeaders
  readonly body: Buffer
}

interface ResultEntry {
  readonly ShardId?: string
  readonly SequenceNumber?: string
  readonly ErrorCode?: string
  readonly ErrorMessage?: string
}

interface PutEntry {
  readonly Data: string
  readonly PartitionKey: string
  readonly ExplicitHashKey?: string
}

const isPutEntry = (value: unknown): value is PutEntry => {
  if (typeof value !== "object" || value === null) return false
  const entry = value as { Data?: unknown; PartitionKey?: unknown; ExplicitHashKey?: unknown }
  return typeof entry.Data === "string" && typeof entry.PartitionKey === "string" &&
    (entry.ExplicitHashKey === undefined || typeof entry.ExplicitHashKey === "string")
}

// Headers that belong to one connection, not to the message, and are not passed on.
const hopByHop = new Set(["connection", "keep-alive", "transfer-encoding", "content-length", "host"])

const passHeaders = (headers: http.IncomingHttpHeaders): http.OutgoingHttpHeaders => {
  const out: http.OutgoingHttpHeaders = {}
  for (const [name, value] of Object.entries(headers)) if (value !== undefined && !hopByHop.has(name)) out[name] = value
  return out
}

const emptyCounters = () => ({
  requests: {} as Record<string, number>,
  records: { offered: 0, stored: 0, throttled: 0, faulted: 0, unanswered: 0 },
  faults: {
    throttle: 0,
    internalFailure: 0,
    failIndexes: 0,
    serverError: 0,
    error: 0,
    hang: 0,
    delay: 0,
    resetBeforeForward: 0,
    resetAfterForward: 0
  },
  resets: 0,
  abandoned: 0,
  shards: new Map<string, { -readonly [K in keyof KinesisProxy.ShardSecond]: KinesisProxy.ShardSecond[K] }>()
})

// What happens to one request, decided when its body has arrived.
interface Decision {
  readonly fault: RequestFaultKind | undefined
  readonly delayMillis: number | undefined
  readonly failIndexes: KinesisProxy.IndexFault | undefined
  // The error to answer with, as the plan said when the request came (the plan may change during a delay).
  readonly error: KinesisProxy.ErrorFault | undefined
}

/** The proxy's state and request handling, over a clock in milliseconds. */
export const start = (
  options: KinesisProxy.Options,
  now: () => number
): Promise<{ readonly port: number; readonly control: Control; readonly close: () => Promise<void> }> => {
  const target = new URL(options.target)
  const account = options.account ?? "000000000000"
  const region = options.region ?? "us-east-1"
  const agent = new http.Agent({ keepAlive: true, maxSockets: 64 })
  let plan: KinesisProxy.FaultPlan = options.faults ?? {}
  let random = seeded(plan.seed ?? options.seed ?? 1)
  let used = new Map<string, number>() // faults of the plan with `times`, and how often each happened
  let limits: boolean | KinesisProxy.Limits = options.limits ?? false
  let buckets = new Map<string, { records: TokenBucket.TokenBucket; bytes: TokenBucket.TokenBucket }>()
  let counters = emptyCounters()
  const shardMaps = new Map<string, Promise<ReadonlyArray<ShardRange>>>()
  const hanging = new Set<http.ServerResponse>()
  const forwarding = new Set<Promise<unknown>>()
  let closing = false

  const count = (operation: string) => {
    counters.requests[operation] = (counters.requests[operation] ?? 0) + 1
  }

  const shardSecond = (stream: string, shardId: string) => {
    const second = Math.floor(now() / 1000)
    const key = `${second}\u0000${stream}\u0000${shardId}`
    let entry = counters.shards.get(key)
    if (entry === undefined) {
      entry = { stream, shardId, second, accepted: 0, acceptedBytes: 0, throttled: 0, faulted: 0 }
      counters.shards.set(key, entry)
    }
    return entry
  }

  // A fault with `times` happens only while it has times left; the draw is made either way, so that exhausting
  // one fault does not shift the random sequence of the others.
  const allowed = (name: string, times: number | undefined): boolean => {
    if (times === undefined) return true
    const n = used.get(name) ?? 0
    if (n >= times) return false
    used.set(name, n + 1)
    return true
  }

  const decide = (operation: string, stream: string | undefined): Decision | undefined => {
    if (!(plan.operations ?? defaultOperations).includes(operation)) return undefined
    if (plan.streams !== undefined && (stream === undefined || !plan.streams.includes(stream))) return undefined
    let delayMillis: number | undefined
    if (plan.delay !== undefined && random() < rateOf(plan.delay) && allowed("delay", plan.delay.times)) {
      delayMillis = plan.delay.millis
    }
    let fault: RequestFaultKind | undefined
    const draw = random()
    let band = 0
    for (const kind of requestFaultKinds) {
      const chance = plan[kind]
      if (chance === undefined) continue
      band += rateOf(chance)
      if (draw < band) {
        if (allowed(kind, timesOf(chance))) fault = kind
        break
      }
    }
    const failIndexes = plan.failIndexes !== undefined && allowed("failIndexes", plan.failIndexes.times) ?
      plan.failIndexes :
      undefined
    return { fault, delayMillis, failIndexes, error: plan.error }
  }

  const recordFault = (decision: Decision | undefined, index: number): KinesisProxy.RecordErrorCode | undefined => {
    if (decision === undefined) return undefined
    if (decision.failIndexes?.indexes.includes(index)) {
      counters.faults.failIndexes++
      return decision.failIndexes.code ?? "InternalFailure"
    }
    const throttle = plan.throttle ?? 0
    const internalFailure = plan.internalFailure ?? 0
    if (throttle + internalFailure === 0) return undefined
    const draw = random()
    if (draw < throttle) {
      counters.faults.throttle++
      return "ProvisionedThroughputExceededException"
    }
    if (draw < throttle + internalFailure) {
      counters.faults.internalFailure++
      return "InternalFailure"
    }
    return undefined
  }

  const throttledMessage = (stream: string, shardId: string) =>
    `Rate exceeded for shard ${shardId} in stream ${stream} under account ${account}.`

  const errorMessage = (type: string, stream: string | undefined, operation: string): string => {
    const name = stream ?? "unknown"
    const arn = `arn:aws:kinesis:${region}:${account}:stream/${name}`
    switch (type) {
      case "InternalFailure":
        return internalFailureMessage
      case "ResourceNotFoundException":
        return `Stream ${name} under account ${account} not found.`
      case "AccessDeniedException":
        return `User: arn:aws:iam::${account}:user/local is not authorized to perform: kinesis:${operation} ` +
          `on resource: ${arn} because no identity-based policy allows the kinesis:${operation} action`
      case "KMSThrottlingException":
        return "Rate exceeded for the AWS KMS key of this stream."
      case "KMSAccessDeniedException":
        return `The ciphertext references a key that doesn't exist or that you don't have access to (stream ${name}).`
      case "KMSDisabledException":
        return "The request was rejected because the specified customer master key (CMK) is not enabled."
      case "KMSNotFoundException":
        return "The request was rejected because the specified entity or resource can't be found."
      case "ProvisionedThroughputExceededException":
        return `Rate exceeded for stream ${name} under account ${account}.`
      default:
        return `${type} (injected by the fault plan)`
    }
  }

  const sendJson = (res: http.ServerResponse, status: number, body: unknown, errorType?: string) => {
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

  const sendError = (res: http.ServerResponse, status: number, type: string, message: string) =>
    sendJson(res, status, { __type: type, message }, type)

  const sendUpstream = (res: http.ServerResponse, upstream: Upstream) => {
    if (res.destroyed || res.headersSent) return
    res.writeHead(upstream.status, { ...passHeaders(upstream.headers), "content-length": upstream.body.length })
    res.end(upstream.body)
  }

  const forward = (req: Pick<http.IncomingMessage, "method" | "url" | "headers">, body: Buffer): Promise<Upstream> => {
    const request = new Promise<Upstream>((resolve, reject) => {
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
          response.on("end", () =>
            resolve({ status: response.statusCode ?? 500, headers: response.headers, body: Buffer.concat(chunks) }))
          response.on("error", reject)
        }
      )
      upstream.on("error", reject)
      upstream.end(body)
    })
    forwarding.add(request)
    return request.finally(() => forwarding.delete(request))
  }

  const invoke = (operation: string, payload: unknown): Promise<Upstream> =>
    forward(
      {
        method: "POST",
        url: "/",
        headers: {
          "content-type": AMZ_JSON,
          "x-amz-target": `Kinesis_20131202.${operation}`,
          "x-amz-date": new Date().toISOString().replace(/[-:]|\.\d{3}/g, ""),
          // kinesalite checks that a signature is there, not what it says.
          authorization:
            "AWS4-HMAC-SHA256 Credential=local/20200101/us-east-1/kinesis/aws4_request, SignedHeaders=host, Signature=0"
        }
      },
      Buffer.from(JSON.stringify(payload))
    )

  const shardMap = (stream: string): Promise<ReadonlyArray<ShardRange>> => {
    let map = shardMaps.get(stream)
    if (map === undefined) {
      map = invoke("ListShards", { StreamName: stream }).then((response) => {
        if (response.status !== 200) throw new Error(`ListShards ${stream}: ${response.status}`)
        const shards = (JSON.parse(response.body.toString()) as {
          Shards: Array<{
            ShardId: string
            HashKeyRange: { StartingHashKey: string; EndingHashKey: string }
            SequenceNumberRange: { EndingSequenceNumber?: string }
          }>
        }).Shards
        return shards
          .filter((shard) => shard.SequenceNumberRange.EndingSequenceNumber === undefined)
          .map((shard) => ({
            shardId: shard.ShardId,
            start: BigInt(shard.HashKeyRange.StartingHashKey),
            end: BigInt(shard.HashKeyRange.EndingHashKey)
          }))
      })
      shardMaps.set(stream, map)
      map.catch(() => shardMaps.delete(stream))
    }
    return map
  }

  // Takes a record's room from its shard's buckets, or says the shard is over its limits.
  const admit = (stream: string, shardId: string, bytes: number, time: number): boolean => {
    const limit = resolveLimits(limits, stream)
    if (limit === undefined) return true
    const recordCapacity = limit.recordsPerSecond * limit.burstSeconds
    const byteCapacity = limit.bytesPerSecond * limit.burstSeconds
    const key = `${stream}\u0000${shardId}`
    let bucket = buckets.get(key)
    if (bucket === undefined) {
      bucket = { records: TokenBucket.make(recordCapacity, time), bytes: TokenBucket.make(byteCapacity, time) }
      buckets.set(key, bucket)
    }
    TokenBucket.refill(bucket.records, time, limit.recordsPerSecond, recordCapacity)
    TokenBucket.refill(bucket.bytes, time, limit.bytesPerSecond, byteCapacity)
    const room = TokenBucket.canTake(bucket.records, 1, recordCapacity) &&
      TokenBucket.canTake(bucket.bytes, bytes, byteCapacity)
    if (!room) return false
    bucket.records.tokens -= 1
    bucket.bytes.tokens -= bytes
    return true
  }

  // Sends the answer, unless the plan resets the connection after forwarding or the client has left.
  const answer = (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    decision: Decision | undefined,
    stored: number,
    send: () => void
  ) => {
    if (decision?.fault === "resetAfterForward") {
      counters.faults.resetAfterForward++
      counters.resets++
      counters.records.unanswered += stored
      req.socket.destroy()
    } else if (res.destroyed || req.socket.destroyed) {
      counters.records.unanswered += stored
    } else send()
  }

  const countStored = (stream: string, shardId: string, bytes: number) => {
    counters.records.stored++
    const second = shardSecond(stream, shardId)
    second.accepted++
    second.acceptedBytes += bytes
  }

  const putRecords = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    request: { readonly Records: ReadonlyArray<PutEntry>; readonly StreamName: string },
    body: Buffer,
    rest: Record<string, unknown>,
    decision: Decision | undefined
  ): Promise<boolean> => {
    const stream = request.StreamName
    counters.records.offered += request.Records.length
    const size = (record: PutEntry) => Buffer.byteLength(record.Data, "base64") + Buffer.byteLength(record.PartitionKey)
    const recordFaults = decision !== undefined &&
      (decision.failIndexes !== undefined || (plan.throttle ?? 0) + (plan.internalFailure ?? 0) > 0)
    if (!recordFaults && resolveLimits(limits, stream) === undefined) {
      // Nothing to refuse: the request goes as it came, and the target's answer says where each record went.
      const upstream = await forward(req, body)
      let stored = 0
      if (upstream.status === 200) {
        const results = (JSON.parse(upstream.body.toString()) as { Records: Array<ResultEntry> }).Records
        results.forEach((result, i) => {
          if (result.ErrorCode === undefined && result.ShardId !== undefined) {
            stored++
            countStored(stream, result.ShardId, size(request.Records[i]))
          }
        })
      }
      answer(req, res, decision, stored, () => sendUpstream(res, upstream))
      return true
    }
    const shards = await shardMap(stream).catch(() => undefined)
    if (shards === undefined) return false
    const placed: Array<{ readonly shard: ShardRange; readonly bytes: number }> = []
    for (const record of request.Records) {
      const hashKey = hashKeyOf(record.PartitionKey, record.ExplicitHashKey)
      const shard = hashKey === undefined ? undefined : shardFor(shards, hashKey)
      // A record the target would refuse (a bad hash key) is left to the target to refuse, in its words.
      if (shard === undefined) return false
      placed.push({ shard, bytes: size(record) })
    }
    const time = now()
    const entries: Array<ResultEntry> = new Array(request.Records.length)
    const accepted: Array<number> = []
    for (let i = 0; i < request.Records.length; i++) {
      const { bytes, shard } = placed[i]
      const code = recordFault(decision, i)
      if (code !== undefined) {
        counters.records.faulted++
        shardSecond(stream, shard.shardId).faulted++
        entries[i] = {
          ErrorCode: code,
          ErrorMessage: code === "InternalFailure" ? internalFailureMessage : throttledMessage(stream, shard.shardId)
        }
      } else if (!admit(stream, shard.shardId, bytes, time)) {
        counters.records.throttled++
        shardSecond(stream, shard.shardId).throttled++
        entries[i] = {
          ErrorCode: "ProvisionedThroughputExceededException",
          ErrorMessage: throttledMessage(stream, shard.shardId)
        }
      } else accepted.push(i)
    }
    let encryption: unknown = undefined
    if (accepted.length > 0) {
      const upstream = await forward(
        req,
        Buffer.from(JSON.stringify({ ...rest, StreamName: stream, Records: accepted.map((i) => request.Records[i]) }))
      )
      if (upstream.status !== 200) {
        answer(req, res, decision, 0, () => sendUpstream(res, upstream))
        return true
      }
      const answered = JSON.parse(upstream.body.toString()) as { Records: Array<ResultEntry>; EncryptionType?: unknown }
      encryption = answered.EncryptionType
      for (let k = 0; k < accepted.length; k++) {
        const i = accepted[k]
        const result = answered.Records[k] ?? { ErrorCode: "InternalFailure", ErrorMessage: internalFailureMessage }
        entries[i] = result
        if (result.ErrorCode === undefined) {
          countStored(stream, placed[i].shard.shardId, placed[i].bytes)
          // The target placed it elsewhere: the shards changed, so read the map again next time.
          if (result.ShardId !== placed[i].shard.shardId) shardMaps.delete(stream)
        }
      }
    }
    const failed = entries.filter((entry) => entry.ErrorCode !== undefined).length
    answer(req, res, decision, entries.length - failed, () =>
      sendJson(res, 200, {
        FailedRecordCount: failed,
        Records: entries,
        ...(encryption === undefined ? {} : { EncryptionType: encryption })
      }))
    return true
  }

  const putRecord = async (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    request: PutEntry & { readonly StreamName: string },
    body: Buffer,
    decision: Decision | undefined
  ): Promise<boolean> => {
    const stream = request.StreamName
    const shards = await shardMap(stream).catch(() => undefined)
    const hashKey = hashKeyOf(request.PartitionKey, request.ExplicitHashKey)
    const shard = shards === undefined || hashKey === undefined ? undefined : shardFor(shards, hashKey)
    counters.records.offered++
    if (shard === undefined) return false
    const bytes = Buffer.byteLength(request.Data, "base64") + Buffer.byteLength(request.PartitionKey)
    const code = recordFault(decision, 0)
    if (code !== undefined) {
      counters.records.faulted++
      shardSecond(stream, shard.shardId).faulted++
      if (code === "InternalFailure") sendError(res, 500, code, internalFailureMessage)
      else sendError(res, 400, code, throttledMessage(stream, shard.shardId))
      return true
    }
    if (!admit(stream, shard.shardId, bytes, now())) {
      counters.records.throttled++
      shardSecond(stream, shard.shardId).throttled++
      sendError(res, 400, "ProvisionedThroughputExceededException", throttledMessage(stream, shard.shardId))
      return true
    }
    const upstream = await forward(req, body)
    const ok = upstream.status === 200
    if (ok) countStored(stream, shard.shardId, bytes)
    answer(req, res, decision, ok ? 1 : 0, () => sendUpstream(res, upstream))
    return true
  }

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) => {
    const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "Unknown"
    count(operation === "" ? "Unknown" : operation)
    const isJson = String(req.headers["content-type"] ?? "").split(";")[0].trim() === AMZ_JSON
    let json: Record<string, unknown> | undefined
    if (isJson) {
      try {
        const parsed: unknown = JSON.parse(raw.toString())
        if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) {
          json = parsed as Record<string, unknown>
        }
      } catch {
        // Not JSON after all: forwarded as it came, for the target to refuse in its words.
      }
    }
    let body = raw
    if (json !== undefined && typeof json.StreamARN === "string") {
      // kinesalite knows streams by name only; AWS takes either, so the proxy does too.
      const { StreamARN, ...rest } = json
      json = { ...rest, StreamName: StreamARN.slice(StreamARN.lastIndexOf("/") + 1) }
      body = Buffer.from(JSON.stringify(json))
    }
    const stream = typeof json?.StreamName === "string" ? json.StreamName : undefined
    const decision = decide(operation, stream)

    if (decision?.delayMillis !== undefined) {
      counters.faults.delay++
      await new Promise((resolve) => setTimeout(resolve, decision.delayMillis))
      if (closing || res.destroyed || req.socket.destroyed) {
        counters.abandoned++
        return
      }
    }
    switch (decision?.fault) {
      case "serverError":
        counters.faults.serverError++
        return sendError(res, 500, "InternalFailure", errorMessage("InternalFailure", stream, operation))
      case "error": {
        counters.faults.error++
        const fault = decision.error!
        const message = fault.message ?? errorMessage(fault.type, stream, operation)
        return sendError(res, fault.status ?? 400, fault.type, message)
      }
      case "hang":
        counters.faults.hang++
        hanging.add(res)
        res.once("close", () => hanging.delete(res))
        return
      case "resetBeforeForward":
        counters.faults.resetBeforeForward++
        counters.resets++
        req.socket.destroy()
        return
    }

    if (json !== undefined && stream !== undefined) {
      const records = json.Records
      if (operation === "PutRecords" && Array.isArray(records) && records.length > 0 && records.every(isPutEntry)) {
        const { Records: _records, StreamName: _name, ...rest } = json
        const request = { Records: records, StreamName: stream }
        if (await putRecords(req, res, request, body, rest, decision)) return
      } else if (operation === "PutRecord" && isPutEntry(json)) {
        if (await putRecord(req, res, { ...(json as unknown as PutEntry), StreamName: stream }, body, decision)) return
      }
    }
    const upstream = await forward(req, body)
    if (stream !== undefined && reshaping.has(operation)) {
      shardMaps.delete(stream)
    }
    answer(req, res, decision, 0, () => sendUpstream(res, upstream))
  }

  const server = http.createServer((req, res) => {
    const chunks: Array<Buffer> = []
    // A client that leaves mid-request (its timeout fired) is not an error of the proxy.
    req.on("error", () => {})
    res.on("error", () => {})
    req.on("data", (chunk: Buffer) => chunks.push(chunk))
    req.on("end", () => {
      handle(req, res, Buffer.concat(chunks)).catch((error: unknown) => {
        if (!closing) sendError(res, 500, "InternalFailure", `the proxy could not reach its target: ${String(error)}`)
        else req.socket.destroy()
      })
    })
  })
  // AWS keeps idle connections open a long while; a short idle timeout would add resets nobody planned.
  server.keepAliveTimeout = 60_000
  server.headersTimeout = 65_000
  server.on("clientError", (_error, socket) => socket.destroy())

  const control: Control = {
    faults: () => plan,
    setFaults: (next) => {
      plan = next
      used = new Map()
      if (next.seed !== undefined) random = seeded(next.seed)
    },
    setLimits: (next) => {
      limits = next
      buckets = new Map()
    },
    counters: () => ({
      requests: { ...counters.requests },
      records: { ...counters.records },
      faults: { ...counters.faults },
      resets: counters.resets,
      abandoned: counters.abandoned,
      shards: [...counters.shards.values()]
        .map((entry) => ({ ...entry }))
        .sort((a, b) =>
          a.second - b.second || a.stream.localeCompare(b.stream) || a.shardId.localeCompare(b.shardId)
        )
    }),
    resetCounters: () => {
      counters = emptyCounters()
    }
  }

  const close = async () => {
    closing = true
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const res of hanging) res.destroy()
    server.closeAllConnections()
    // Requests already with the target finish first: cutting them mid-body would upset the target.
    await Promise.race([Promise.allSettled([...forwarding]), new Promise((resolve) => setTimeout(resolve, 5_000))])
    agent.destroy()
    await closed
  }

  return new Promise((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject)
      resolve({ port: (server.address() as AddressInfo).port, control, close })
    })
  })
}

/** The proxy's controls, outside Effect. */
export interface Control {
  readonly faults: () => KinesisProxy.FaultPlan
  readonly setFaults: (plan: KinesisProxy.FaultPlan) => void
  readonly setLimits: (limits: boolean | KinesisProxy.Limits) => void
  readonly counters: () => KinesisProxy.Counters
  readonly resetCounters: () => void
}

const invalid = (what: string, problems: ReadonlyArray<string>) => new Error(`invalid ${what}: ${problems.join("; ")}`)

/** Starts the proxy in the current scope, on the Effect clock. */
export const make = (options: KinesisProxy.Options): Effect.Effect<KinesisProxy.Service, never, Scope.Scope> =>
  Effect.gen(function*() {
    const planProblems = checkPlan(options.faults ?? {})
    if (planProblems.length > 0) return yield* Effect.die(invalid("fault plan", planProblems))
    const limitProblems = checkLimits(options.limits ?? false)
    if (limitProblems.length > 0) return yield* Effect.die(invalid("limits", limitProblems))
    const clock = yield* Effect.clock
    const now = options.now ?? (() => clock.unsafeCurrentTimeMillis())
    const running = yield* Effect.acquireRelease(
      Effect.promise(() => start(options, now)),
      (running) => Effect.promise(() => running.close())
    )
    const { control } = running
    const setFaults = (plan: KinesisProxy.FaultPlan) =>
      Effect.suspend(() => {
        const problems = checkPlan(plan)
        return problems.length > 0 ?
          Effect.die(invalid("fault plan", problems)) :
          Effect.sync(() => control.setFaults(plan))
      })
    return {
      endpoint: `http://127.0.0.1:${running.port}`,
      faults: Effect.sync(() => control.faults()),
      setFaults,
      withFaults: (plan) => (effect) =>
        Effect.acquireUseRelease(
          Effect.sync(() => control.faults()).pipe(Effect.tap(() => setFaults(plan))),
          () => effect,
          (previous) => Effect.sync(() => control.setFaults(previous))
        ),
      setLimits: (limits) =>
        Effect.suspend(() => {
          const problems = checkLimits(limits)
          return problems.length > 0 ?
            Effect.die(invalid("limits", problems)) :
            Effect.sync(() => control.setLimits(limits))
        }),
      counters: Effect.sync(() => control.counters()),
      resetCounters: Effect.sync(() => control.resetCounters())
    } satisfies KinesisProxy.Service
  })
