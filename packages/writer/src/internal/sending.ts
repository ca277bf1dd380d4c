/**
 * One PutRecords request from start to end: send it, sort its records by the answer (stored, to retry, failed),
 * step each record's retry `Schedule`, tell `put` callers and `flush`, feed the pacing, log. What to send next is
 * the accumulator's decision; this module only carries one request out.
 */
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as Exit from "effect/Exit"
import * as FiberRef from "effect/FiberRef"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import type * as Tracer from "effect/Tracer"
import * as Accumulator from "../Accumulator.js"
import * as Batch from "../Batch.js"
import { KinesisError, RecordFailed } from "../Errors.js"
import type { Kinesis } from "../Kinesis.js"
import { Attributes, SYSTEM } from "../Metrics.js"
import * as Retry from "../Retry.js"
import * as Failing from "./failing.js"
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

/** A record that failed for good, and why. */
export interface Failure {
  readonly held: Held
  readonly code: string
  readonly detail: string
  readonly retriable: boolean
}

/** The writer's counters, changed in place. */
export interface Counters {
  accepted: number
  sent: number
  delivered: number
  failed: number
  retried: number
  throttled: number
  requests: number
  failedRequests: number
  bytesSent: number
  bytesDelivered: number
  readonly failedByCode: Map<string, number>
  readonly throttledByShard: Map<string, number>
}

/** Counters at zero. */
export const counters = (): Counters => ({
  accepted: 0,
  sent: 0,
  delivered: 0,
  failed: 0,
  retried: 0,
  throttled: 0,
  requests: 0,
  failedRequests: 0,
  bytesSent: 0,
  bytesDelivered: 0,
  failedByCode: new Map(),
  throttledByShard: new Map()
})

/** What a request's settlement changes in the writer. */
export interface Writer {
  readonly options: Resolved
  readonly kinesis: Kinesis.Service
  readonly acc: Accumulator.Accumulator<Ticket>
  readonly counters: Counters
  readonly metrics: Metrics.Recorder
  /** Requests failing as a whole one after another, for the warnings. */
  readonly streak: Failing.Streak
  /** When each record that was sent again was taken: its `readyAt` until its first retry moved it. */
  readonly takenAt: WeakMap<Held, number>
  readonly now: () => number
  /** Tells each waiting party what the accumulator decided for it. */
  readonly dispatch: () => void
  /** Wakes the batching fiber: the plan may have changed. */
  readonly wake: () => void
  /** Keeps a failed enqueued record for the next `flush`. */
  readonly report: (error: RecordFailed) => void
  /** A record landed on another shard than predicted: read the shard map again. */
  readonly refresh: () => void
}

// What a retry schedule decided for a record: give up, or send again from `readyAt` on, with its next state.
type Decision = { readonly done: true } | { readonly done: false; readonly next: unknown; readonly readyAt: number }

const THROTTLED = "ProvisionedThroughputExceededException"

// The code under which the user records of an aggregate that landed on an unexpected shard are sent again.
const RESHARDED = "AggregateOnOtherShard"
const RESHARD_WAIT_MILLIS = 1000

/** Fails records for good: `put` callers hear, enqueued records wait for `flush`; one warning per call. */
export const fail = (writer: Writer, failures: ReadonlyArray<Failure>): Effect.Effect<void> => {
  if (failures.length === 0) return Effect.void
  const { acc, counters, options } = writer
  // Counted per run of one code: the failures of one call mostly share theirs.
  let code = ""
  let run = 0
  for (const failure of failures) {
    if (!Accumulator.failed(acc, failure.held)) continue
    const error = new RecordFailed({
      stream: options.stream,
      data: failure.held.record.data,
      partitionKey: failure.held.record.partitionKey,
      explicitHashKey: failure.held.record.explicitHashKey,
      code: failure.code,
      detail: failure.detail,
      attempts: failure.held.attempts,
      retriable: failure.retriable
    })
    counters.failed++
    if (failure.code !== code) {
      countFailed(writer, code, run)
      code = failure.code
      run = 0
    }
    run++
    const ticket = failure.held.ticket
    if (ticket !== undefined) {
      if (ticket.span !== undefined) {
        ticket.span.attribute(Attributes.errorType, failure.code)
        ticket.span.attribute(Attributes.attempts, failure.held.attempts)
      }
      Deferred.unsafeDone(ticket.result, Exit.fail(error))
    } else writer.report(error)
  }
  countFailed(writer, code, run)
  writer.dispatch()
  const first = failures[0]
  return Effect.logWarning(
    `${failures.length} record(s) not stored in stream ${options.streamName}: ${first.code}${
      first.detail === "" ? "" : `: ${first.detail}`
    }${first.retriable ? ` (gave up after ${first.held.attempts} attempt(s))` : ""}`
  ).pipe(Effect.annotateLogs({ stream: options.streamName, code: first.code }))
}

