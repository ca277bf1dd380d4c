/**
 * The answer to the accumulator's retry questions: one step of the caller's retry `Schedule`, with the error the
 * records failed with. A delay means "again from then on"; the schedule's end, give up.
 *
 * An Effect 4 schedule keeps its state inside the step function `Schedule.toStep` makes, so a record's state is
 * the history of its steps (time, error), replayed into a fresh step function: records that failed together share
 * one history, and a record never advances a schedule another record is using.
 */
import { Accumulator } from "@effect-kinesis/core"
import * as Cause from "effect/Cause"
import * as Duration from "effect/Duration"
import * as Effect from "effect/Effect"
import * as Pull from "effect/Pull"
import * as Schedule from "effect/Schedule"
import { KinesisError } from "../Errors.js"
import type { RetryInput } from "../Retry.js"
import * as Metrics from "./metrics.js"

// The steps a record's schedule took, oldest first: its retry state.
type History = ReadonlyArray<readonly [now: number, input: RetryInput]>

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

// Done: the schedule ended. A number: the delay of the last step, in milliseconds.
const replay = (
  retry: Schedule.Schedule<unknown, RetryInput>,
  history: History
): Effect.Effect<number | "Done", unknown> =>
  Effect.flatMap(Schedule.toStep(retry), (step) =>
    Effect.gen(function*() {
      let delay = 0
      for (const [now, input] of history) {
        const [, duration] = yield* step(now, input)
        delay = Duration.toMillis(duration)
      }
      return delay
    }).pipe(Pull.catchDone(() => Effect.succeed("Done" as const))))

/** Steps `retry` for the question's records and gives the accumulator the answer. */
export const answer = <T>(
  acc: Accumulator.Accumulator<T>,
  retry: Schedule.Schedule<unknown, RetryInput>,
  question: Accumulator.RetryQuestion<T>,
  metrics: Metrics.Recorder,
  now: () => number
): Effect.Effect<void> => {
  const time = now()
  const history: History = [...((question.state as History | undefined) ?? []), [time, errorOf(question.fault)]]
  return replay(retry, history).pipe(
    Effect.map((delay): Accumulator.RetryAnswer =>
      delay === "Done" ? { _tag: "GiveUp" } : { _tag: "Again", readyAt: time + delay, state: history }
    ),
    // A schedule that fails or throws is a bug in the caller's code: the records fail with it, they are not lost.
    Effect.catchCause((cause) => {
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
