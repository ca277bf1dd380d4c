/**
 * A record read back from a stream as one line of output: its data as text, as base64, or as a JSON object with
 * its key, shard and sequence number.
 *
 * Pure: a record in, a line out.
 */
import { Buffer } from "node:buffer"

/** How `get` prints records. */
export type Format = "text" | "base64" | "json"

/** Every format, for the command line. */
export const formats: ReadonlyArray<Format> = ["text", "base64", "json"]

/** A user record as read: one Kinesis record, or one of those an aggregated record held. */
export interface Read {
  readonly shardId: string
  readonly sequenceNumber: string
  /** Its position inside an aggregated record; absent for a record that was not aggregated. */
  readonly subSequenceNumber?: number | undefined
  readonly partitionKey: string
  readonly explicitHashKey?: string | undefined
  readonly arrivalTime?: Date | undefined
  readonly data: Uint8Array
}

const utf8 = new TextDecoder("utf-8", { fatal: true })

const text = (data: Uint8Array): string | undefined => {
  try {
    return utf8.decode(data)
  } catch {
    return undefined
  }
}

const base64 = (data: Uint8Array): string => Buffer.from(data.buffer, data.byteOffset, data.length).toString("base64")

/**
 * The record as one line, newline included. `text`: the data as UTF-8 (a record holding newlines spans several
 * lines: use `base64` or `json` for those). `json`: `data` holds the text when the bytes are UTF-8, else `base64`
 * holds them.
 */
export const line = (format: Format, record: Read): string => {
  if (format === "text") return `${Buffer.from(record.data.buffer, record.data.byteOffset, record.data.length)}\n`
  if (format === "base64") return `${base64(record.data)}\n`
  const decoded = text(record.data)
  return `${
    JSON.stringify({
      shardId: record.shardId,
      sequenceNumber: record.sequenceNumber,
      subSequenceNumber: record.subSequenceNumber,
      partitionKey: record.partitionKey,
      explicitHashKey: record.explicitHashKey,
      arrivalTime: record.arrivalTime?.toISOString(),
      ...(decoded === undefined ? { base64: base64(record.data) } : { data: decoded })
    })
  }\n`
}
