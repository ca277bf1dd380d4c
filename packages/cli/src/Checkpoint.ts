/**
 * `put --checkpoint FILE`: the place in the input before which every line is stored, kept in a file so that the same
 * command, run again after Ctrl-C, a crash or `kill -9`, goes on from there.
 *
 * The place comes from the writer's stored prefix (the records stored in the order taken), never from what was only
 * sent: a line is behind the checkpoint only once its record, and every record before it, is in the stream. So a
 * rerun skips no line, and sends again at most the records that were taken but not yet known stored when the run
 * stopped (the writer's buffer).
 *
 * The file is replaced atomically (written aside, synced, renamed over, the directory synced): after a crash it holds
 * the last place written in full, never a torn one. It also holds each input's size and a hash of its first bytes,
 * and a hash of every byte behind the place, so that a rerun over a changed or another file is refused rather than
 * skipping lines it never stored: a line changed in the middle of a file, the size the same, included. That hash is
 * kept up as the place moves (each byte read once more, from the page cache) and checked in one pass on a rerun.
 */
import { createHash, type Hash } from "node:crypto"
import * as fs from "node:fs"
import * as path from "node:path"
import type * as Lines from "./Lines.js"

/** What the file says it is. */
export const FORMAT = "kinesis-writer-checkpoint/2"

const HEAD_BYTES = 64 * 1024
const READ_BYTES = 1024 * 1024

/** A place in the inputs: `lines` lines of input `input` are behind it, and its next line starts at byte `offset`. */
export interface Place extends Lines.Start {
  readonly input: number
  /** Lines of the inputs before `input`. */
  readonly linesBefore: number
}

/** The start of the inputs. */
export const start: Place = { input: 0, lines: 0, offset: 0, linesBefore: 0 }

/** Lines behind a place, over all inputs. */
export const linesBehind = (place: Place): number => place.linesBefore + place.lines

/** An input as the checkpoint knows it, to tell whether it is still the same. */
export interface Print {
  readonly path: string
  readonly size: number
  /** SHA-256 of its first 64 KiB. */
  readonly head: string
}

/** The file's content. */
export interface Checkpoint {
  readonly format: typeof FORMAT
  readonly stream: string
  readonly inputs: ReadonlyArray<Print>
  /** Every line before this place is stored; `input` is the number of inputs when all of them are. */
  readonly place: Place
  /** SHA-256 of every byte behind the place: the inputs before its input, whole, then its input up to its offset. */
  readonly behind: string
  readonly updated: string
}

const sha256 = (bytes: Uint8Array) => createHash("sha256").update(bytes).digest("hex")

// `length` bytes of a file from `position` (fewer at its end).
const readAt = (file: string, position: number, length: number): Uint8Array => {
  const buffer = Buffer.alloc(length)
  const fd = fs.openSync(file, "r")
  try {
    return buffer.subarray(0, fs.readSync(fd, buffer, 0, length, position))
  } finally {
    fs.closeSync(fd)
  }
}

/** An input's size and the hash of its first bytes, as they are now. */
export const printOf = (input: string): Print => ({
  path: path.resolve(input),
  size: fs.statSync(input).size,
  head: sha256(readAt(input, 0, HEAD_BYTES))
})

/** The hash of the bytes behind a place, moved on with the place: each byte is read and hashed once. */
export interface Behind {
  hash: Hash
  /** The bytes hashed so far end here: at byte `offset` of input `input`. */
  input: number
  offset: number
}

/** Nothing hashed yet. */
export const behindStart = (): Behind => ({ hash: createHash("sha256"), input: 0, offset: 0 })

// Hashes bytes `from` to `to` of a file (fewer when it is shorter: then the size check refuses it anyway).
const hashRange = (hash: Hash, file: string, from: number, to: number): void => {
  if (to <= from) return
  const buffer = Buffer.alloc(Math.min(READ_BYTES, to - from))
  const fd = fs.openSync(file, "r")
  try {
    for (let at = from; at < to;) {
      const read = fs.readSync(fd, buffer, 0, Math.min(buffer.length, to - at), at)
      if (read === 0) return
      hash.update(buffer.subarray(0, read))
      at += read
    }
  } finally {
    fs.closeSync(fd)
  }
}

