/**
 * The proxy's HTTP server: it reads each request, translates a `StreamARN`, meets the request faults of the plan,
 * hands writes to the write handlers and forwards the rest; and its controls.
 */
import * as http from "node:http"
import type { AddressInfo } from "node:net"
import * as Counters from "./counters.js"
import * as Faults from "./faults.js"
import * as Limits from "./limits.js"
import { errorMessage } from "./messages.js"
import * as Shards from "./shards.js"
import type * as Types from "./types.js"
import * as Upstream from "./upstream.js"
import { AMZ_JSON, sendError, sendReply } from "./wire.js"
import * as Writes from "./writes.js"

// Operations after which a stream's shard map may have changed.
const reshaping = new Set(["CreateStream", "DeleteStream", "SplitShard", "MergeShards", "UpdateShardCount"])

// How long stopping waits for requests already with the target.
const drainMillis = 5_000

// A nonsensical plan or limits: every problem named, in one message.
const invalid = (what: string, problems: ReadonlyArray<string>) => new Error(`invalid ${what}: ${problems.join("; ")}`)

/** Throws when `plan` is nonsensical, naming each problem. */
export const assertPlan = (plan: Types.FaultPlan): void => {
  const problems = Faults.checkPlan(plan)
  if (problems.length > 0) throw invalid("fault plan", problems)
}

/** Throws when `limits` are nonsensical, naming each problem. */
export const assertLimits = (limits: boolean | Types.Limits): void => {
  const problems = Limits.checkLimits(limits)
  if (problems.length > 0) throw invalid("limits", problems)
}

/** Starts the proxy's server on 127.0.0.1; rejects a nonsensical plan or limits before starting anything. */
export const start = async (options: Types.Options): Promise<Types.Running> => {
  assertPlan(options.faults ?? {})
  assertLimits(options.limits ?? false)
  const now = options.now ?? Date.now
  const place = { account: options.account ?? "000000000000", region: options.region ?? "us-east-1" }
  const upstream = Upstream.make(options.target)
  const faults = Faults.make(options.faults ?? {}, options.seed ?? 1)
  const limiter = Limits.make(options.limits ?? false)
  const tally = Counters.make(now)
  const shards = Shards.make(upstream.invoke)
  const hanging = new Set<http.ServerResponse>()
  // Requests waiting out a delay fault: stopping wakes them, so that no timer outlives the proxy.
  const delayed = new Set<() => void>()
  let closing = false

  // Sends the answer, unless the plan resets the connection after forwarding or the client has left.
  const answer: Writes.Parts["answer"] = (req, res, decision, stored, send) => {
    if (decision?.fault === "resetAfterForward") {
      tally.requestFault("resetAfterForward")
      tally.unanswered(stored)
      req.socket.destroy()
    } else if (res.destroyed || req.socket.destroyed) {
      tally.unanswered(stored)
    } else send()
  }

  const writes = Writes.make({ faults, limiter, shards, tally, upstream, place, now, answer })

  const handle = async (req: http.IncomingMessage, res: http.ServerResponse, raw: Buffer) => {
    const operation = String(req.headers["x-amz-target"] ?? "").split(".")[1] ?? "Unknown"
    tally.request(operation === "" ? "Unknown" : operation)
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
    const decision = faults.decide(operation, stream)

    if (decision?.delayMillis !== undefined) {
      tally.requestFault("delay")
      await new Promise<void>((resolve) => {
        const wake = () => {
          clearTimeout(timer)
          delayed.delete(wake)
          resolve()
        }
        const timer = setTimeout(wake, decision.delayMillis)
        delayed.add(wake)
      })
      if (closing || res.destroyed || req.socket.destroyed) {
        tally.abandoned()
        return
      }
    }
    switch (decision?.fault) {
      case "serverError":
        tally.requestFault("serverError")
        return sendError(res, 500, "InternalFailure", errorMessage(place, "InternalFailure", stream, operation))
      case "error": {
        tally.requestFault("error")
        const fault = decision.error!
        const message = fault.message ?? errorMessage(place, fault.type, stream, operation)
        return sendError(res, fault.status ?? 400, fault.type, message)
      }
      case "hang":
        tally.requestFault("hang")
        hanging.add(res)
        res.once("close", () => hanging.delete(res))
        return
      case "resetBeforeForward":
        tally.requestFault("resetBeforeForward")
        req.socket.destroy()
        return
    }

    if (json !== undefined && stream !== undefined) {
      const records = json.Records
      if (
        operation === "PutRecords" && Array.isArray(records) && records.length > 0 && records.every(Writes.isPutEntry)
      ) {
        const { Records: _records, StreamName: _name, ...rest } = json
        const request = { Records: records, StreamName: stream }
        if (await writes.putRecords(req, res, request, body, rest, decision)) return
      } else if (operation === "PutRecord" && Writes.isPutEntry(json)) {
        if (await writes.putRecord(req, res, { ...json, StreamName: stream }, body, decision)) return
      }
    }
    const reply = await upstream.forward(req, body)
    if (stream !== undefined && reshaping.has(operation)) {
      shards.forget(stream)
    }
    answer(req, res, decision, 0, () => sendReply(res, reply))
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

  // Stopping once: a second close waits for the first.
  let stopped: Promise<void> | undefined
  const setFaults = (plan: Types.FaultPlan) => {
    assertPlan(plan)
    faults.set(plan)
  }
  const controls: Omit<Types.Running, "endpoint" | "port"> = {
    faults: faults.plan,
    setFaults,
    withFaults: async (plan, run) => {
      const previous = faults.plan()
      setFaults(plan)
      try {
        return await run()
      } finally {
        faults.set(previous)
      }
    },
    limits: limiter.limits,
    setLimits: (limits) => {
      assertLimits(limits)
      limiter.set(limits)
    },
    counters: tally.snapshot,
    resetCounters: tally.reset,
    refreshShards: shards.refresh,
    close: () => (stopped ??= stop())
  }

  const stop = async () => {
    closing = true
    shards.close()
    const closed = new Promise<void>((resolve) => server.close(() => resolve()))
    for (const res of hanging) res.destroy()
    for (const wake of delayed) wake()
    server.closeAllConnections()
    await upstream.close(drainMillis)
    await closed
  }

  const port = await new Promise<number>((resolve, reject) => {
    server.once("error", reject)
    server.listen(options.port ?? 0, "127.0.0.1", () => {
      server.off("error", reject)
      resolve((server.address() as AddressInfo).port)
    })
  })
  return { ...controls, endpoint: `http://127.0.0.1:${port}`, port }
}
