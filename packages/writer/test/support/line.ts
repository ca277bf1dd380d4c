/**
 * The Effect 4 line's side of the tests both lines share: the few Effect operations whose names or shapes differ
 * between Effect 3 and 4, under one name (see the Effect 3 line's `line.ts`).
 */
import { describe, expect, it as base } from "@effect/vitest"
import { ConfigProvider, Deferred, Effect, Exit, type Fiber, Layer, Logger, Option, References, Scope } from "effect"
import { TestClock } from "effect/testing"
import { it as plain } from "vitest"

export { describe, expect, TestClock }

/** `it.effect` (TestClock and a Scope), `it.live`, the Effect 3 names of their scoped forms, and `it` itself. */
export const it: typeof base & { readonly scoped: typeof base.effect; readonly scopedLive: typeof base.live } = Object
  .assign(
    // Callable as vitest's `it`, with @effect/vitest's methods (they live on its prototype chain).
    Object.setPrototypeOf((...args: Parameters<typeof plain>) => plain(...args), base) as typeof base,
    { scoped: base.effect, scopedLive: base.live }
  )

/** Runs `self` in a child fiber. */
export const fork = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<Fiber.Fiber<A, E>, never, R> =>
  Effect.forkChild(self, { startImmediately: true })

/** Whether a fiber has ended: its exit, or none while it runs. */
export const poll = <A, E>(fiber: Fiber.Fiber<A, E>): Effect.Effect<Option.Option<Exit.Exit<A, E>>> =>
  Effect.sync(() => Option.fromUndefinedOr(fiber.pollUnsafe()))

/** Runs a scoped effect in `scope`, which outlives it. */
export const inScope = (scope: Scope.Scope) => <A, E, R>(self: Effect.Effect<A, E, R>) => Scope.provide(self, scope)

/** Completes a Deferred from outside any fiber. */
export const complete = <A>(deferred: Deferred.Deferred<A>, value: A): void => {
  Deferred.doneUnsafe(deferred, Exit.succeed(value))
}

/** A log line as tests read it: `DEBUG`, `INFO`, `WARN`, `ERROR`, and the message's text. */
export interface LogLine {
  readonly level: string
  readonly message: string
}

const labels: Readonly<Record<string, string>> = {
  Trace: "TRACE",
  Debug: "DEBUG",
  Info: "INFO",
  Warn: "WARN",
  Error: "ERROR",
  Fatal: "FATAL"
}

/**
 * Catches the lines a program logs: `add` keeps the default logger too; otherwise it is replaced. `minimum` sets the
 * minimum level (`Info`, `Warning`...), as an application would.
 */
export const captureLogs = (options: { readonly add?: boolean; readonly minimum?: "Info" | "Warning" } = {}) => {
  const lines: Array<LogLine> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push({
      level: labels[logLevel] ?? logLevel,
      message: Array.isArray(message) ? message.join(" ") : String(message)
    })
  })
  const loggers = Logger.layer([logger], { mergeWithExisting: options.add === true })
  const layer = options.minimum === undefined ?
    loggers :
    Layer.merge(loggers, Layer.succeed(References.MinimumLogLevel, options.minimum === "Info" ? "Info" : "Warn"))
  return { lines, layer }
}

/** A Deferred made outside any fiber: a gate a test opens with `complete`. */
export const makeDeferred = <A>(): Deferred.Deferred<A> => Deferred.makeUnsafe<A>()

/** Lets other fibers run once. */
export const yieldNow: Effect.Effect<void> = Effect.yieldNow

/** The defect an exit died with, if it did. */
export const defectOf = (exit: Exit.Exit<unknown, unknown>): unknown => {
  if (!Exit.isFailure(exit)) return undefined
  const died = exit.cause.reasons.find((reason) => reason._tag === "Die")
  return died?._tag === "Die" ? died.defect : undefined
}

/** A layer under which `Config` reads the given environment variables. */
export const environment = (env: Readonly<Record<string, string>>) =>
  ConfigProvider.layer(ConfigProvider.fromEnv({ env }))
