/**
 * PutRecords and PutRecord through the proxy: each record placed on its open shard, failed by the fault plan or
 * refused by its shard's limits, and the rest forwarded to the target, whose answers are merged back in order.
 */
import type * as http from "node:http"
import type { Tally } from "./counters.js"
import type { Decision, Faults } from "./faults.js"
import type { ShardRange } from "./hashKey.js"
import type { Limiter } from "./limits.js"
import { internalFailureMessage, type Place, throttledMessage } from "./messages.js"
import { place, type ShardMaps } from "./shards.js"
import type { Upstream } from "./upstream.js"
import { sendError, sendJson, sendReply } from "./wire.js"

/** One record of a write request, as the JSON protocol carries it (data in base64). */
export interface PutEntry {
  readonly Data: string
  readonly PartitionKey: string
  readonly ExplicitHashKey?: string
}

/** Whether `value` is a record the proxy can place; anything else goes to the target to refuse in its words. */
export const isPutEntry = (value: unknown): value is PutEntry => {
  if (typeof value !== "object" || value === null) return false
  const entry = value as { Data?: unknown; PartitionKey?: unknown; ExplicitHashKey?: unknown }
  return typeof entry.Data === "string" && typeof entry.PartitionKey === "string" &&
    (entry.ExplicitHashKey === undefined || typeof entry.ExplicitHashKey === "string")
}

/** What the write handlers work with. */
export interface Parts {
  readonly faults: Faults
  readonly limiter: Limiter
  readonly shards: ShardMaps
  readonly tally: Tally
  readonly upstream: Upstream
  readonly place: Place
  readonly now: () => number
  /** Sends the answer of a request that stored `stored` records, unless the plan or the client says otherwise. */
  readonly answer: (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    decision: Decision | undefined,
    stored: number,
    send: () => void
  ) => void
}

/** The write handlers; each says false when it left the request to be forwarded as it came. */
export interface Writes {
  readonly putRecords: (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    request: { readonly Records: ReadonlyArray<PutEntry>; readonly StreamName: string },
    body: Buffer,
    rest: Record<string, unknown>,
    decision: Decision | undefined
  ) => Promise<boolean>
  readonly putRecord: (
    req: http.IncomingMessage,
    res: http.ServerResponse,
    request: PutEntry & { readonly StreamName: string },
    body: Buffer,
    decision: Decision | undefined
  ) => Promise<boolean>
}

interface ResultEntry {
  readonly ShardId?: string
  readonly SequenceNumber?: string
  readonly ErrorCode?: string
  readonly ErrorMessage?: string
}

/** A record's size against the limits: data bytes and the partition key's UTF-8 bytes. */
const sizeOf = (record: PutEntry) => Buffer.byteLength(record.Data, "base64") + Buffer.byteLength(record.PartitionKey)

