/**
 * Durations and sizes as people type them on a command line (`250ms`, `2s`, `5MiB`), and numbers as people read
 * them (`12,345`, `1.2 MB`, `3.4 s`).
 *
 * Pure: text in, numbers out, and back.
 */
import * as Either from "effect/Either"

const durationUnits: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(ms|millis?|milliseconds?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1_000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hours?)$/, 3_600_000]
]

/** Milliseconds of `250ms`, `2s`, `1.5 seconds`, `1m`, `100 millis` or a bare number of milliseconds. */
export const parseDuration = (text: string): Either.Either<number, string> => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  if (match !== null) {
    const value = Number(match[1])
    const unit = match[2].toLowerCase()
    if (unit === "") return Either.right(value)
    const found = durationUnits.find(([pattern]) => pattern.test(unit))
    if (found !== undefined) return Either.right(value * found[1])
  }
  return Either.left(`"${text}" is not a duration: write it as 250ms, 2s, 1.5s or 1m`)
}

const sizeUnits: Readonly<Record<string, number>> = {
  "": 1,
  b: 1,
  kb: 1_000,
  kib: 1024,
  k: 1024,
  mb: 1_000_000,
  mib: 1024 * 1024,
  m: 1024 * 1024,
  gb: 1_000_000_000,
  gib: 1024 * 1024 * 1024,
  g: 1024 * 1024 * 1024
}

/** Bytes of `1048576`, `512KiB`, `5MiB`, `1MB` (powers of 1,000) or `1M` (powers of 1,024), rounded down. */
export const parseSize = (text: string): Either.Either<number, string> => {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i.exec(text)
  const unit = match === null ? undefined : sizeUnits[match[2].toLowerCase()]
  if (match === null || unit === undefined) {
    return Either.left(`"${text}" is not a size: write it as 1048576, 512KiB, 5MiB or 1MB`)
  }
  return Either.right(Math.floor(Number(match[1]) * unit))
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
