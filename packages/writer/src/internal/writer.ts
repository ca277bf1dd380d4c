import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Either from "effect/Either"
import * as ExecutionStrategy from "effect/ExecutionStrategy"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberRef from "effect/FiberRef"
import * as FiberSet from "effect/FiberSet"
import * as Logger from "effect/Logger"
import * as LogLevel from "effect/LogLevel"
import * as Random from "effect/Random"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import * as Scope from "effect/Scope"
import * as Batch from "../Batch.js"
import { DeliveryFailed, type InvalidRecord, KinesisError, RecordFailed, WriterClosed } from "../Errors.js"
import { Kinesis } from "../Kinesis.js"
import * as Record from "../Record.js"
import * as Retry from "../Retry.js"
import type { Resolved } from "./options.js"

/** Where a stored record went, and how many requests it took. */
export interface RecordResult {
  readonly shardId: string
  readonly sequenceNumber: string
  readonly attempts: number
}

/** Counters since the writer started, and what it holds now. */
export interface Stats {
  /** Records accepted by `enqueue` or `put`. */
  readonly accepted: number
  /** Records stored in the stream. */
  readonly delivered: number
  /** Records that failed for good. */
  readonly failed: number
  /** Times a record was put back to be sent again. */
  readonly retried: number
  /** PutRecords requests sent. */
  readonly requests: number
  /** PutRecords requests that failed as a whole. */
  readonly failedRequests: number
  /** Records held now: waiting, waiting to retry, or in flight. */
  readonly bufferedRecords: number
  /** Bytes of the records held now. */
  readonly bufferedBytes: number
  /** PutRecords requests in flight now. */
  readonly inFlight: number
}

/** The writer's operations. */
export interface Service {
  readonly stream: string
  readonly enqueue: (message: unknown, key?: Record.Key) => Effect.Effect<void, InvalidRecord | WriterClosed>
  readonly put: (
    message: unknown,
    key?: Record.Key
  ) => Effect.Effect<RecordResult, InvalidRecord | RecordFailed | WriterClosed>
  readonly flush: Effect.Effect<void, DeliveryFailed>
  readonly stats: Effect.Effect<Stats>
}

// One record from the moment the buffer takes it until it is stored or has failed for good.
interface Pending extends Batch.Sized {
  readonly record: Record.Encoded
  readonly seq: number
  // When it last became sendable: when it was taken, or when its retry delay ended. Linger counts from here.
  readyAt: number
  attempts: number
  scheduleState: unknown
  settled: boolean
  // A request that carried it went unanswered (timeout, reset, 5xx): Kinesis may hold it already.
  maybeStored: boolean
  readonly result: Deferred.Deferred<RecordResult, RecordFailed> | undefined
}

// A caller of enqueue or put suspended until the buffer has room.
interface Waiter {
  readonly size: number
  readonly admitted: Deferred.Deferred<void, WriterClosed>
  granted: boolean
}

interface Flush {
  readonly upTo: number
  remaining: number
  readonly done: Deferred.Deferred<void>
}

// What a retry schedule decided for a record: give up, or send again from `readyAt` on, with its next state.
type Decision = { readonly done: true } | { readonly done: false; readonly next: unknown; readonly readyAt: number }

interface Failure {
  readonly pending: Pending
  readonly code: string
  readonly detail: string
  readonly retriable: boolean
}

const now = (clock: { unsafeCurrentTimeMillis(): number }) => clock.unsafeCurrentTimeMillis()

// Two lists in original order (seq) merged into one; the common case, all of `b` after all of `a`, appends.
const mergeBySeq = (a: Array<Pending>, b: ReadonlyArray<Pending>): Array<Pending> => {
  if (b.length === 0) return a
  if (a.length === 0 || a[a.length - 1].seq < b[0].seq) {
    for (const pending of b) a.push(pending)
    return a
  }
  const merged: Array<Pending> = []
  let i = 0
  let j = 0
  while (i < a.length || j < b.length) {
    if (j >= b.length || (i < a.length && a[i].seq < b[j].seq)) merged.push(a[i++])
    else merged.push(b[j++])
  }
  return merged
}