const countFailed = (writer: Writer, code: string, records: number) => {
  if (records === 0) return
  writer.counters.failedByCode.set(code, (writer.counters.failedByCode.get(code) ?? 0) + records)
  Metrics.failed(writer.metrics, code, records)
}

// Steps each record's own schedule with its error: a delay puts it back, the schedule's end fails it.
// Records in the same state failing with the same error get the same decision, so the schedule is stepped once
// for them all: they share the step's state (and jitter) from then on, become ready together, and go out in
// one batch instead of a few at a time.
const retryOrFail = (
  writer: Writer,
  rejected: ReadonlyArray<{ readonly held: Held; readonly error: KinesisError }>
) =>
  Effect.gen(function*() {
    if (rejected.length === 0) return
    const { retry } = writer.options
    const again: Array<Held> = []
    const givenUp: Array<Failure> = []
    const time = writer.now()
    const decided = new Map<unknown, Map<KinesisError, Either.Either<Decision, unknown>>>()
    let code = ""
    let run = 0
    for (const { error, held } of rejected) {
      const state = held.retryState === undefined ? retry.initial : held.retryState
      let byError = decided.get(state)
      if (byError === undefined) decided.set(state, byError = new Map())
      let stepped = byError.get(error)
      if (stepped === undefined) {
        stepped = yield* retry.step(time, error, state).pipe(
          Effect.map(([next, , decision]): Decision =>
            ScheduleDecision.isDone(decision) ?
              { done: true } :
              { done: false, next, readyAt: Math.max(time, Intervals.start(decision.intervals)) }
          ),
          Effect.either,
          Effect.catchAllDefect((defect) => Effect.succeed(Either.left(defect)))
        )
        byError.set(error, stepped)
      }
      if (Either.isLeft(stepped)) {
        // A schedule that throws is a bug in the caller's code: the record fails with it, it is not lost.
        const reason = stepped.left instanceof Error ? stepped.left.message : String(stepped.left)
        givenUp.push({
          held,
          code: error.code,
          detail: `${error.detail} (the retry schedule failed: ${reason})`,
          retriable: true
        })
      } else if (stepped.right.done) {
        givenUp.push({ held, code: error.code, detail: error.detail, retriable: true })
      } else {
        // Until its first retry, a record's readyAt is when it was taken: kept for the delivery time.
        if (!writer.takenAt.has(held)) writer.takenAt.set(held, held.readyAt)
        held.retryState = stepped.right.next
        held.readyAt = stepped.right.readyAt
        again.push(held)
        if (error.code !== code) {
          if (run > 0) Metrics.retried(writer.metrics, code, run)
          code = error.code
          run = 0
        }
        run++
      }
    }
    if (run > 0) Metrics.retried(writer.metrics, code, run)
    writer.counters.retried += again.length
    Accumulator.retry(writer.acc, again)
    yield* fail(writer, givenUp)
  })

const logVisible = (message: string) =>
  FiberRef.getWith(
    FiberRef.currentMinimumLogLevel,
    (minimum) =>
      // Debug lines shown while the application's minimum is Info or lower; above that it asked for quiet.
      LogLevel.greaterThan(minimum, LogLevel.Info) ?
        Effect.void :
        Effect.logDebug(message).pipe(Logger.withMinimumLogLevel(LogLevel.Debug))
  )

const describe = (code: string, detail: string) => (detail === "" ? code : detail)

