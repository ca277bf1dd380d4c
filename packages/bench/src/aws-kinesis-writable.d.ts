// aws-kinesis-writable 4.3.0 ships no types: the part of its constructor and stream the bench uses.
declare module "aws-kinesis-writable" {
  import type { Writable } from "node:stream"

  interface KinesisWritableOptions {
    readonly streamName: string
    readonly kinesis?: unknown
    readonly objectMode?: boolean
    readonly partitionKey?: string | ((message: unknown) => string)
    readonly buffer?: {
      readonly timeout?: number
      readonly length?: number
      readonly retry?: { readonly retries?: number; readonly minTimeout?: number; readonly maxTimeout?: number }
    }
  }

  interface KinesisWritable extends Writable {
    recordsQueue: Array<unknown>
    dispatch(records: Array<unknown>, callback?: (error: Error | null) => void): void
  }

  const KinesisWritable: new(options: KinesisWritableOptions) => KinesisWritable
  export default KinesisWritable
}