/** Builds a writer in the current scope; closing the scope stops intake and drains within `shutdownTimeout`. */
export const make = (options: Resolved): Effect.Effect<Service, never, Kinesis | Scope.Scope> =>
  // The drain needs its finalizers run in order (drain, then batching fiber, then senders), whatever the caller's
  // scope does: a parallel scope would stop the senders while the drain waits for them.
  Effect.flatMap(Effect.scope, (parent) =>
    Effect.flatMap(Scope.fork(parent, ExecutionStrategy.sequential), (own) => Scope.extend(build(options), own)))

const build = (options: Resolved): Effect.Effect<Service, never, Kinesis | Scope.Scope> =>
  Effect.gen(function*() {
    const kinesis = yield* Kinesis
    const clock = yield* Effect.clock
    const senders = yield* FiberSet.make<void, never>()
    const fiberId = yield* Effect.fiberId
    const { limits, maxBufferedBytes, maxBufferedRecords, maxInFlight, lingerMillis, streamName } = options

    // Every field below is only touched inside Effect.sync blocks of this one JavaScript thread: no locks needed.
    let fresh: Array<Pending> = [] // never sent, in order; the head is at freshHead
    let freshHead = 0
    let freshBytes = 0
    let retries: Array<Pending> = [] // waiting to be sent again, in original order (seq)
    let heldRecords = 0 // records taken and not yet settled
    let heldBytes = 0
    let reservedRecords = 0 // room granted to waiters that have not yet put their record in
    let reservedBytes = 0
    const waiters: Array<Waiter> = []
    const flushes: Array<Flush> = []
    const inFlightBatches = new Set<Array<Pending>>()
    let failures: Array<RecordFailed> = []
    let unlisted = 0
    let nextSeq = 0
    let urgentUpTo = -1 // records up to this seq are sent without waiting for linger (flush, shutdown)
    let closed = false
    let stopped = false // the shutdown deadline passed: nothing is sent any more
    let wakeup: Deferred.Deferred<void> | undefined
    let drained: Deferred.Deferred<boolean> | undefined // true when everything settled, false at the timeout
    const counters = { accepted: 0, delivered: 0, failed: 0, retried: 0, requests: 0, failedRequests: 0 }
    const randomPrefix = `${(yield* Random.nextIntBetween(0, 0x7fffffff)).toString(36)}-`
    let keyCounter = 0
    // MD5 spreads any distinct keys evenly over the hash key space; a counter makes them distinct at no cost.
    const randomKey = () => randomPrefix + (keyCounter++).toString(36)

    const wake = () => {
      if (wakeup !== undefined) {
        const signal = wakeup
        wakeup = undefined
        Deferred.unsafeDone(signal, Exit.void)
      }
    }

    const hasRoom = (size: number) =>
      heldRecords + reservedRecords < maxBufferedRecords && heldBytes + reservedBytes + size <= maxBufferedBytes

    const admit = (record: Record.Encoded, result: Pending["result"]): void => {
      const pending: Pending = {
        record,
        size: record.size,
        seq: nextSeq++,
        readyAt: now(clock),
        attempts: 0,
        scheduleState: undefined,
        settled: false,
        maybeStored: false,
        result
      }
      const wasEmpty = fresh.length === freshHead
      fresh.push(pending)
      freshBytes += record.size
      heldRecords++
      heldBytes += record.size
      counters.accepted++
      // The batching fiber sleeps until linger ends or a batch fills; only those two events change its plan.
      if (wasEmpty || Batch.isFull(fresh.length - freshHead, freshBytes, limits)) wake()
    }

    const grantWaiters = () => {
      while (waiters.length > 0 && hasRoom(waiters[0].size)) {
        const waiter = waiters.shift()!
        waiter.granted = true
        reservedRecords++
        reservedBytes += waiter.size
        Deferred.unsafeDone(waiter.admitted, Exit.void)
      }
    }

    const releaseReservation = (size: number) => {
      reservedRecords--
      reservedBytes -= size
      grantWaiters()
      checkDrained()
    }

    const checkDrained = () => {
      if (drained !== undefined && heldRecords === 0 && reservedRecords === 0) Deferred.unsafeDone(drained, Exit.succeed(true))
    }

    // A record leaves the buffer: its room goes to waiters, and flushes that wait for it move on.
    const release = (pending: Pending) => {
      if (pending.settled) return // settled once only, so the counts and flushes stay exact
      pending.settled = true
      heldRecords--
      heldBytes -= pending.size
      for (let i = flushes.length - 1; i >= 0; i--) {
        const flush = flushes[i]
        if (pending.seq <= flush.upTo && --flush.remaining === 0) {
          flushes.splice(i, 1)
          Deferred.unsafeDone(flush.done, Exit.void)
        }
      }
      grantWaiters()
      checkDrained()
    }

    const toRecordFailed = (failure: Failure) =>
      new RecordFailed({
        stream: options.stream,
        data: failure.pending.record.data,
        partitionKey: failure.pending.record.partitionKey,
        explicitHashKey: failure.pending.record.explicitHashKey,
        code: failure.code,
        detail: failure.detail,
        attempts: failure.pending.attempts,
        retriable: failure.retriable
      })

    const fail = (batchFailures: ReadonlyArray<Failure>): Effect.Effect<void> => {
      if (batchFailures.length === 0) return Effect.void
      for (const failure of batchFailures) {
        const error = toRecordFailed(failure)
        counters.failed++
        if (failure.pending.result !== undefined) {
          Deferred.unsafeDone(failure.pending.result, Exit.fail(error))
        } else if (failures.length < maxBufferedRecords) failures.push(error)
        else unlisted++
        release(failure.pending)
      }
      const first = batchFailures[0]
      return Effect.logWarning(
        `${batchFailures.length} record(s) not stored in stream ${streamName}: ${first.code}${
          first.detail === "" ? "" : `: ${first.detail}`
        }${first.retriable ? ` (gave up after ${first.pending.attempts} attempt(s))` : ""}`
      ).pipe(Effect.annotateLogs({ stream: streamName, code: first.code }))
    }

    const deliver = (pending: Pending, shardId: string, sequenceNumber: string) => {
      counters.delivered++
      if (pending.result !== undefined) {
        Deferred.unsafeDone(pending.result, Exit.succeed({ shardId, sequenceNumber, attempts: pending.attempts }))
      }
      release(pending)
    }

    // Puts records back to be sent again, in original order, so they go out ahead of records never sent.
    const requeue = (again: ReadonlyArray<Pending>) => {
      if (again.length === 0) return
      counters.retried += again.length
      retries = mergeBySeq(retries, again)
    }

    // Steps each record's own schedule with its error: a delay puts it back, the schedule's end fails it.
    // Records in the same state failing with the same error get the same decision, so the schedule is stepped once
    // for them all: they share the step's state (and jitter) from then on, become ready together, and go out in
    // one batch instead of a few at a time.
    const retryOrFail = (rejected: ReadonlyArray<{ readonly item: Pending; readonly error: KinesisError }>) =>
      Effect.gen(function*() {
        const again: Array<Pending> = []
        const givenUp: Array<Failure> = []
        const time = now(clock)
        const decided = new Map<unknown, Map<KinesisError, Either.Either<Decision, unknown>>>()
        for (const { error, item } of rejected) {
          const state = item.scheduleState === undefined ? options.retry.initial : item.scheduleState
          let byError = decided.get(state)
          if (byError === undefined) decided.set(state, byError = new Map())
          let stepped = byError.get(error)
          if (stepped === undefined) {
            stepped = yield* options.retry.step(time, error, state).pipe(
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
              pending: item,
              code: error.code,
              detail: `${error.detail} (the retry schedule failed: ${reason})`,
              retriable: true
            })
          } else if (stepped.right.done) {
            givenUp.push({ pending: item, code: error.code, detail: error.detail, retriable: true })
          } else {
            item.scheduleState = stepped.right.next
            item.readyAt = stepped.right.readyAt
            again.push(item)
          }
        }
        requeue(again)
        yield* fail(givenUp)
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

    const requestTimeout = (): KinesisError =>
      new KinesisError({
        operation: "PutRecords",
        code: "RequestTimeout",
        detail: `no answer within ${options.requestTimeoutMillis} ms`,
        retriable: true
      })

    const send = (batch: Array<Pending>): Effect.Effect<void> =>
      Effect.uninterruptibleMask((restore) =>
        Effect.gen(function*() {
          for (const pending of batch) pending.attempts++
          counters.requests++
          if (options.logBatches) yield* logVisible(`sending ${batch.length} messages to stream ${streamName}`)
          const entries = batch.map(({ record }) =>
            record.explicitHashKey === undefined ?
              { Data: record.data, PartitionKey: record.partitionKey } :
              { Data: record.data, PartitionKey: record.partitionKey, ExplicitHashKey: record.explicitHashKey }
          )
          const response = yield* restore(
            kinesis.putRecords({ ...options.target, Records: entries }).pipe(
              Effect.timeoutFail({ duration: options.requestTimeoutMillis, onTimeout: requestTimeout }),
              Effect.catchAllDefect((defect) => Effect.fail(Retry.classify("PutRecords", defect)))
            )
          ).pipe(Effect.either)
          let successful = 0
          const errors = new Set<string>()
          if (Either.isLeft(response)) {
            const error = response.left
            counters.failedRequests++
            errors.add(error.detail === "" ? error.code : error.detail)
            // No answer, or a server error: the request may have been processed, so its records may be stored.
            if (error.statusCode === undefined || error.statusCode >= 500) {
              for (const pending of batch) pending.maybeStored = true
            }
            if (error.retriable) yield* retryOrFail(batch.map((item) => ({ item, error })))
            else {
              yield* fail(
                batch.map((pending) => ({ pending, code: error.code, detail: error.detail, retriable: false }))
              )
            }
          } else {
            const settlement = Batch.settle(batch, response.right.Records, Retry.isRetriableCode)
            successful = settlement.delivered.length
            for (const { item, sequenceNumber, shardId } of settlement.delivered) deliver(item, shardId, sequenceNumber)
            for (const { code, detail } of settlement.retry) errors.add(detail === "" ? code : detail)
            for (const { code, detail } of settlement.failed) errors.add(detail === "" ? code : detail)
            // One error per distinct answer, not per record: building an Error captures a stack trace.
            const shared = new Map<string, KinesisError>()
            yield* retryOrFail(settlement.retry.map(({ code, detail, item }) => {
              const key = `${code}\n${detail}`
              let error = shared.get(key)
              if (error === undefined) {
                error = new KinesisError({ operation: "PutRecords", code, detail, retriable: true })
                shared.set(key, error)
              }
              return { item, error }
            }))
            yield* fail(settlement.failed.map(({ code, detail, item }) => ({ pending: item, code, detail, retriable: false })))
          }
          if (options.logBatches) {
            yield* logVisible(
              `sent ${batch.length} messages to stream ${streamName}; ${successful} successful; errors = {${
                [...errors].join(", ")
              }}`
            )
          }
        }).pipe(
          // A defect while settling is a bug, but its records must still end somewhere: they fail, loudly.
          Effect.catchAllDefect((defect) =>
            Effect.suspend(() => {
              const queued = new Set(retries)
              const stranded = batch.filter((pending) => !pending.settled && !queued.has(pending))
              return fail(stranded.map((pending) => ({
                pending,
                code: "WriterDefect",
                detail: `the writer failed while settling a response: ${String(defect)}`,
                retriable: false
              }))).pipe(Effect.zipRight(Effect.logError("the writer failed while settling a response", defect)))
            })
          ),
          Effect.ensuring(Effect.sync(() => {
            inFlightBatches.delete(batch)
            wake()
          }))
        )
      )

    // What the batching fiber does next: send a batch now, or sleep until a moment (or until woken).
    const next = (): { readonly batch: Array<Pending> } | { readonly sleepUntil: number } => {
      if (inFlightBatches.size >= maxInFlight) return { sleepUntil: Infinity }
      const time = now(clock)
      const ready: Array<Pending> = []
      const waiting: Array<Pending> = []
      let readyBytes = 0
      let earliest = Infinity // the moment something changes: a retry delay ends, or the oldest record's linger
      let urgent = false
      for (const pending of retries) {
        if (pending.readyAt <= time) {
          ready.push(pending)
          readyBytes += pending.size
          earliest = Math.min(earliest, pending.readyAt + lingerMillis)
          if (pending.seq <= urgentUpTo) urgent = true
        } else {
          waiting.push(pending)
          earliest = Math.min(earliest, pending.readyAt)
        }
      }
      const freshCount = fresh.length - freshHead
      if (freshCount > 0) {
        earliest = Math.min(earliest, fresh[freshHead].readyAt + lingerMillis)
        if (fresh[freshHead].seq <= urgentUpTo) urgent = true
      }
      const sendable = ready.length + freshCount
      if (sendable === 0) return { sleepUntil: earliest }
      if (!urgent && earliest > time && !Batch.isFull(sendable, readyBytes + freshBytes, limits)) {
        return { sleepUntil: earliest }
      }
      const taken = Batch.next(ready, fresh, freshHead, limits)
      const batch = ready.slice(0, taken.retries)
      // Ready retries left out stay ahead of the rest, in their original order.
      retries = taken.retries === ready.length ? waiting : mergeBySeq(ready.slice(taken.retries), waiting)
      for (let i = 0; i < taken.fresh; i++) {
        const pending = fresh[freshHead++]
        batch.push(pending)
        freshBytes -= pending.size
      }
      if (freshHead === fresh.length) {
        fresh = []
        freshHead = 0
      } else if (freshHead > 4096 && freshHead * 2 > fresh.length) {
        fresh = fresh.slice(freshHead)
        freshHead = 0
      }
      return { batch }
    }

    const batching: Effect.Effect<never> = Effect.gen(function*() {
      while (true) {
        const plan = yield* Effect.sync(() => {
          const step = next()
          if ("batch" in step) inFlightBatches.add(step.batch)
          else wakeup = Deferred.unsafeMake<void>(fiberId)
          return step
        })
        if ("batch" in plan) {
          yield* FiberSet.run(senders, send(plan.batch))
        } else if (plan.sleepUntil === Infinity) {
          yield* Deferred.await(wakeup!)
        } else {
          const signal = wakeup!
          yield* Effect.raceFirst(Deferred.await(signal), Effect.sleep(Math.max(0, plan.sleepUntil - now(clock))))
        }
      }
    })

    // Interruptible even when built inside an uninterruptible region (a layer), so that closing can stop it.
    const batcher = yield* Effect.forkScoped(Effect.interruptible(batching))


    const closedError = new WriterClosed({ stream: options.stream })
    const closedFailure = Effect.fail(closedError)

    // Called synchronously, inside the caller's step: with room, the record is taken in that same step. Each check
    // is made again in the step that joins the line, since the runtime may yield between two steps.
    const take = (record: Record.Encoded, result: Pending["result"]): Effect.Effect<void, WriterClosed> => {
      if (closed) return closedFailure
      if (waiters.length === 0 && hasRoom(record.size)) {
        admit(record, result)
        return Effect.void
      }
      return Effect.uninterruptibleMask((restore) => {
        if (closed) return closedFailure
        if (waiters.length === 0 && hasRoom(record.size)) {
          admit(record, result)
          return Effect.void
        }
        const waiter: Waiter = { size: record.size, admitted: Deferred.unsafeMake(fiberId), granted: false }
        waiters.push(waiter)
        return restore(Deferred.await(waiter.admitted)).pipe(
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              // An interrupted caller's record is not taken: its granted room goes back, or it leaves the line.
              if (waiter.granted) releaseReservation(record.size)
              else {
                const index = waiters.indexOf(waiter)
                if (index >= 0) waiters.splice(index, 1)
                grantWaiters()
              }
            })
          ),
          Effect.zipRight(Effect.suspend(() => {
            // Room granted before the shutdown deadline, taken after it: nothing sends any more, so refuse.
            if (stopped) {
              releaseReservation(record.size)
              return Effect.fail(closedError)
            }
            reservedRecords--
            reservedBytes -= record.size
            admit(record, result)
            return Effect.void
          }))
        )
      })
    }

    const encode = (message: unknown, key: Record.Key | undefined) =>
      Record.encode(message, key, randomKey, options.maxRecordBytes)

    const enqueue = (message: unknown, key?: Record.Key): Effect.Effect<void, InvalidRecord | WriterClosed> =>
      Effect.suspend((): Effect.Effect<void, InvalidRecord | WriterClosed> => {
        const encoded = encode(message, key)
        return Either.isLeft(encoded) ? Effect.fail(encoded.left) : take(encoded.right, undefined)
      })

    const put = (message: unknown, key?: Record.Key) =>
      Effect.suspend((): Effect.Effect<RecordResult, InvalidRecord | RecordFailed | WriterClosed> => {
        const encoded = encode(message, key)
        if (Either.isLeft(encoded)) return Effect.fail(encoded.left)
        const result = Deferred.unsafeMake<RecordResult, RecordFailed>(fiberId)
        return take(encoded.right, result).pipe(Effect.zipRight(Deferred.await(result)))
      })

    const reportFailures = (): Effect.Effect<void, DeliveryFailed> => {
      if (failures.length === 0 && unlisted === 0) return Effect.void
      const error = new DeliveryFailed({ stream: options.stream, failures, unlisted })
      failures = []
      unlisted = 0
      return Effect.fail(error)
    }

    const flush: Effect.Effect<void, DeliveryFailed> = Effect.suspend(() => {
      if (heldRecords === 0) return reportFailures()
      const pending: Flush = { upTo: nextSeq - 1, remaining: heldRecords, done: Deferred.unsafeMake(fiberId) }
      flushes.push(pending)
      urgentUpTo = Math.max(urgentUpTo, pending.upTo)
      wake()
      return Deferred.await(pending.done).pipe(
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            const index = flushes.indexOf(pending)
            if (index >= 0) flushes.splice(index, 1)
          })
        ),
        Effect.zipRight(Effect.suspend(reportFailures))
      )
    })

    const stats = Effect.sync((): Stats => ({
      ...counters,
      bufferedRecords: heldRecords,
      bufferedBytes: heldBytes,
      inFlight: inFlightBatches.size
    }))

    // Closing: no more intake, send everything at once, wait up to shutdownTimeout, then report what is left.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const done = yield* Effect.sync(() => {
          closed = true
          urgentUpTo = Infinity
          for (const waiter of waiters.splice(0)) Deferred.unsafeDone(waiter.admitted, Exit.fail(closedError))
          drained = Deferred.unsafeMake<boolean>(fiberId)
          checkDrained()
          wake()
          return drained
        })
        // Finalizers run uninterruptibly, where a timeout could never stop what it races: a timer fiber decides.
        const timer = yield* Effect.forkDaemon(
          Effect.interruptible(Effect.sleep(options.shutdownTimeoutMillis).pipe(
            Effect.zipRight(Deferred.succeed(done, false))
          ))
        )
        const finished = yield* Deferred.await(done)
        yield* Fiber.interrupt(timer)
        if (!finished) {
          drained = undefined
          stopped = true
          // Stop batching first: stopped senders wake it, and at this point it would send everything left at once.
          yield* Fiber.interrupt(batcher)
          const inFlight = [...inFlightBatches]
          yield* FiberSet.clear(senders)
          // Senders settle what they can before they stop; every record none of them settled is reported here.
          const left = new Set<Pending>([...retries, ...fresh.slice(freshHead)])
          for (const batch of inFlight) for (const pending of batch) left.add(pending)
          retries = []
          fresh = []
          freshHead = 0
          freshBytes = 0
          const unanswered = new Set(inFlight.flat())
          const unsettled = [...left].filter((pending) => !pending.settled).sort((a, b) => a.seq - b.seq)
          yield* fail(unsettled.map((pending) => ({
            pending,
            code: "ShutdownTimeout",
            detail: `not stored within the shutdown timeout of ${options.shutdownTimeoutMillis} ms` +
              (unanswered.has(pending) || pending.maybeStored ? " (an unanswered request may have stored it)" : ""),
            retriable: true
          })))
        }
        if (failures.length > 0 || unlisted > 0) {
          yield* Effect.logError(
            `${failures.length + unlisted} record(s) given to enqueue were not delivered to stream ${streamName}` +
              " and no flush reported them before the writer closed"
          ).pipe(Effect.annotateLogs({ stream: streamName }))
        }
      })
    )

    return { stream: options.stream, enqueue, put, flush, stats } satisfies Service
  })
