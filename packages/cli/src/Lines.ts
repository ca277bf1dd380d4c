/**
 * Newline-delimited input cut into numbered lines, whatever the size and boundaries of the chunks it comes in.
 *
 * A line longer than the bound is not kept: its bytes are counted and dropped until its end, so a file with no
 * newline in a gigabyte costs no more memory than the bound. A final `\r` is dropped (files written on Windows).
 *
 * Pure: bytes in, lines out; the splitter is a mutable value owned by one reader.
 */

/**
 * A piece of input: a line (its own copy of the bytes, without the newline) or a line too long to keep; `end` is
 * the byte offset just after it (after its newline), where the next line starts.
 */
export type Piece =
  | { readonly _tag: "Line"; readonly number: number; readonly end: number; readonly bytes: Uint8Array }
  | { readonly _tag: "TooLong"; readonly number: number; readonly end: number; readonly length: number }

/** The state of one input being cut into lines. */
export interface Splitter {
  readonly maxLineBytes: number
  /** Parts of the line not yet ended, each its own copy. */
  carry: Array<Uint8Array>
  carryBytes: number
  /** The current line is past the bound: only its length is kept. */
  dropping: boolean
  /** Lines ended so far (counting the lines before `start`, when the reading started there). */
  lines: number
  /** Bytes of input before the chunk at hand. */
  offset: number
}

/** Where a reading starts: after `lines` lines, at byte `offset` (the start of the next line). */
export interface Start {
  readonly lines: number
  readonly offset: number
}

const NEWLINE = 10
const RETURN = 13

/**
 * A splitter that keeps lines of at most `maxLineBytes` bytes (a final `\r` not counted), for input read from the
 * start or, when resuming, from `start`.
 */
export const make = (maxLineBytes: number, start: Start = { lines: 0, offset: 0 }): Splitter => ({
  maxLineBytes,
  carry: [],
  carryBytes: 0,
  dropping: false,
  lines: start.lines,
  offset: start.offset
})

const withoutReturn = (bytes: Uint8Array): Uint8Array =>
  bytes.length > 0 && bytes[bytes.length - 1] === RETURN ? bytes.subarray(0, bytes.length - 1) : bytes

const concat = (parts: ReadonlyArray<Uint8Array>, total: number): Uint8Array => {
  const joined = new Uint8Array(total)
  let at = 0
  for (const part of parts) {
    joined.set(part, at)
    at += part.length
  }
  return joined
}

// Ends the current line with `last`, its part in the chunk at hand, ending at byte `end` of the input.
const finish = (splitter: Splitter, last: Uint8Array, end: number): Piece => {
  const number = ++splitter.lines
  const total = splitter.carryBytes + last.length
  const parts = splitter.carry
  const dropping = splitter.dropping
  splitter.carry = []
  splitter.carryBytes = 0
  splitter.dropping = false
  if (dropping) return { _tag: "TooLong", number, end, length: total }
  // A line ending in "\r" may exceed the bound by that byte alone.
  const whole = parts.length === 0 ? last.slice() : concat([...parts, last], total)
  const bytes = withoutReturn(whole)
  return bytes.length > splitter.maxLineBytes ?
    { _tag: "TooLong", number, end, length: bytes.length } :
    { _tag: "Line", number, end, bytes }
}

// Keeps a part of a line that goes on in the next chunk, or only counts it once the line is too long.
const keep = (splitter: Splitter, part: Uint8Array): void => {
  if (part.length === 0) return
  splitter.carryBytes += part.length
  if (splitter.dropping) return
  // One byte of slack for a "\r" that may end the line.
  if (splitter.carryBytes > splitter.maxLineBytes + 1) {
    splitter.dropping = true
    splitter.carry = []
    return
  }
  // Copied: the reader may reuse or keep the chunk, and a line must not pin a whole chunk in memory.
  splitter.carry.push(part.slice())
}

/** The lines that `chunk` ends, in order; the rest waits for the next chunk or `end`. */
export const push = (splitter: Splitter, chunk: Uint8Array): Array<Piece> => {
  const pieces: Array<Piece> = []
  let start = 0
  while (start < chunk.length) {
    const newline = chunk.indexOf(NEWLINE, start)
    if (newline === -1) break
    pieces.push(finish(splitter, chunk.subarray(start, newline), splitter.offset + newline + 1))
    start = newline + 1
  }
  keep(splitter, chunk.subarray(start))
  splitter.offset += chunk.length
  return pieces
}

/** The last line, when the input ended without a newline after it. */
export const end = (splitter: Splitter): Array<Piece> =>
  splitter.carryBytes === 0 && !splitter.dropping ? [] : [finish(splitter, new Uint8Array(0), splitter.offset)]
