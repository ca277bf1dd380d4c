/**
 * One PutRecords request from start to end: its span, the call with its timeout, then the accumulator's handler
 * for the answer or the failure, and the writer's processing of what the accumulator decided. Nothing is decided
 * here.
 */
import { Accumulator } from "@effect-kinesis/core"
import * as Clock from "effect/Clock"
import type * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as LogLevel from "effect/LogLevel"
import * as References from "effect/References"
import * as Result from "effect/Result"
import type * as Tracer from "effect/Tracer"
import type { RecordFailed } from "../Errors.js"
import type { Kinesis } from "../Kinesis.js"
import { Attributes, SYSTEM } from "../Metrics.js"
import * as Retry from "../Retry.js"
import * as Metrics from "./metrics.js"
import type { Resolved } from "./options.js"

/** Where a stored record went, and how many requests it took. */
export interface RecordResult {
  readonly shardId: string
  readonly sequenceNumber: string
  /** Its position inside the aggregate that carried it (the KPL's sub-sequence number); none when sent plain. */
  readonly subSequenceNumber?: number | undefined
  readonly attempts: number
}

/** A `put` caller's handle on its record's result, and the span `put` runs in (when its caller had one). */
export interface Ticket {
  readonly result: Deferred.Deferred<RecordResult, RecordFailed>
  readonly span: Tracer.Span | undefined
}

/** A record the writer holds. */
export type Held = Accumulator.Held<Ticket>

/** What a request needs of the writer. */
export interface Writer {
  readonly options: Resolved
  readonly kinesis: Kinesis.Service
  readonly acc: Accumulator.Accumulator<Ticket>
  readonly metrics: Metrics.Recorder
  readonly now: () => number
  /** Acts on the accumulator's events. */
  readonly process: Effect.Effect<void>
}

/** Marks a stored record's `put` span with where it went. */
export const annotateStored = (ticket: Ticket, held: Held): void => {
  const span = ticket.span
  if (span === undefined) return
  span.attribute(Attributes.partition, held.shardId)
  span.attribute(Attributes.messageId, held.sequenceNumber)
  span.attribute(Attributes.attempts, held.attempts)
}

const logVisible = (message: string): Effect.Effect<void> =>
  Effect.flatMap(References.MinimumLogLevel, (minimum) =>
    // Debug lines shown while the application's minimum is Info or lower; above that it asked for quiet.
    LogLevel.isGreaterThan(minimum, "Info") ?
      Effect.void :
      Effect.logDebug(message).pipe(Effect.provideService(References.MinimumLogLevel, "Debug")))

/** Sends one planned request and hands its outcome to the accumulator; never fails. */
export const send = (writer: Writer, request: Accumulator.Request<Ticket>): Effect.Effect<void> => {
  const { acc, metrics, options } = writer
  const { entries } = request
  const requestTimeout = () => Retry.timedOut("PutRecords", options.requestTimeoutMillis)
  // The request's span ends with its outcome: a failure when the request failed as a whole.
  let span: Tracer.Span | undefined
  let outcome: Exit.Exit<unknown, unknown> = Exit.void
  return Effect.uninterruptibleMask((restore) =>
    Effect.gen(function*() {
      let attempt = 0
      // Each `put` caller's span, so that a trace leads from the put to the requests that carried its record.
      let links: Array<Tracer.SpanLink> | undefined
      for (const held of entries) {
        if (held.attempts > attempt) attempt = held.attempts
        const caller = held.ticket?.span
        if (caller !== undefined) (links ??= []).push({ span: caller, attributes: {} })
      }
      // A root: one long-lived span around the writer would otherwise gather every request of its life.
      span = yield* Effect.makeSpan(`PutRecords ${options.streamName}`, {
        kind: "client",
        root: true,
        links,
        attributes: {
          [Attributes.system]: SYSTEM,
          [Attributes.destination]: options.streamName,
          [Attributes.operationName]: "PutRecords",
          [Attributes.operationType]: "send",
          [Attributes.batchMessageCount]: entries.length,
          [Attributes.streamName]: options.streamName,
          [Attributes.requestBytes]: request.bytes,
          [Attributes.attempt]: attempt
        }
      })
      const requestSpan = span
      if (options.logBatches) yield* logVisible(`sending ${entries.length} messages to stream ${options.streamName}`)
      const response = yield* restore(
        writer.kinesis.putRecords({ ...options.target, Records: Accumulator.entriesOf(request) }).pipe(
          Effect.timeoutOrElse({
            duration: options.requestTimeoutMillis,
            orElse: () => Effect.fail(requestTimeout())
          }),
          Effect.catchDefect((defect) => Effect.fail(Retry.classify("PutRecords", defect)))
        )
      ).pipe(Effect.result)
      const answeredAt = writer.now()
      let successful = 0
      let errors: ReadonlyArray<string>
      if (Result.isFailure(response)) {
        const error = response.failure
        errors = [error.detail === "" ? error.code : error.detail]
        Metrics.request(metrics, entries.length, request.bytes, answeredAt - request.sentAt, error.code)
        requestSpan.attribute(Attributes.errorType, error.code)
        outcome = Exit.fail(error)
        Accumulator.handleRequestFailure(acc, request, error, answeredAt)
        requestSpan.attribute(Attributes.throttled, 0)
      } else {
        Metrics.request(metrics, entries.length, request.bytes, answeredAt - request.sentAt, undefined)
        const answer = Accumulator.handleResponse(acc, request, response.success.Records, answeredAt)
        successful = answer.delivered
        errors = answer.errors
        for (const [shard, records] of answer.throttledByShard) {
          Metrics.throttled(metrics, shard === Accumulator.BLIND ? undefined : shard, records)
        }
        requestSpan.attribute(Attributes.throttled, answer.throttled)
        if (links !== undefined) {
          for (const held of entries) {
            if (held.ticket?.span !== undefined && held.sequenceNumber !== "") {
              held.ticket.span.addLinks([{ span: requestSpan, attributes: {} }])
            }
          }
        }
      }
      requestSpan.attribute(Attributes.delivered, successful)
      requestSpan.attribute(Attributes.failed, entries.length - successful)
      yield* writer.process
      if (options.logBatches) {
        yield* logVisible(
          `sent ${entries.length} messages to stream ${options.streamName}; ${successful} successful; errors = {${
            errors.join(", ")
          }}`
        )
      }
    }).pipe(
      // A defect while handling the outcome is a bug, but its records must still end somewhere: they fail, loudly.
      Effect.catchDefect((defect) =>
        Effect.suspend(() => {
          outcome = Exit.die(defect)
          Accumulator.handleDefect(acc, request, String(defect), writer.now())
          return writer.process.pipe(
            Effect.andThen(Effect.logError("the writer failed while settling a response", defect))
          )
        })
      ),
      Effect.ensuring(Effect.suspend(() => {
        const ended = span
        return ended === undefined ?
          Effect.void :
          Effect.map(Clock.currentTimeNanos, (nanos) => ended.end(nanos, outcome))
      }))
    )
  )
}
