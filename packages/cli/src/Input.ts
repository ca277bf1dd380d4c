/**
 * How one line of input becomes a record: its data (`json`: the line as written, once it parses; `text`: the line;
 * `base64`: the bytes it encodes), its partition key (a JSON field, a fixed key, or a random one) and its explicit
 * hash key; or why the line is refused. Refused here, a line never reaches the writer, so it can never fail a
 * chunk of good ones there.
 *
 * Pure: the random key is passed in.
 */
import { Record } from "@effect-kinesis/core"
import * as Result from "effect/Result"
import { Buffer } from "node:buffer"

/** How lines are read. */
export type Format = "json" | "text" | "base64"

/** Every format, for the command line. */
export const formats: ReadonlyArray<Format> = ["json", "text", "base64"]

/** Where the records' keys come from, and the record size limit. */
export interface Options {
  readonly format: Format
  /** A fixed partition key for every record. */
  readonly key?: string | undefined
  /** The JSON field holding the partition key, as a path of property names (`["user", "id"]`). */
  readonly keyField?: ReadonlyArray<string> | undefined
  /** The JSON field holding the explicit hash key. */
  readonly explicitHashKeyField?: ReadonlyArray<string> | undefined
  /** Data + partition key bytes of one record, as the writer is told. */
  readonly maxRecordBytes: number
}

/** One record for the writer: its data and its key. */
export interface Taken {
  readonly _tag: "Record"
  readonly message: Uint8Array
  readonly key: Record.Key
}

/** What a line turned into: a record, an empty line (skipped without a word), or a refusal with its reason. */
export type Parsed = Taken | { readonly _tag: "Blank" } | { readonly _tag: "Bad"; readonly reason: string }

const blank: Parsed = { _tag: "Blank" }
const bad = (reason: string): Parsed => ({ _tag: "Bad", reason })

/** `user.id` as a path of property names; a segment that is a number also indexes an array. */
export const fieldPath = (dotted: string): ReadonlyArray<string> => dotted.split(".")

/** Why a dotted field path can not name a field, or undefined when it can. */
export const checkFieldPath = (dotted: string): string | undefined =>
  dotted.split(".").some((segment) => segment === "") ?
    `"${dotted}" is not a field path: write property names joined by dots, such as user.id` :
    undefined

/** The longest line worth reading: anything longer could never fit in a record. */
export const maxLineBytes = (options: Options): number =>
  options.format === "base64" ? Math.ceil(options.maxRecordBytes / 3) * 4 : options.maxRecordBytes

const utf8 = new TextDecoder("utf-8", { fatal: true })
const base64Line = /^[A-Za-z0-9+/]*={0,2}$/

const lookup = (value: unknown, path: ReadonlyArray<string>): unknown => {
  let current = value
  for (const segment of path) {
    if (current === null || typeof current !== "object" || !Object.hasOwn(current, segment)) return undefined
    current = (current as { readonly [key: string]: unknown })[segment]
  }
  return current
}

// A key field's value as a string: strings as they are, numbers and booleans as JSON writes them.
const keyOf = (value: unknown, field: string): Result.Result<string, string> => {
  if (typeof value === "string") return Result.succeed(value)
  if (typeof value === "number" || typeof value === "boolean") return Result.succeed(String(value))
  if (value === undefined) return Result.fail(`no field ${field}`)
  return Result.fail(`field ${field} is ${value === null ? "null" : Array.isArray(value) ? "an array" : "an object"}`)
}

const hashKeyOf = (value: unknown, field: string): Result.Result<string, string> => {
  if (typeof value === "string") return Result.succeed(value)
  if (typeof value === "number" && Number.isSafeInteger(value) && value >= 0) return Result.succeed(String(value))
  if (value === undefined) return Result.fail(`no field ${field}`)
  return Result.fail(`field ${field} must be a string of decimal digits (numbers lose digits beyond 2^53)`)
}

/** Turns one line (without its newline) into a record for the writer, or says why it can not be one. */
export const parse = (options: Options, line: Uint8Array, randomKey: () => string): Parsed => {
  if (line.length === 0) return blank
  let data = line
  let partitionKey = options.key
  let explicitHashKey: string | undefined
  if (options.format === "json") {
    let value: unknown
    try {
      value = JSON.parse(utf8.decode(line))
    } catch (error) {
      return bad(
        error instanceof SyntaxError ? `invalid JSON: ${error.message}` : "not valid UTF-8, so not JSON"
      )
    }
    if (options.keyField !== undefined) {
      const key = keyOf(lookup(value, options.keyField), options.keyField.join("."))
      if (Result.isFailure(key)) return bad(key.failure)
      partitionKey = key.success
    }
    if (options.explicitHashKeyField !== undefined) {
      const field = options.explicitHashKeyField.join(".")
      const hashKey = hashKeyOf(lookup(value, options.explicitHashKeyField), field)
      if (Result.isFailure(hashKey)) return bad(hashKey.failure)
      explicitHashKey = hashKey.success
    }
  } else if (options.format === "base64") {
    const text = Buffer.from(line.buffer, line.byteOffset, line.length).toString("latin1").trim()
    if (text.length % 4 !== 0 || !base64Line.test(text)) return bad("not base64 (A-Z, a-z, 0-9, + and /, = padding)")
    const decoded = Buffer.from(text, "base64")
    data = new Uint8Array(decoded.buffer, decoded.byteOffset, decoded.length)
  }
  const key: Record.Key = explicitHashKey === undefined ?
    partitionKey ?? randomKey() :
    { partitionKey: partitionKey ?? randomKey(), explicitHashKey }
  const encoded = Record.encode(data, key, randomKey, options.maxRecordBytes)
  if (Record.isInvalid(encoded)) return bad(encoded.reason)
  return { _tag: "Record", message: data, key }
}
