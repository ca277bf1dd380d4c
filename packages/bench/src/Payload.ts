/**
 * The records every writer sends: each one a JSON string literal of a fixed size that carries its index, so the
 * read-back can tell missing and duplicate records apart, and so a writer that JSON-parses its input (as
 * aws-kinesis-writable does) sends exactly the same bytes as the others.
 */

/** Bytes of the smallest payload: the quotes and the ten-digit index. */
export const MIN_BYTES = 12

const filler = "x".repeat(16 * 1024)

/** Payload `index` of `bytes` bytes: `"0000000042xxx…"`, all ASCII, so bytes equal characters. */
export const payload = (index: number, bytes: number): string =>
  "\"" + index.toString().padStart(10, "0") + filler.slice(0, bytes - MIN_BYTES) + "\""

/** The index a payload carries, or -1 for bytes no writer should have produced. */
export const indexOf = (data: Uint8Array): number => {
  if (data.length < MIN_BYTES || data[0] !== 0x22) return -1
  let index = 0
  for (let i = 1; i <= 10; i++) {
    const digit = data[i] - 0x30
    if (digit < 0 || digit > 9) return -1
    index = index * 10 + digit
  }
  return index
}

/** What a read-back found, against the records 0 to `expected - 1` that were offered. */
export interface Tally {
  readonly expected: number
  /** Distinct offered records found in the stream. */
  readonly delivered: number
  /** Offered records not in the stream. */
  readonly missing: number
  /** Copies beyond the first of records found more than once. */
  readonly duplicates: number
  /** Records in the stream that were never offered (or whose bytes were changed). */
  readonly foreign: number
}

/** Counts what a stream holds against what was offered. */
export const tally = (expected: number, stored: Iterable<Uint8Array>): Tally => {
  const seen = new Uint8Array(expected)
  let delivered = 0
  let duplicates = 0
  let foreign = 0
  for (const data of stored) {
    const index = indexOf(data)
    if (index < 0 || index >= expected) foreign++
    else if (seen[index] === 0) {
      seen[index] = 1
      delivered++
    } else duplicates++
  }
  return { expected, delivered, missing: expected - delivered, duplicates, foreign }
}