/** The SHA-256 of every byte behind `place`, from `behind` moved on to it (from the start if it is past it). */
export const hashBehind = (behind: Behind, inputs: ReadonlyArray<Print>, place: Place): string => {
  const offset = place.input < inputs.length ? place.offset : 0
  if (behind.input > place.input || (behind.input === place.input && behind.offset > offset)) {
    Object.assign(behind, behindStart()) // a place never moves back; were it to, the hash starts over
  }
  for (; behind.input < Math.min(place.input, inputs.length); behind.input++, behind.offset = 0) {
    hashRange(behind.hash, inputs[behind.input].path, behind.offset, inputs[behind.input].size)
  }
  if (place.input < inputs.length) {
    hashRange(behind.hash, inputs[place.input].path, behind.offset, offset)
    behind.offset = offset
  }
  return behind.hash.copy().digest("hex")
}

/** The checkpoint of `place`; `behind`, kept by the caller from one place to the next, saves hashing again. */
export const make = (
  stream: string,
  inputs: ReadonlyArray<Print>,
  place: Place,
  now: Date,
  behind: Behind = behindStart()
): Checkpoint => ({
  format: FORMAT,
  stream,
  inputs,
  place,
  behind: hashBehind(behind, inputs, place),
  updated: now.toISOString()
})

/** Whether every line of every input is behind the checkpoint. */
export const isComplete = (checkpoint: Checkpoint): boolean => checkpoint.place.input >= checkpoint.inputs.length

const isPlace = (value: unknown): value is Place => {
  const place = value as Place | null
  return typeof place === "object" && place !== null &&
    [place.input, place.lines, place.offset, place.linesBefore].every((n) => Number.isSafeInteger(n) && n >= 0)
}

const isCheckpoint = (value: unknown): value is Checkpoint => {
  const checkpoint = value as Checkpoint | null
  return typeof checkpoint === "object" && checkpoint !== null && checkpoint.format === FORMAT &&
    typeof checkpoint.stream === "string" && typeof checkpoint.behind === "string" &&
    Array.isArray(checkpoint.inputs) &&
    checkpoint.inputs.every((print) =>
      typeof print?.path === "string" && Number.isSafeInteger(print.size) && typeof print.head === "string"
    ) &&
    isPlace(checkpoint.place) && checkpoint.place.input <= checkpoint.inputs.length
}

/** What reading a checkpoint gave: none yet, one that fits this run, or why it does not fit. */
export type Loaded =
  | { readonly _tag: "None" }
  | {
    readonly _tag: "Resume"
    readonly checkpoint: Checkpoint
    /** The hash of the bytes behind its place, for the checkpoints of the run that goes on from it. */
    readonly behind: Behind
  }
  | { readonly _tag: "Mismatch"; readonly reason: string }

const startOver = (file: string) => `delete ${file} to start over`

/**
 * Reads the checkpoint `file` for a run writing `inputs` (their prints as they are now) to `stream`; a checkpoint of
 * another stream, other inputs, or inputs changed before its place does not fit.
 */
export const load = (file: string, stream: string, inputs: ReadonlyArray<Print>): Loaded => {
  let text: string
  try {
    text = fs.readFileSync(file, "utf8")
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { _tag: "None" }
    return { _tag: "Mismatch", reason: `cannot read checkpoint ${file}: ${(error as Error).message}` }
  }
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    value = undefined
  }
  if (!isCheckpoint(value)) {
    return { _tag: "Mismatch", reason: `${file} is not a kinesis-writer checkpoint (${FORMAT}); ${startOver(file)}` }
  }
  const mismatch = (reason: string): Loaded => ({
    _tag: "Mismatch",
    reason: `checkpoint ${file} ${reason}; ${startOver(file)}`
  })
  if (value.stream !== stream) return mismatch(`is for stream ${value.stream}, not ${stream}`)
  const saved = value.inputs.map((print) => print.path)
  const now = inputs.map((print) => print.path)
  if (saved.length !== now.length || saved.some((p, i) => p !== now[i])) {
    return mismatch(`is for ${saved.join(", ")}, not ${now.join(", ")}`)
  }
  // Inputs read, in whole or in part, must be as they were; the ones not started yet may have changed.
  for (let i = 0; i <= Math.min(value.place.input, inputs.length - 1); i++) {
    const [then, current] = [value.inputs[i], inputs[i]]
    if (then.size !== current.size || then.head !== current.head) {
      return mismatch(
        `was written for another ${current.path}: it was ${then.size} bytes, it is ${current.size}${
          then.size === current.size ? " and its first bytes differ" : ""
        }`
      )
    }
  }
  const behind = behindStart()
  if (hashBehind(behind, inputs, value.place) !== value.behind) {
    // The hash runs over every input the place is in or past: any of them may have changed.
    const read = inputs.slice(0, value.place.input + 1).map((print) => print.path)
    return mismatch(`was written for another ${read.join(" or ")}: the lines before its place differ`)
  }
  return { _tag: "Resume", checkpoint: value, behind }
}