/** Sends one planned request and settles every record of it; never fails, and a defect fails its records loudly. */
export const send = (writer: Writer, batch: Accumulator.Outgoing<Ticket>): Effect.Effect<void> => {
  const { acc, counters, metrics, options, streak } = writer
  const { entries } = batch
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
        if (++held.attempts > attempt) attempt = held.attempts
        const caller = held.ticket?.span
        if (caller !== undefined) (links ??= []).push({ _tag: "SpanLink", span: caller, attributes: {} })
      }
      counters.requests++
      counters.sent += entries.length
      counters.bytesSent += batch.bytes
      Metrics.holding(metrics, counters.accepted, acc.heldRecords, acc.heldBytes, acc.inFlight.size)
      // A root: one long-lived span around the writer would otherwise gather every request of its life.
      const request = yield* Effect.makeSpan(`PutRecords ${options.streamName}`, {
        kind: "client",
        root: true,
        links,
        captureStackTrace: false,
        attributes: {
          [Attributes.system]: SYSTEM,
          [Attributes.destination]: options.streamName,
          [Attributes.operationName]: "PutRecords",
          [Attributes.operationType]: "send",
          [Attributes.batchMessageCount]: entries.length,
          [Attributes.streamName]: options.streamName,
          [Attributes.requestBytes]: batch.bytes,
          [Attributes.attempt]: attempt
        }
      })
      span = request
      if (options.logBatches) yield* logVisible(`sending ${entries.length} messages to stream ${options.streamName}`)
      const response = yield* restore(
        writer.kinesis.putRecords({ ...options.target, Records: Accumulator.entriesOf(batch) }).pipe(
          Effect.timeoutFail({ duration: options.requestTimeoutMillis, onTimeout: requestTimeout }),
          Effect.catchAllDefect((defect) => Effect.fail(Retry.classify("PutRecords", defect)))
        )
      ).pipe(Effect.either)
      const answeredAt = writer.now()
      let successful = 0
      let throttledRecords = 0
      let feedback: Accumulator.Feedback | undefined
      let line: Failing.Line | undefined
      const errors = new Set<string>()
      if (Either.isLeft(response)) {
        const error = response.left
        counters.failedRequests++
        errors.add(describe(error.code, error.detail))
        Metrics.request(metrics, entries.length, batch.bytes, answeredAt - batch.sentAt, error.code)
        request.attribute(Attributes.errorType, error.code)
        outcome = Exit.fail(error)
        // Records that fail for good are each reported at Warning, as the writer promises, streak or not; the
        // streak's own warning says why requests keep failing while their records are still being retried.
        Failing.failed(streak, error, batch.sentAt)
        if (Retry.mayHaveStored(error)) { for (const held of entries) held.maybeStored = true }
        if (error.retriable) yield* retryOrFail(writer, entries.map((held) => ({ held, error })))
        else {
          yield* fail(
            writer,
            entries.map((held) => ({ held, code: error.code, detail: error.detail, retriable: false }))
          )
        }
        line = Failing.warning(streak, options.streamName, acc.heldRecords, writer.now())
      } else {
        line = Failing.answered(streak, options.streamName, answeredAt)
        Metrics.request(metrics, entries.length, batch.bytes, answeredAt - batch.sentAt, undefined)
        const settlement = Batch.settle(batch.items ?? entries, response.right.Records, Retry.isRetriableCode)
        const throttled = new Set<string>()
        const stored = new Map<string, number>()
        feedback = { throttled, stored }
        let moved = false
        // One error per distinct answer, not per record: building an Error captures a stack trace.
        const shared = new Map<string, KinesisError>()
        const errorOf = (code: string, detail: string) => {
          const key = `${code}\n${detail}`
          let error = shared.get(key)
          if (error === undefined) {
            error = new KinesisError({ operation: "PutRecords", code, detail, retriable: true })
            shared.set(key, error)
          }
          return error
        }
        const again: Array<{ readonly held: Held; readonly error: KinesisError }> = []
        const { deliveryDuration } = metrics.metrics
        let deliveredBytes = 0
        const deliver = (held: Held, shardId: string, sequenceNumber: string, subSequenceNumber?: number) => {
          if (Accumulator.delivered(acc, held, shardId)) moved = true
          counters.delivered++
          successful++
          deliveredBytes += held.size
          // A record sent once still has the readyAt it was taken with; retries moved it, takenAt kept it.
          const takenAt = held.attempts === 1 ? held.readyAt : writer.takenAt.get(held) ?? held.readyAt
          deliveryDuration.unsafeUpdate((answeredAt - takenAt) / 1000, metrics.labels)
          const ticket = held.ticket
          if (ticket !== undefined) {
            if (ticket.span !== undefined) {
              ticket.span.attribute(Attributes.partition, shardId)
              ticket.span.attribute(Attributes.messageId, sequenceNumber)
              ticket.span.attribute(Attributes.attempts, held.attempts)
              ticket.span.addLinks([{ _tag: "SpanLink", span: request, attributes: {} }])
            }
            const result: RecordResult = subSequenceNumber === undefined ?
              { shardId, sequenceNumber, attempts: held.attempts } :
              { shardId, sequenceNumber, subSequenceNumber, attempts: held.attempts }
            Deferred.unsafeDone(ticket.result, Exit.succeed(result))
          }
        }
        for (const { item, sequenceNumber, shardId } of settlement.delivered) {
          const shard = Accumulator.isAggregated(item) ? item.members[0].shard : item.shard
          stored.set(shard, (stored.get(shard) ?? 0) + 1)
          if (!Accumulator.isAggregated(item)) deliver(item, shardId, sequenceNumber)
          else if (shard === shardId) item.members.forEach((held, i) => deliver(held, shardId, sequenceNumber, i))
          else {
            // An aggregate stored on another shard than it was packed for (a reshard on the way): a KCL drops its
            // user records whose hash keys that shard does not hold, so every one is sent again once the map is read.
            moved = true
            Accumulator.misplaced(acc, shard)
            const error = errorOf(RESHARDED, `stored on ${shardId}, packed for ${shard}: sent again after the reshard`)
            for (const held of item.members) again.push({ held, error })
          }
        }
        counters.bytesDelivered += deliveredBytes
        Metrics.delivered(metrics, successful, deliveredBytes)
        writer.dispatch()
        // A record stored on another shard than predicted: the stream was resharded, the map is out of date.
        if (moved) writer.refresh()
        for (const { code, detail } of settlement.retry) errors.add(describe(code, detail))
        for (const { code, detail } of settlement.failed) errors.add(describe(code, detail))
        const byShard = new Map<string, number>()
        for (const { code, detail, item } of settlement.retry) {
          const error = errorOf(code, detail)
          const members = Accumulator.isAggregated(item) ? item.members : [item]
          if (code === THROTTLED) {
            counters.throttled += members.length
            throttled.add(members[0].shard)
            throttledRecords += members.length
            byShard.set(members[0].shard, (byShard.get(members[0].shard) ?? 0) + members.length)
          }
          for (const held of members) again.push({ held, error })
        }
        for (const [shard, records] of byShard) {
          // Shard-blind, the shard is not known: counted without one.
          if (shard !== Accumulator.BLIND) {
            counters.throttledByShard.set(shard, (counters.throttledByShard.get(shard) ?? 0) + records)
          }
          Metrics.throttled(metrics, shard === Accumulator.BLIND ? undefined : shard, records)
        }
        yield* retryOrFail(writer, again)
        // The map is read again at once, but not answered at once: records of a misplaced aggregate wait for it.
        const later = writer.now() + RESHARD_WAIT_MILLIS
        for (const { held, error } of again) if (error.code === RESHARDED && held.readyAt < later) held.readyAt = later
        const failed: Array<Failure> = []
        for (const { code, detail, item } of settlement.failed) {
          for (const held of Accumulator.isAggregated(item) ? item.members : [item]) {
            failed.push({ held, code, detail, retriable: false })
          }
        }
        yield* fail(writer, failed)
      }
      request.attribute(Attributes.delivered, successful)
      request.attribute(Attributes.throttled, throttledRecords)
      request.attribute(Attributes.failed, entries.length - successful)
      Accumulator.finish(acc, batch, feedback, writer.now())
      if (line !== undefined) {
        yield* (line.level === "Warning" ? Effect.logWarning(line.message) : Effect.logInfo(line.message)).pipe(
          Effect.annotateLogs({ stream: options.streamName })
        )
      }
      if (options.logBatches) {
        yield* logVisible(
          `sent ${entries.length} messages to stream ${options.streamName}; ${successful} successful; errors = {${
            [...errors].join(", ")
          }}`
        )
      }
    }).pipe(
      // A defect while settling is a bug, but its records must still end somewhere: they fail, loudly.
      Effect.catchAllDefect((defect) =>
        Effect.suspend(() => {
          outcome = Exit.die(defect)
          Accumulator.finish(acc, batch, undefined, writer.now())
          return fail(
            writer,
            Accumulator.stranded(acc, batch).map((held) => ({
              held,
              code: "WriterDefect",
              detail: `the writer failed while settling a response: ${String(defect)}`,
              retriable: false
            }))
          ).pipe(Effect.zipRight(Effect.logError("the writer failed while settling a response", defect)))
        })
      ),
      Effect.ensuring(Effect.suspend(() => {
        Accumulator.finish(acc, batch, undefined, writer.now())
        writer.wake()
        Metrics.holding(metrics, counters.accepted, acc.heldRecords, acc.heldBytes, acc.inFlight.size)
        const ended = span
        return ended === undefined
          ? Effect.void
          : Effect.map(Clock.currentTimeNanos, (nanos) => ended.end(nanos, outcome))
      }))
    )
  )
}
