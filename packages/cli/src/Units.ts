/**
 * Durations and sizes as people type them on a command line (`250ms`, `2s`, `5MiB`: core's `Units`, the language
 * of the writer's environment variables too), and numbers as people read them (`12,345`, `1.2 MB`, `3.4 s`).
 *
 * Pure: text in, numbers out, and back.
 */
import { Units as CoreUnits } from "@effect-kinesis/core"
import * as Result from "effect/Result"

/** Milliseconds of `250ms`, `2s`, `1.5 seconds`, `1m`, `100 millis` or a bare number of milliseconds. */
export const parseDuration = (text: string): Result.Result<number, string> => {
  const parsed = CoreUnits.parseDuration(text)
  return CoreUnits.isUnreadable(parsed) ? Result.fail(parsed.reason) : Result.succeed(parsed)
}

/** Bytes of `1048576`, `512KiB`, `5MiB`, `1MB` (powers of 1,000) or `1M` (powers of 1,024), rounded down. */
export const parseSize = (text: string): Result.Result<number, string> => {
  const parsed = CoreUnits.parseSize(text)
  return CoreUnits.isUnreadable(parsed) ? Result.fail(parsed.reason) : Result.succeed(parsed)
}

const grouped = new Intl.NumberFormat("en-US", { maximumFractionDigits: 0 })

/** A whole number with thousands separators: `12,345`. */
export const count = (value: number): string => grouped.format(Math.round(value))

/** Bytes in decimal megabytes (as network rates are given) with two significant decimals: `1.24 MB`. */
export const megabytes = (bytes: number): string => {
  const mb = bytes / 1_000_000
  return `${mb >= 100 ? mb.toFixed(0) : mb >= 10 ? mb.toFixed(1) : mb.toFixed(2)} MB`
}

/** Milliseconds as seconds: `0.42 s`, `12.3 s`, `95 s`. */
export const seconds = (millis: number): string => {
  const value = millis / 1_000
  return `${value >= 100 ? value.toFixed(0) : value >= 10 ? value.toFixed(1) : value.toFixed(2)} s`
}

/** A duration for a sentence: `30 minutes`, `2 hours`, `45 seconds`, `250 ms`. */
export const span = (millis: number): string => {
  if (millis >= 3_600_000 && millis % 3_600_000 === 0) return plural(millis / 3_600_000, "hour")
  if (millis >= 60_000 && millis % 60_000 === 0) return plural(millis / 60_000, "minute")
  if (millis >= 1_000 && millis % 1_000 === 0) return plural(millis / 1_000, "second")
  return `${count(millis)} ms`
}

/** `1 record`, `2 records`: the count, grouped, and the noun in the number it needs. */
export const plural = (value: number, singular: string, pluralForm = `${singular}s`): string =>
  `${count(value)} ${value === 1 ? singular : pluralForm}`
