/**
 * The errors of the writer: each a tagged class with the fields a caller needs to act on it.
 */
import * as Data from "effect/Data"

/** A record refused before it reached the writer's buffer: it was never sent and the writer is unchanged. */
export class InvalidRecord extends Data.TaggedError("InvalidRecord")<{
  /** Why the record was refused, for a person. */
  readonly reason: string
  /** The partition key given with the record, when there was one. */
  readonly partitionKey?: string | undefined
  /** Its position among the entries of one `enqueueAll` call (or one chunk of `sink`); none of them was taken. */
  readonly index?: number | undefined
}> {
  override get message(): string {
    return this.index === undefined ? this.reason : `entry ${this.index}: ${this.reason}`
  }
}

/** The writer's scope has closed: it takes no more records. */
export class WriterClosed extends Data.TaggedError("WriterClosed")<{
  /** The stream the writer wrote to. */
  readonly stream: string
}> {
  override get message(): string {
    return `the writer for stream ${this.stream} is closed and takes no more records`
  }
}

/** Options that make no sense (a batch of 0 records, a negative linger...): refused when the writer is built. */
export class InvalidOptions extends Data.TaggedError("InvalidOptions")<{
  /** Every problem found, one sentence each. */
  readonly problems: ReadonlyArray<string>
}> {
  override get message(): string {
    return `invalid KinesisWriter options: ${this.problems.join("; ")}`
  }
}

/**
 * A failure of a call to Kinesis, whole-request (the SDK threw) or for one record (an entry's error code).
 * `retriable` says whether sending again may succeed (throttling, internal failures, timeouts, resets).
 */
export class KinesisError extends Data.TaggedError("KinesisError")<{
  /** The operation that failed, such as `PutRecords`. */
  readonly operation: string
  /** The error's name or code as AWS gives it, such as `ProvisionedThroughputExceededException`. */
  readonly code: string
  /** What AWS (or the network) said. */
  readonly detail: string
  /** Whether the same request may succeed if sent again. */
  readonly retriable: boolean
  /** The HTTP status of the response, when there was one. */
  readonly statusCode?: number | undefined
  /** The original error, for debugging. */
  readonly cause?: unknown
}> {
  override get message(): string {
    return this.detail === "" ? this.code : `${this.code}: ${this.detail}`
  }
}

/**
 * A record that could not be stored: its data, key, the last error and how many times it was sent.
 *
 * `JSON.stringify` gives its data as base64, in `dataBase64` (see `toJSON`).
 */
export class RecordFailed extends Data.TaggedError("RecordFailed")<{
  /** The stream the record was written to. */
  readonly stream: string
  /** The record's bytes, exactly as they would have been sent, so the caller can store or resend them. */
  readonly data: Uint8Array
  /** The record's partition key. */
  readonly partitionKey: string
  /** The record's explicit hash key, when it had one. */
  readonly explicitHashKey?: string | undefined
  /** The last error: a Kinesis error code, `ShutdownTimeout` or `WriterClosed`. */
  readonly code: string
  /** What the last error said. */
  readonly detail: string
  /** How many PutRecords requests carried this record. */
  readonly attempts: number
  /** Whether the last error was retriable (the retry schedule ran out) or not (sending again would not help). */
  readonly retriable: boolean
}> {
  override get message(): string {
    const tries = this.attempts === 1 ? "1 attempt" : `${this.attempts} attempts`
    return `record with partition key ${this.partitionKey} was not stored in stream ${this.stream} after ${tries}: ${this.code}${
      this.detail === "" ? "" : `: ${this.detail}`
    }`
  }

  /**
   * The form `JSON.stringify` writes (a log line, a dead-letter store): the record's bytes as base64 in `dataBase64`
   * (a `Uint8Array` would be written as `{"0":123,...}`), its other fields as they are, and the message.
   * `Buffer.from(json.dataBase64, "base64")` gives the bytes back.
   */
  override toJSON(): RecordFailed.Json {
    return {
      _tag: "RecordFailed",
      message: this.message,
      stream: this.stream,
      partitionKey: this.partitionKey,
      ...(this.explicitHashKey === undefined ? {} : { explicitHashKey: this.explicitHashKey }),
      code: this.code,
      detail: this.detail,
      attempts: this.attempts,
      retriable: this.retriable,
      dataBase64: Buffer.from(this.data.buffer, this.data.byteOffset, this.data.byteLength).toString("base64")
    }
  }
}

export declare namespace RecordFailed {
  /** `RecordFailed` as `JSON.stringify` writes it. */
  export interface Json {
    readonly _tag: "RecordFailed"
    readonly message: string
    readonly stream: string
    readonly partitionKey: string
    readonly explicitHashKey?: string | undefined
    readonly code: string
    readonly detail: string
    readonly attempts: number
    readonly retriable: boolean
    /** The record's bytes, base64 (RFC 4648, with padding). */
    readonly dataBase64: string
  }
}

/** `flush` could not deliver some records given to `enqueue`: each of them, with why. */
export class DeliveryFailed extends Data.TaggedError("DeliveryFailed")<{
  /** The stream the writer wrote to. */
  readonly stream: string
  /** Each record that failed, oldest first (at most `maxBufferedRecords` of them are kept between flushes). */
  readonly failures: ReadonlyArray<RecordFailed>
  /** Failures beyond those kept: counted and logged, but their records are not held. */
  readonly unlisted: number
}> {
  override get message(): string {
    const total = this.failures.length + this.unlisted
    const codes = new Map<string, number>()
    for (const failure of this.failures) codes.set(failure.code, (codes.get(failure.code) ?? 0) + 1)
    const summary = [...codes].map(([code, count]) => `${count} x ${code}`).join(", ")
    return `${total} record(s) could not be delivered to stream ${this.stream}${summary === "" ? "" : ` (${summary})`}`
  }
}
