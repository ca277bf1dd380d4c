import { Accumulator, RateLimit, Record, type Stats as CoreStats } from "@effect-kinesis/core"
import * as Clock from "effect/Clock"
import * as Deferred from "effect/Deferred"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Fiber from "effect/Fiber"
import * as FiberSet from "effect/FiberSet"
import * as Option from "effect/Option"
import * as Random from "effect/Random"
import * as Scope from "effect/Scope"
import * as Sink from "effect/Sink"
import * as Tracer from "effect/Tracer"
import { DeliveryFailed, InvalidRecord, type KinesisError, RecordFailed, WriterClosed } from "../Errors.js"
import { Kinesis } from "../Kinesis.js"
import { Attributes, SYSTEM } from "../Metrics.js"
import * as Metrics from "./metrics.js"
import type { Resolved } from "./options.js"
import * as Retrying from "./retrying.js"
import * as Sending from "./sending.js"
import * as ShardMaps from "./shardMaps.js"

/** Where a stored record went, and how many requests it took. */
export type RecordResult = Sending.RecordResult

/** Counters since the writer started, and what it holds now. */
export type Stats = CoreStats.Stats<KinesisError>

/** One record for `enqueueAll` and `sink`: a message and its key, as `enqueue` takes them. */
export interface Entry {
  readonly message: unknown
  readonly key?: Record.Key | undefined
}

/** The writer's operations. */
export interface Service {
  readonly stream: string
  readonly enqueue: (message: unknown, key?: Record.Key) => Effect.Effect<void, InvalidRecord | WriterClosed>
  readonly enqueueAll: (entries: Iterable<Entry>) => Effect.Effect<void, InvalidRecord | WriterClosed>
  readonly sink: Sink.Sink<void, Entry, never, InvalidRecord | WriterClosed>
  readonly put: (
    message: unknown,
    key?: Record.Key
  ) => Effect.Effect<RecordResult, InvalidRecord | RecordFailed | WriterClosed>
  readonly flush: Effect.Effect<void, DeliveryFailed>
  readonly stats: Effect.Effect<Stats>
}

type Ticket = Sending.Ticket
type Held = Sending.Held

// A caller waiting for room: granted once the accumulator admitted it.
interface Waiting {
  readonly admitted: Deferred.Deferred<void, WriterClosed>
  granted: boolean
}

const now = (clock: { currentTimeMillisUnsafe(): number }) => clock.currentTimeMillisUnsafe()

/** Builds a writer in the current scope; closing the scope stops intake and drains within `shutdownTimeout`. */
export const make = (options: Resolved): Effect.Effect<Service, never, Kinesis | Scope.Scope> =>
  // The drain needs its finalizers run in order (drain, then batching fiber, then senders), whatever the caller's
  // scope does: a parallel scope would stop the senders while the drain waits for them.
  Effect.flatMap(Effect.scope, (parent) =>
    Effect.flatMap(Scope.fork(parent, "sequential"), (own) => Scope.provide(build(options), own)))

