/**
 * The answer to the accumulator's retry questions: one step of the caller's retry `Schedule`, with the records'
 * shared state and the error they failed with. A delay means "again from then on"; the schedule's end, give up.
 */
import { Accumulator } from "@effect-kinesis/core"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import type * as Schedule from "effect/Schedule"
import * as ScheduleDecision from "effect/ScheduleDecision"
import * as Intervals from "effect/ScheduleIntervals"
import { KinesisError } from "../Errors.js"
import type { RetryInput } from "../Retry.js"
import * as Metrics from "./metrics.js"

// The schedule's input is a `KinesisError`: the request's own, or one made once per distinct record answer.
const errors = new WeakMap<object, KinesisError>()
const errorOf = (fault: Accumulator.RetryQuestion<unknown>["fault"]): KinesisError => {
  if (fault instanceof KinesisError) return fault
  let error = errors.get(fault)
  if (error === undefined) {
    error = new KinesisError(fault)
    errors.set(fault, error)
  }
  return error
}

/** Steps `retry` for the question's records and gives the accumulator the answer. */
export const answer = <T>(
  acc: Accumulator.Accumulator<T>,
  retry: Schedule.Schedule<unknown, RetryInput>,
  question: Accumulator.RetryQuestion<T>,
  metrics: Metrics.Recorder,
  now: () => number
): Effect.Effect<void> => {
  const time = now()
  const state = question.state === undefined ? retry.initial : question.state
  return retry.step(time, errorOf(question.fault), state).pipe(
    Effect.map(([next, , decision]): Accumulator.RetryAnswer =>
      ScheduleDecision.isDone(decision) ?
        { _tag: "GiveUp" } :
        { _tag: "Again", readyAt: Math.max(time, Intervals.start(decision.intervals)), state: next }
    ),
    // A schedule that fails or throws is a bug in the caller's code: the records fail with it, they are not lost.
    Effect.catchAllCause((cause) => {
      const error = Cause.squash(cause)
      const reason = error instanceof Error ? error.message : String(error)
      return Effect.succeed<Accumulator.RetryAnswer>({ _tag: "GiveUp", reason: `the retry schedule failed: ${reason}` })
    }),
    Effect.map((answer) => {
      if (answer._tag === "Again") Metrics.retried(metrics, question.fault.code, question.records.length)
      Accumulator.answerRetry(acc, question, answer, now())
    })
  )
}
