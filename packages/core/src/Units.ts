/**
 * Durations and sizes as people type them (`250ms`, `2s`, `100 millis`, `5MiB`, `512KiB`): one language for the
 * command line's options and the writer's environment variables.
 */

/** Why a text is not a duration or a size, for a person. */
export class Unreadable {
  readonly _tag = "Unreadable"
  constructor(readonly reason: string) {}
}

/** Whether a parse failed. */
export const isUnreadable = (value: number | Unreadable): value is Unreadable => value instanceof Unreadable

const durationUnits: ReadonlyArray<readonly [RegExp, number]> = [
  [/^(ms|millis?|milliseconds?)$/, 1],
  [/^(s|secs?|seconds?)$/, 1_000],
  [/^(m|mins?|minutes?)$/, 60_000],
  [/^(h|hours?)$/, 3_600_000]
]

const quantity = /^\s*(\d+(?:\.\d+)?)\s*([a-z]*)\s*$/i

/** Milliseconds of `250ms`, `2s`, `1.5 seconds`, `1m`, `100 millis` or a bare number of milliseconds. */
export const parseDuration = (text: string): number | Unreadable => {
  const match = quantity.exec(text)
  if (match !== null) {
    const value = Number(match[1])
    const unit = match[2].toLowerCase()
    if (unit === "") return value
    const found = durationUnits.find(([pattern]) => pattern.test(unit))
    if (found !== undefined) return value * found[1]
  }
  return new Unreadable(`"${text}" is not a duration: write it as 250ms, 2s, 1.5s, 100 millis or 1m`)
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
export const parseSize = (text: string): number | Unreadable => {
  const match = quantity.exec(text)
  const unit = match === null ? undefined : sizeUnits[match[2].toLowerCase()]
  if (match === null || unit === undefined) {
    return new Unreadable(`"${text}" is not a size: write it as 1048576, 512KiB, 5MiB or 1MB`)
  }
  return Math.floor(Number(match[1]) * unit)
}
