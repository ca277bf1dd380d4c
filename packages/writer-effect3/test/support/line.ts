/**
 * The Effect 3 line's side of the tests both lines share: the few Effect operations whose names or shapes differ
 * between Effect 3 and 4, under one name. The shared tests import Effect's modules and these from here; each line's
 * test project maps this module to its own `line.ts`.
 */
import { describe, expect, it as base } from "@effect/vitest"
import {
  ConfigProvider,
  Deferred,
  Effect,
  Exit,
  Fiber,
  FiberId,
  Layer,
  Logger,
  LogLevel,
  type Option,
  Scope,
  TestClock
} from "effect"

export { describe, expect, TestClock }

/** `it.effect` (TestClock), `it.live`, and their scoped forms (`scoped`: TestClock and a Scope; `scopedLive`). */
export const it = base

/** Runs `self` in a child fiber. */
export const fork = <A, E, R>(self: Effect.Effect<A, E, R>): Effect.Effect<Fiber.RuntimeFiber<A, E>, never, R> =>
  Effect.fork(self)

/** Whether a fiber has ended: its exit, or none while it runs. */
export const poll = <A, E>(fiber: Fiber.Fiber<A, E>): Effect.Effect<Option.Option<Exit.Exit<A, E>>> => Fiber.poll(fiber)

/** Runs a scoped effect in `scope`, which outlives it. */
export const inScope = (scope: Scope.Scope) => <A, E, R>(self: Effect.Effect<A, E, R>) => Scope.extend(self, scope)

/** Completes a Deferred from outside any fiber. */
export const complete = <A>(deferred: Deferred.Deferred<A>, value: A): void => {
  Deferred.unsafeDone(deferred, Exit.succeed(value))
}

/** A log line as tests read it: `DEBUG`, `INFO`, `WARN`, `ERROR`, and the message's text. */
export interface LogLine {
  readonly level: string
  readonly message: string
}

/**
 * Catches the lines a program logs: `add` keeps the default logger too; otherwise it is replaced. `minimum` sets the
 * minimum level (`Info`, `Warning`...), as an application would.
 */
export const captureLogs = (options: { readonly add?: boolean; readonly minimum?: "Info" | "Warning" } = {}) => {
  const lines: Array<LogLine> = []
  const logger = Logger.make(({ logLevel, message }) => {
    lines.push({ level: logLevel.label, message: Array.isArray(message) ? message.join(" ") : String(message) })
  })
  const loggers = options.add === true ? Logger.add(logger) : Logger.replace(Logger.defaultLogger, logger)
  const layer = options.minimum === undefined ?
    loggers :
    Layer.merge(loggers, Logger.minimumLogLevel(options.minimum === "Info" ? LogLevel.Info : LogLevel.Warning))
  return { lines, layer }
}

/** A Deferred made outside any fiber: a gate a test opens with `complete`. */
export const makeDeferred = <A>(): Deferred.Deferred<A> => Deferred.unsafeMake<A>(FiberId.none)

/** Lets other fibers run once. */
export const yieldNow: Effect.Effect<void> = Effect.yieldNow()

/** The defect an exit died with, if it did. */
export const defectOf = (exit: Exit.Exit<unknown, unknown>): unknown =>
  Exit.isFailure(exit) && exit.cause._tag === "Die" ? exit.cause.defect : undefined

/** A layer under which `Config` reads the given environment variables. */
export const environment = (env: Readonly<Record<string, string>>) =>
  Layer.setConfigProvider(ConfigProvider.fromMap(new Map(Object.entries(env))))
