/**
 * The scripted Kinesis of the shared tests (packages/writer/test/support/ScriptedKinesis.ts), typed against Effect 3
 * and this writer for this line's own tests, which the shared file, typed against Effect 4, can not be.
 */
import type { PutRecordsCommandInput, PutRecordsCommandOutput, PutRecordsRequestEntry } from "@aws-sdk/client-kinesis"
import { KinesisClient } from "@aws-sdk/client-kinesis"
import { Kinesis, KinesisError } from "@effect-kinesis/writer-effect3"
import { Deferred, Effect, Layer } from "effect"
import { makeDeferred, yieldNow } from "./line.js"

/** What a scripted call answers: a response, an error, or an effect (to hang, or to wait on a gate). */
export type Answer = Effect.Effect<PutRecordsCommandOutput, KinesisError>

/** Answers every entry as stored, on one shard, with increasing sequence numbers. */
export const storeAll = (input: PutRecordsCommandInput, call: number): Answer =>
  Effect.succeed(response((input.Records ?? []).map((_, i) => ({ ok: `${call}-${i}` }))))

/** A PutRecords response from per-entry outcomes: stored with a sequence number, or an error. */
export const response = (
  entries: ReadonlyArray<{ readonly ok: string } | { readonly code: string; readonly message?: string | undefined }>
): PutRecordsCommandOutput => ({
  $metadata: {},
  FailedRecordCount: entries.filter((entry) => "code" in entry).length,
  Records: entries.map((entry) =>
    "ok" in entry ?
      { ShardId: "shardId-000000000000", SequenceNumber: entry.ok } :
      entry.message === undefined ?
      { ErrorCode: entry.code } :
      { ErrorCode: entry.code, ErrorMessage: entry.message }
  )
})

/** A whole-request failure as the Kinesis service would classify it. */
export const requestError = (code: string, retriable: boolean): KinesisError =>
  new KinesisError({ operation: "PutRecords", code, detail: `${code} from the script`, retriable })

/** The text of a record's data, to tell records apart in assertions. */
export const text = (entry: PutRecordsRequestEntry): string => new TextDecoder().decode(entry.Data)

/**
 * A `Kinesis` service that answers PutRecords from a script and keeps every request, for tests of the writer's
 * timing and bookkeeping under `TestClock`. Anything that crosses the network is tested against LocalKinesis.
 */
export const scriptedKinesis = (script: (input: PutRecordsCommandInput, call: number) => Answer = storeAll) => {
  const calls: Array<PutRecordsCommandInput> = []
  const client = new KinesisClient({ region: "us-east-1" })
  const service: Kinesis.Service = {
    client,
    send: () => Effect.die("only PutRecords and ListShards are scripted"),
    // One shard over the whole hash key space, the shard every scripted answer names.
    listShards: () =>
      Effect.succeed({
        $metadata: {},
        Shards: [{
          ShardId: "shardId-000000000000",
          HashKeyRange: { StartingHashKey: "0", EndingHashKey: "340282366920938463463374607431768211455" },
          SequenceNumberRange: { StartingSequenceNumber: "0" }
        }]
      }),
    putRecords: (input) =>
      Effect.suspend(() => {
        calls.push(input)
        return script(input, calls.length - 1)
      })
  }
  return { calls, layer: Layer.succeed(Kinesis, service), texts: (call: number) => calls[call].Records!.map(text) }
}

/** Lets every ready fiber run: the writer's batching fiber and its senders, which answer at once when scripted. */
export const idle = Effect.forEach(Array.from({ length: 50 }), () => yieldNow, { discard: true })

/** A gate a scripted answer waits behind, opened by the test. */
export const gate = () => makeDeferred<void>()

/** A script that stores every entry once `open` opens: requests stay in flight until then. */
export const storeAfter = (open: Deferred.Deferred<void>) => (input: PutRecordsCommandInput, call: number): Answer =>
  Deferred.await(open).pipe(Effect.andThen(storeAll(input, call)))