const build = (options: Resolved): Effect.Effect<Service, never, Kinesis | Scope.Scope> =>
  Effect.gen(function*() {
    const kinesis = yield* Kinesis
    const clock = yield* Clock.Clock
    const senders = yield* FiberSet.make<void, never>()
    const { streamName } = options

    const limiter = options.shardAware ? RateLimit.make({ capacity: options.shardCapacity }) : undefined
    // Every decision is the accumulator's; this layer runs its plans, answers its questions, tells waiting parties.
    const acc = Accumulator.make<Ticket>({
      limits: options.limits,
      lingerMillis: options.lingerMillis,
      maxInFlight: options.maxInFlight,
      maxBufferedRecords: options.maxBufferedRecords,
      maxBufferedBytes: options.maxBufferedBytes,
      ordered: options.ordered,
      pacing: limiter === undefined ? undefined : Accumulator.pacingOf(limiter),
      awaitRoute: options.shardAware,
      aggregation: options.aggregation,
      streamName
    })
    const waiting = new Map<number, Waiting>()
    const flushes = new Map<number, Deferred.Deferred<void>>()
    let failures: Array<RecordFailed> = []
    let unlisted = 0
    let closed = false
    let stopped = false // the shutdown deadline passed: nothing is sent any more
    let wakeup: Deferred.Deferred<void> | undefined
    let drained: Deferred.Deferred<boolean> | undefined // true when everything settled, false at the timeout
    // The writer's fibers inherit the metric labels of the fiber that builds it; updates use them directly.
    const metrics = Metrics.make(streamName, yield* Effect.context<never>())
    const randomPrefix = `${(yield* Random.nextIntBetween(0, 0x7fffffff, { halfOpen: true })).toString(36)}-`
    let keyCounter = 0
    // MD5 spreads any distinct keys evenly over the hash key space; a counter makes them distinct at no cost.
    const randomKey = () => randomPrefix + (keyCounter++).toString(36)
    const nowMillis = () => now(clock)

    const wake = () => {
      if (wakeup !== undefined) {
        const signal = wakeup
        wakeup = undefined
        Deferred.doneUnsafe(signal, Exit.void)
      }
    }
    const reportHolding = () => {
      const { accepted, bytes, records, requests } = Accumulator.gauges(acc)
      Metrics.holding(metrics, accepted, records, bytes, requests)
    }

    // A record landed on another shard than predicted: the shard map follower reads the map again.
    let requestRefresh = () => {}

    const delivered = (records: ReadonlyArray<Held>, bytes: number, at: number) => {
      Metrics.delivered(metrics, records.length, bytes)
      const { deliveryDuration } = metrics.metrics
      for (const held of records) {
        deliveryDuration.updateUnsafe((at - held.takenAt) / 1000, metrics.context)
        const ticket = held.ticket
        if (ticket === undefined) continue
        const { attempts, sequenceNumber, shardId, subSequenceNumber } = held
        Sending.annotateStored(ticket, held)
        const result: RecordResult = subSequenceNumber === undefined ?
          { shardId, sequenceNumber, attempts } :
          { shardId, sequenceNumber, subSequenceNumber, attempts }
        Deferred.doneUnsafe(ticket.result, Exit.succeed(result))
      }
    }

    const failed = (event: Extract<Accumulator.Event<Ticket>, { _tag: "Failed" }>) => {
      Metrics.failed(metrics, event.code, event.records.length)
      for (const held of event.records) {
        const error = new RecordFailed({
          stream: options.stream,
          data: held.record.data,
          partitionKey: held.record.partitionKey,
          explicitHashKey: held.record.explicitHashKey,
          code: event.code,
          detail: event.detail,
          attempts: held.attempts,
          retriable: event.retriable
        })
        const ticket = held.ticket
        if (ticket !== undefined) {
          if (ticket.span !== undefined) {
            ticket.span.attribute(Attributes.errorType, event.code)
            ticket.span.attribute(Attributes.attempts, held.attempts)
          }
          Deferred.doneUnsafe(ticket.result, Exit.fail(error))
        } else if (failures.length < options.maxBufferedRecords) failures.push(error)
        else unlisted++
      }
      return Effect.logWarning(Accumulator.failureMessage(streamName, event)).pipe(
        Effect.annotateLogs({ stream: streamName, code: event.code })
      )
    }

    // Acts on what the accumulator decided: most events at once; retry questions, failures and log lines are
    // effects, queued for `process` (intake's events, room and drain, are never of those).
    let queued: Array<Effect.Effect<void>> = []
    // Room, a flush, the drain: told after the effects queued before them (a failure's warning is logged before
    // the flush that reports it returns).
    const complete = (event: Accumulator.Event<Ticket>) => {
      if (event._tag === "Admitted") {
        const waiter = waiting.get(event.waiter)
        if (waiter !== undefined) {
          waiting.delete(event.waiter)
          waiter.granted = true
          Deferred.doneUnsafe(waiter.admitted, Exit.void)
        }
      } else if (event._tag === "Flushed") {
        const flushed = flushes.get(event.flush)
        flushes.delete(event.flush)
        if (flushed !== undefined) Deferred.doneUnsafe(flushed, Exit.void)
      } else if (event._tag === "Drained" && drained !== undefined) Deferred.doneUnsafe(drained, Exit.succeed(true))
    }
    const dispatch = () => {
      for (const event of Accumulator.pollEvents(acc)) {
        switch (event._tag) {
          case "Admitted":
          case "Flushed":
          case "Drained":
            if (queued.length === 0) complete(event)
            else queued.push(Effect.sync(() => complete(event)))
            break
          case "Delivered":
            delivered(event.records, event.bytes, event.at)
            break
          case "Failed":
            queued.push(failed(event))
            break
          case "Retry":
            queued.push(Retrying.answer(acc, options.retry, event.question, metrics, nowMillis))
            break
          case "ReadShardMap":
            requestRefresh()
            break
          case "Log":
            queued.push(
              (event.level === "Warning" ? Effect.logWarning(event.message) : Effect.logInfo(event.message)).pipe(
                Effect.annotateLogs({ stream: streamName })
              )
            )
            break
        }
      }
      wake()
    }
    // Answers and failures make more events (a schedule's end fails its records): until there are none.
    const process: Effect.Effect<void> = Effect.suspend(() => {
      dispatch()
      reportHolding()
      if (queued.length === 0) return Effect.void
      const effects = queued
      queued = []
      return Effect.andThen(Effect.all(effects, { discard: true }), process)
    })

    const sending: Sending.Writer = { options, kinesis, acc, metrics, now: nowMillis, process }

    const batching: Effect.Effect<never> = Effect.gen(function*() {
      while (true) {
        const request = yield* Effect.sync(() => {
          const next = Accumulator.pollSend(acc, nowMillis())
          if (next === undefined) {
            wakeup = Deferred.makeUnsafe<void>()
            // Held records and records taken, reported here and at each request: not per record taken.
            reportHolding()
          }
          return next
        })
        if (request !== undefined) {
          yield* FiberSet.run(senders, Sending.send(sending, request))
          continue
        }
        const until = Accumulator.pollTimeout(acc)
        if (until === Infinity) yield* Deferred.await(wakeup!)
        else {
          const signal = wakeup!
          yield* Effect.raceFirst(Deferred.await(signal), Effect.sleep(Math.max(0, until - nowMillis())))
        }
      }
    })

    // Interruptible even when built inside an uninterruptible region (a layer), so that closing can stop it.
    const batcher = yield* Effect.forkScoped(Effect.interruptible(batching))

    // The shard map: until the first read answers, nothing is sent (records sent before it would go unpaced).
    if (options.shardAware) {
      const follower = yield* ShardMaps.follow({
        kinesis,
        target: options.target,
        streamName,
        refreshMillis: options.shardMapRefreshMillis,
        requestTimeoutMillis: options.requestTimeoutMillis,
        now: nowMillis,
        onMap: (map) =>
          Effect.suspend(() => {
            Accumulator.handleShardMap(acc, map, nowMillis())
            return process
          }),
        onFailure: Effect.suspend(() => {
          Accumulator.handleShardMapUnavailable(acc, nowMillis())
          return process
        })
      })
      requestRefresh = follower.refresh
    }

    const admit = (record: Record.Encoded, ticket: Ticket | undefined): void => {
      // The batching fiber sleeps until linger ends or a batch fills; only those events change its plan.
      if (Accumulator.take(acc, record, ticket, nowMillis())) wake()
    }

    const closedError = new WriterClosed({ stream: options.stream })
    const closedFailure = Effect.fail(closedError)

    // Called synchronously, inside the caller's step: with room, the record is taken in that same step. Each check
    // is made again in the step that joins the line, since the runtime may yield between two steps.
    const take = (record: Record.Encoded, ticket: Ticket | undefined): Effect.Effect<void, WriterClosed> => {
      if (closed) return closedFailure
      if (Accumulator.canTake(acc, record.size)) {
        admit(record, ticket)
        return Effect.void
      }
      return Effect.uninterruptibleMask((restore) => {
        if (closed) return closedFailure
        if (Accumulator.canTake(acc, record.size)) {
          admit(record, ticket)
          return Effect.void
        }
        const id = Accumulator.wait(acc, record.size)
        const waiter: Waiting = { admitted: Deferred.makeUnsafe(), granted: false }
        waiting.set(id, waiter)
        return restore(Deferred.await(waiter.admitted)).pipe(
          Effect.onInterrupt(() =>
            Effect.sync(() => {
              // An interrupted caller's record is not taken: its granted room goes back, or it leaves the line.
              waiting.delete(id)
              if (waiter.granted) Accumulator.redeem(acc, record.size, true)
              else Accumulator.leave(acc, id)
              dispatch()
            })
          ),
          Effect.andThen(Effect.suspend(() => {
            // Room granted before the shutdown deadline, taken after it: nothing sends any more, so refuse.
            if (stopped) {
              Accumulator.redeem(acc, record.size, true)
              dispatch()
              return Effect.fail(closedError)
            }
            Accumulator.redeem(acc, record.size, false)
            admit(record, ticket)
            return Effect.void
          }))
        )
      })
    }

    const encode = (message: unknown, key: Record.Key | undefined): Record.Encoded | InvalidRecord => {
      const encoded = Record.encode(message, key, randomKey, options.maxRecordBytes)
      return Record.isInvalid(encoded) ?
        new InvalidRecord({ reason: encoded.reason, partitionKey: encoded.partitionKey }) :
        encoded
    }

    const enqueue = (message: unknown, key?: Record.Key): Effect.Effect<void, InvalidRecord | WriterClosed> =>
      Effect.suspend((): Effect.Effect<void, InvalidRecord | WriterClosed> => {
        const encoded = encode(message, key)
        return encoded instanceof InvalidRecord ? Effect.fail(encoded) : take(encoded, undefined)
      })

    const putWith = (record: Record.Encoded, span: Tracer.Span | undefined) => {
      const ticket: Ticket = { result: Deferred.makeUnsafe<RecordResult, RecordFailed>(), span }
      return take(record, ticket).pipe(Effect.andThen(Deferred.await(ticket.result)))
    }
    const putSpan = {
      kind: "producer",
      captureStackTrace: false,
      attributes: {
        [Attributes.system]: SYSTEM,
        [Attributes.destination]: streamName,
        [Attributes.operationName]: "put",
        [Attributes.operationType]: "create",
        [Attributes.streamName]: streamName
      }
    } as const

    // Inside a caller's span, a put has its own span there, which the requests carrying its record link to (and
    // it to the request that stored it); outside any span it makes none: there is no trace to join.
    const put = (message: unknown, key?: Record.Key) =>
      Effect.suspend((): Effect.Effect<RecordResult, InvalidRecord | RecordFailed | WriterClosed> => {
        const record = encode(message, key)
        if (record instanceof InvalidRecord) return Effect.fail(record)
        return Effect.flatMap(Effect.serviceOption(Tracer.ParentSpan), (parent) =>
          Option.isNone(parent) ?
            putWith(record, undefined) :
            Effect.useSpan(`put ${streamName}`, putSpan, (span) => putWith(record, span)))
      })

    // All or nothing: every entry is encoded before the first is taken; then they are taken in order, each as room
    // appears, so a call larger than the buffer never needs all of it at once. Interrupted, it has taken a prefix.
    const enqueueAll = (entries: Iterable<Entry>): Effect.Effect<void, InvalidRecord | WriterClosed> =>
      Effect.suspend((): Effect.Effect<void, InvalidRecord | WriterClosed> => {
        const records: Array<Record.Encoded> = []
        const encodeEntry = (entry: Entry, index: number): InvalidRecord | undefined => {
          const encoded = entry === null || typeof entry !== "object" ?
            new InvalidRecord({ reason: "an entry must be an object { message, key? }" }) :
            encode(entry.message, entry.key)
          if (encoded instanceof InvalidRecord) {
            return new InvalidRecord({ reason: encoded.reason, partitionKey: encoded.partitionKey, index })
          }
          records.push(encoded)
          return undefined
        }
        // An array (a Stream's chunk, most calls) by index: no iterator result per entry.
        if (Array.isArray(entries)) {
          for (let index = 0; index < entries.length; index++) {
            const invalid = encodeEntry(entries[index], index)
            if (invalid !== undefined) return Effect.fail(invalid)
          }
        } else {
          let index = 0
          for (const entry of entries) {
            const invalid = encodeEntry(entry, index++)
            if (invalid !== undefined) return Effect.fail(invalid)
          }
        }
        let next = 0
        const takeRest: Effect.Effect<void, WriterClosed> = Effect.suspend(() => {
          if (closed) return closedFailure
          while (next < records.length && Accumulator.canTake(acc, records[next].size)) {
            admit(records[next++], undefined)
          }
          if (next === records.length) return Effect.void
          // No room: wait in line for the next record as enqueue does, then take what fits again.
          return Effect.andThen(take(records[next], undefined), Effect.sync(() => next++)).pipe(
            Effect.andThen(takeRest)
          )
        })
        return takeRest
      })

    // A chunk's array, taken by index.
    const sink: Sink.Sink<void, Entry, never, InvalidRecord | WriterClosed> = Sink.forEachArray(enqueueAll)

    const reportFailures = (): Effect.Effect<void, DeliveryFailed> => {
      if (failures.length === 0 && unlisted === 0) return Effect.void
      const error = new DeliveryFailed({ stream: options.stream, failures, unlisted })
      failures = []
      unlisted = 0
      return Effect.fail(error)
    }

    const flush: Effect.Effect<void, DeliveryFailed> = Effect.suspend(() => {
      const id = Accumulator.flush(acc)
      if (id === undefined) return reportFailures()
      const done = Deferred.makeUnsafe<void>()
      flushes.set(id, done)
      wake()
      return Deferred.await(done).pipe(
        Effect.onInterrupt(() =>
          Effect.sync(() => {
            flushes.delete(id)
            Accumulator.forgetFlush(acc, id)
          })
        ),
        Effect.andThen(Effect.suspend(reportFailures))
      )
    })

    const stats = Effect.sync((): Stats => Accumulator.stats<Ticket, KinesisError>(acc))

    // Closing: no more intake, send everything at once, wait up to shutdownTimeout, then report what is left.
    yield* Effect.addFinalizer(() =>
      Effect.gen(function*() {
        const done = yield* Effect.sync(() => {
          closed = true
          drained = Deferred.makeUnsafe<boolean>()
          for (const id of Accumulator.close(acc)) {
            const waiter = waiting.get(id)
            waiting.delete(id)
            if (waiter !== undefined) Deferred.doneUnsafe(waiter.admitted, Exit.fail(closedError))
          }
          dispatch()
          wake()
          return drained
        })
        // Finalizers run uninterruptibly, where a timeout could never stop what it races: a timer fiber decides.
        const timer = yield* Effect.forkDetach(
          Effect.interruptible(
            Effect.sleep(options.shutdownTimeoutMillis).pipe(
              Effect.andThen(Deferred.succeed(done, false))
            )
          )
        )
        const finished = yield* Deferred.await(done)
        yield* Fiber.interrupt(timer)
        if (!finished) {
          drained = undefined
          stopped = true
          // Stop batching first: stopped senders wake it, and at this point it would send everything left at once.
          yield* Fiber.interrupt(batcher)
          const unanswered = Accumulator.inFlight(acc)
          yield* FiberSet.clear(senders)
          // Senders settle what they can before they stop; every record none of them settled is reported here.
          Accumulator.abandon(acc, unanswered, options.shutdownTimeoutMillis)
          yield* process
        }
        // What the writer still held is settled now: its last figures, back to nothing held.
        reportHolding()
        if (failures.length > 0 || unlisted > 0) {
          yield* Effect.logError(
            `${failures.length + unlisted} record(s) given to enqueue were not delivered to stream ${streamName}` +
              " and no flush reported them before the writer closed"
          ).pipe(Effect.annotateLogs({ stream: streamName }))
        }
      })
    )

    return { stream: options.stream, enqueue, enqueueAll, sink, put, flush, stats } satisfies Service
  })