/** Replaces the checkpoint file at once: a crash leaves the old one or the new one, whole. */
export const save = async (file: string, checkpoint: Checkpoint): Promise<void> => {
  const aside = `${file}.${process.pid}.tmp`
  const handle = await fs.promises.open(aside, "w")
  try {
    try {
      await handle.writeFile(`${JSON.stringify(checkpoint, null, 2)}\n`)
      await handle.sync()
    } finally {
      await handle.close()
    }
    await fs.promises.rename(aside, file)
  } catch (error) {
    // Not left beside the checkpoint (a full disk, a directory where the file goes): the old one stays as it was.
    await fs.promises.rm(aside, { force: true }).catch(() => undefined)
    throw error
  }
  // The rename is durable once the directory is: without this, a power cut may bring the old name back.
  const directory = await fs.promises.open(path.dirname(path.resolve(file)), "r")
  try {
    await directory.sync()
  } catch {
    // Some file systems refuse to sync a directory; the rename is then as durable as they make it.
  } finally {
    await directory.close()
  }
}

/**
 * Where each record handed to the writer came from, until it is stored: the place after its line, kept in order, so
 * that the writer's stored prefix (a count of records) turns into a place in the inputs.
 *
 * Pure: a mutable value owned by one run.
 */
export interface Tracker {
  /** Records handed over before the first one still kept. */
  base: number
  readonly inputs: Array<number>
  readonly lines: Array<number>
  readonly offsets: Array<number>
  readonly linesBefore: Array<number>
  /** Kept records start at this index of the arrays. */
  head: number
  /** The place after every line read so far. */
  read: Place
  /** The place the stored prefix reached last. */
  stored: Place
}

/** A tracker for a run that starts reading at `from`. */
export const track = (from: Place): Tracker => ({
  base: 0,
  inputs: [],
  lines: [],
  offsets: [],
  linesBefore: [],
  head: 0,
  read: from,
  stored: from
})

/** Records handed over so far. */
export const handedOver = (tracker: Tracker): number => tracker.base + tracker.inputs.length - tracker.head

/** A record is handed over; its line ends at `place`. */
export const record = (tracker: Tracker, place: Place): void => {
  tracker.inputs.push(place.input)
  tracker.lines.push(place.lines)
  tracker.offsets.push(place.offset)
  tracker.linesBefore.push(place.linesBefore)
  tracker.read = place
}

/** Lines up to `place` are read, whether they made records or not (blank and bad lines). */
export const readTo = (tracker: Tracker, place: Place): void => {
  tracker.read = place
}

/**
 * The place before which every line is stored, given the writer's stored prefix: the count of records handed over,
 * from the first, that are all stored.
 */
export const storedPlace = (tracker: Tracker, storedPrefix: number): Place => {
  if (storedPrefix >= handedOver(tracker)) {
    // Every record of the lines read is stored: so are those lines.
    forget(tracker, handedOver(tracker))
    tracker.stored = tracker.read
  } else if (storedPrefix > tracker.base) {
    const last = tracker.head + (storedPrefix - 1 - tracker.base)
    tracker.stored = {
      input: tracker.inputs[last],
      lines: tracker.lines[last],
      offset: tracker.offsets[last],
      linesBefore: tracker.linesBefore[last]
    }
    forget(tracker, storedPrefix)
  }
  return tracker.stored
}

// Drops the records before `count`: they are stored, and the place after the last of them is kept in `stored`.
const forget = (tracker: Tracker, count: number): void => {
  tracker.head += count - tracker.base
  tracker.base = count
  // Compacted now and then, so that dropping costs no more than keeping.
  if (tracker.head > 4096 && tracker.head * 2 > tracker.inputs.length) {
    for (const array of [tracker.inputs, tracker.lines, tracker.offsets, tracker.linesBefore]) {
      array.splice(0, tracker.head)
    }
    tracker.head = 0
  }
}