/** The write handlers over `parts`. */
export const make = (parts: Parts): Writes => {
  const { answer, faults, limiter, shards, tally, upstream } = parts

  // The shard that stored a record admitted by `planned`. When the target says another (the stream was split or
  // merged since its map was read), that shard pays for the record and the map is read again.
  const storedOn = (stream: string, planned: string, answered: string | undefined, bytes: number, time: number) => {
    if (answered === undefined || answered === planned) return planned
    limiter.move(stream, planned, answered, bytes, time)
    shards.forget(stream)
    return answered
  }

  const putRecords: Writes["putRecords"] = async (req, res, request, body, rest, decision) => {
    const stream = request.StreamName
    tally.offered(request.Records.length)
    if (!faults.touchesRecords(decision) && limiter.of(stream) === undefined) {
      // Nothing to refuse: the request goes as it came, and the target's answer says where each record went.
      const reply = await upstream.forward(req, body)
      let stored = 0
      if (reply.status === 200) {
        const results = (JSON.parse(reply.body.toString()) as { Records: Array<ResultEntry> }).Records
        results.forEach((result, i) => {
          if (result.ErrorCode === undefined && result.ShardId !== undefined) {
            stored++
            tally.stored(stream, result.ShardId, sizeOf(request.Records[i]))
          }
        })
      }
      answer(req, res, decision, stored, () => sendReply(res, reply))
      return true
    }
    const map = await shards.get(stream).catch(() => undefined)
    if (map === undefined) return false
    const placed: Array<{ readonly shard: ShardRange; readonly bytes: number }> = []
    for (const record of request.Records) {
      const shard = place(map, record.PartitionKey, record.ExplicitHashKey)
      // A record the target would refuse (a bad hash key) is left to the target to refuse, in its words.
      if (shard === undefined) return false
      placed.push({ shard, bytes: sizeOf(record) })
    }
    const time = parts.now()
    const entries: Array<ResultEntry> = new Array(request.Records.length)
    const accepted: Array<number> = []
    for (let i = 0; i < request.Records.length; i++) {
      const { bytes, shard } = placed[i]
      const fault = faults.recordFault(decision, i)
      if (fault !== undefined) {
        tally.faulted(stream, shard.shardId, fault.kind)
        entries[i] = {
          ErrorCode: fault.code,
          ErrorMessage: fault.code === "InternalFailure" ?
            internalFailureMessage :
            throttledMessage(parts.place, stream, shard.shardId)
        }
      } else if (!limiter.admit(stream, shard.shardId, bytes, time)) {
        tally.throttled(stream, shard.shardId)
        entries[i] = {
          ErrorCode: "ProvisionedThroughputExceededException",
          ErrorMessage: throttledMessage(parts.place, stream, shard.shardId)
        }
      } else accepted.push(i)
    }
    let encryption: unknown = undefined
    if (accepted.length > 0) {
      const reply = await upstream.forward(
        req,
        Buffer.from(JSON.stringify({ ...rest, StreamName: stream, Records: accepted.map((i) => request.Records[i]) }))
      )
      if (reply.status !== 200) {
        answer(req, res, decision, 0, () => sendReply(res, reply))
        return true
      }
      const answered = JSON.parse(reply.body.toString()) as { Records: Array<ResultEntry>; EncryptionType?: unknown }
      encryption = answered.EncryptionType
      for (let k = 0; k < accepted.length; k++) {
        const i = accepted[k]
        const result = answered.Records[k] ?? { ErrorCode: "InternalFailure", ErrorMessage: internalFailureMessage }
        entries[i] = result
        if (result.ErrorCode === undefined) {
          const shardId = storedOn(stream, placed[i].shard.shardId, result.ShardId, placed[i].bytes, time)
          tally.stored(stream, shardId, placed[i].bytes)
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

  const putRecord: Writes["putRecord"] = async (req, res, request, body, decision) => {
    const stream = request.StreamName
    const map = await shards.get(stream).catch(() => undefined)
    const shard = map === undefined ? undefined : place(map, request.PartitionKey, request.ExplicitHashKey)
    tally.offered(1)
    if (shard === undefined) return false
    const bytes = sizeOf(request)
    const fault = faults.recordFault(decision, 0)
    if (fault !== undefined) {
      tally.faulted(stream, shard.shardId, fault.kind)
      if (fault.code === "InternalFailure") sendError(res, 500, fault.code, internalFailureMessage)
      else sendError(res, 400, fault.code, throttledMessage(parts.place, stream, shard.shardId))
      return true
    }
    const time = parts.now()
    if (!limiter.admit(stream, shard.shardId, bytes, time)) {
      tally.throttled(stream, shard.shardId)
      sendError(
        res,
        400,
        "ProvisionedThroughputExceededException",
        throttledMessage(parts.place, stream, shard.shardId)
      )
      return true
    }
    const reply = await upstream.forward(req, body)
    const ok = reply.status === 200
    if (ok) {
      const answered = JSON.parse(reply.body.toString()) as ResultEntry
      tally.stored(stream, storedOn(stream, shard.shardId, answered.ShardId, bytes, time), bytes)
    }
    answer(req, res, decision, ok ? 1 : 0, () => sendReply(res, reply))
    return true
  }

  return { putRecords, putRecord }
}
