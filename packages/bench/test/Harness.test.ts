import { KinesisClient, PutRecordsCommand } from "@aws-sdk/client-kinesis"
import { LocalKinesis } from "@effect-kinesis/local"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import { describe, expect, it } from "@effect/vitest"
import * as Effect from "effect/Effect"
import { verify } from "../src/Harness.js"
import type { WriterName } from "../src/Job.js"
import { payload, tally } from "../src/Payload.js"
import { runJob } from "../src/Run.js"

const utf8 = new TextEncoder()
// aws-kinesis-writable loads the AWS SDK v2, whose end-of-support notice would only clutter the test output.
process.env.AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE = "1"

describe("Harness", () => {
  it("tallies delivered, missing, duplicate and foreign records against the offered range", () => {
    const data = [0, 1, 1, 3, 3, 3, 7].map((index) => utf8.encode(payload(index, 100)))
    data.push(utf8.encode("not a payload"))
    expect(tally(5, data)).toEqual({ expected: 5, delivered: 3, missing: 2, duplicates: 3, foreign: 2 })
  })

  it.scoped("counts the records missing from and duplicated in a stream", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis.make({ streams: { counted: 2 } })
      // Records 0-99 offered: the 10 ending in 3 never sent, five sent twice.
      const sent = [...Array.from({ length: 100 }, (_, i) => i).filter((i) => i % 10 !== 3), 0, 1, 2, 4, 5]
      const failed = yield* Effect.promise(async () => {
        const requestHandler = new NodeHttpHandler()
        const client = new KinesisClient({ ...local.clientConfig, maxAttempts: 1, requestHandler })
        const response = await client.send(
          new PutRecordsCommand({
            StreamName: "counted",
            Records: sent.map((i) => ({ Data: utf8.encode(payload(i, 100)), PartitionKey: `k${i}` }))
          })
        )
        client.destroy()
        return response.FailedRecordCount ?? 0
      })
      expect(failed).toBe(0)
      expect(yield* verify(local, "counted", 100)).toEqual({
        expected: 100,
        delivered: 90,
        missing: 10,
        duplicates: 5,
        foreign: 0
      })
    }))

  for (const writer of ["hand-loop", "effect-kinesis", "aws-kinesis-writable"] satisfies Array<WriterName>) {
    it.scoped(`runs ${writer} to the end, every record read back once`, () =>
      Effect.gen(function*() {
        const local = yield* LocalKinesis.make({ streams: { bench: 2 } })
        const measured = yield* Effect.promise(() =>
          runJob({
            writer,
            endpoint: local.endpoint,
            region: local.region,
            stream: "bench",
            records: 1_200,
            recordBytes: 100,
            ratePerSecond: undefined,
            concurrency: 4,
            maxSockets: 4
          })
        )
        expect(measured.reportedFailed).toBe(0)
        expect(measured.elapsedMs).toBeGreaterThan(0)
        expect(yield* verify(local, "bench", 1_200)).toEqual({
          expected: 1_200,
          delivered: 1_200,
          missing: 0,
          duplicates: 0,
          foreign: 0
        })
      }))
  }
})
