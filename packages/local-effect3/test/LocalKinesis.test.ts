import { LocalKinesis } from "@effect-kinesis/local-effect3"
import { Kinesis, KinesisError } from "@effect-kinesis/writer-effect3"
import { describe, expect, it } from "@effect/vitest"
import * as Cause from "effect/Cause"
import * as Effect from "effect/Effect"
import * as Exit from "effect/Exit"
import * as Layer from "effect/Layer"
import * as TestClock from "effect/TestClock"
import { spawn } from "node:child_process"
import { existsSync } from "node:fs"
import { createInterface } from "node:readline"
import { fileURLToPath } from "node:url"

const utf8 = new TextEncoder()

const entries = (count: number, from = 0) =>
  Array.from({ length: count }, (_, i) => ({ Data: utf8.encode(String(from + i)), PartitionKey: `key-${from + i}` }))

const put = (stream: string, count: number, from = 0) =>
  Effect.flatMap(Kinesis, (kinesis) => kinesis.putRecords({ StreamName: stream, Records: entries(count, from) }))

// The error of an effect that should fail with a `KinesisError`.
const kinesisError = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.flip(effect).pipe(Effect.filterOrDie((error) => error instanceof KinesisError, () => "not a KinesisError"))

// The compiled package: a script of a user runs what `npx tsc -b` built, not the sources.
const distIndex = new URL("../dist/index.js", import.meta.url)

// A user's script: the embedded Kinesis, one write through the proxy, then the end of its program.
const script = `
import { Kinesis } from "@effect-kinesis/writer-effect3"
import * as Effect from "effect/Effect"
import { LocalKinesis } from ${JSON.stringify(distIndex.href)}

const program = Effect.gen(function*() {
  const kinesis = yield* Kinesis
  const data = new TextEncoder().encode("hello")
  return yield* kinesis.putRecords({ StreamName: "events", Records: [{ Data: data, PartitionKey: "k" }] })
}).pipe(Effect.provide(LocalKinesis.layer({ streams: { events: 1 }, limits: true })))

const response = await Effect.runPromise(program)
console.log(JSON.stringify({ failed: response.FailedRecordCount }))
`

describe("LocalKinesis", () => {
  it.live("provides Kinesis through the proxy, and the proxy's controls, and reads back what was stored", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      expect((yield* put("events", 3)).FailedRecordCount).toBe(0)
      expect((yield* local.proxy.counters).records.stored).toBe(3)
      expect((yield* local.readAll("events")).map((record) => record.partitionKey)).toEqual(["key-0", "key-1", "key-2"])
      expect((yield* local.readStored("events")).length).toBe(3)
      yield* local.createStream("more", 2)
      expect((yield* local.listShards("more")).length).toBe(2)
      const [lower, upper] = yield* local.splitShard("more", "shardId-000000000000")
      const merged = yield* local.mergeShards("more", upper.ShardId!, lower.ShardId!)
      expect([merged.ParentShardId, merged.AdjacentParentShardId]).toEqual([lower.ShardId, upper.ShardId])
      expect(local.clientConfig.endpoint).toBe(local.endpoint)
      expect(local.streamArn("events")).toBe("arn:aws:kinesis:us-east-1:000000000000:stream/events")
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { events: 1 } }))))

  it.live("fails with a KinesisError classified as the writer classifies a failed call", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      const [parent] = yield* local.splitShard("split", "shardId-000000000000")
      const closed = yield* kinesisError(local.splitShard("split", parent.ParentShardId!))
      expect(closed).toMatchObject({
        operation: "SplitShard",
        code: "InvalidArgumentException",
        retriable: false,
        statusCode: 400
      })
      const missing = yield* kinesisError(local.splitShard("split", "shardId-000000000099"))
      expect(missing).toMatchObject({ code: "ResourceNotFoundException", retriable: false })
      const again = yield* kinesisError(local.mergeShards("split", "shardId-000000000000", "shardId-000000000001"))
      expect(again).toMatchObject({ operation: "MergeShards", code: "InvalidArgumentException" })
      const taken = yield* kinesisError(local.createStream("split", 1))
      expect(taken).toMatchObject({ operation: "CreateStream", code: "ResourceInUseException", retriable: false })
      const unread = yield* kinesisError(local.readAll("nosuch"))
      expect(unread).toMatchObject({ operation: "ListShards", code: "ResourceNotFoundException" })
      const unlisted = yield* kinesisError(local.listShards("nosuch"))
      expect(unlisted).toMatchObject({ operation: "ListShards", code: "ResourceNotFoundException" })
      const layer = yield* kinesisError(
        Layer.build(LocalKinesis.layer({ streams: { "not a name!": 1 } })).pipe(
          Effect.scoped
        )
      )
      expect(layer).toMatchObject({ operation: "CreateStream", retriable: false })
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { split: 1 } }))))

  it.effect("runs the proxy's limits and counters on the Effect Clock unless given a clock", () =>
    Effect.gen(function*() {
      const local = yield* LocalKinesis
      expect((yield* put("paced", 20)).FailedRecordCount).toBe(10)
      expect((yield* put("paced", 1, 20)).FailedRecordCount).toBe(1)
      yield* TestClock.adjust("1 second")
      expect((yield* put("paced", 10, 30)).FailedRecordCount).toBe(0)
      const seconds = (yield* local.proxy.counters).shards.map(({ accepted, second }) => ({ second, accepted }))
      expect(seconds).toEqual([{ second: 0, accepted: 10 }, { second: 1, accepted: 10 }])
    }).pipe(Effect.provide(LocalKinesis.layer({ streams: { paced: 1 }, limits: { recordsPerSecond: 10 } }))))

  it.effect("refuses a nonsensical plan or limits as a defect that names each problem", () =>
    Effect.gen(function*() {
      const faults = { throttle: 2, serverError: 0.8, hang: 0.5 }
      const exit = yield* Layer.build(LocalKinesis.layer({ faults })).pipe(Effect.scoped, Effect.exit)
      expect(Exit.isFailure(exit) && Cause.isDie(exit.cause)).toBe(true)
      const message = Exit.isFailure(exit) ? Cause.pretty(exit.cause) : ""
      expect(message).toContain("throttle must be a fraction from 0 to 1, not 2")
      expect(message).toContain("the rates of the request faults add up to 1.3")
      const limits = yield* Layer.build(LocalKinesis.layer({ limits: { recordsPerSecond: 0 } })).pipe(
        Effect.scoped,
        Effect.exit
      )
      const limitsMessage = Exit.isFailure(limits) ? Cause.pretty(limits.cause) : ""
      expect(limitsMessage).toContain("recordsPerSecond must be a positive number")
    }))

  it.live("stops both servers when its scope closes", () =>
    Effect.gen(function*() {
      const endpoints = yield* Effect.scoped(
        Effect.map(LocalKinesis.make({ streams: { s: 1 } }), (local) => [local.endpoint, local.kinesaliteEndpoint])
      )
      for (const endpoint of endpoints) {
        const refused = yield* Effect.promise(() => fetch(endpoint, { method: "POST" }).then(() => false, () => true))
        expect(refused).toBe(true)
      }
    }))

  it.live("lets a script that used LocalKinesis.layer exit as soon as its program ends", () =>
    Effect.gen(function*() {
      expect(existsSync(distIndex), `${fileURLToPath(distIndex)} is missing: build first (npx tsc -b)`).toBe(true)
      const child = yield* Effect.acquireRelease(
        Effect.sync(() =>
          spawn(process.execPath, ["--input-type=module", "--eval", script], {
            // From the package's folder, so that the script finds its dependencies as a user's would.
            cwd: fileURLToPath(new URL("..", import.meta.url)),
            stdio: ["ignore", "pipe", "inherit"]
          })
        ),
        (child) => Effect.sync(() => child.exitCode === null && child.kill("SIGKILL"))
      )
      const ended = yield* Effect.promise(() =>
        new Promise<{ readonly line: string; readonly at: number }>((resolve, reject) => {
          createInterface({ input: child.stdout }).once("line", (line) => resolve({ line, at: Date.now() }))
          child.once("exit", (code) => reject(new Error(`the script ended without its line: ${code}`)))
        })
      )
      expect(JSON.parse(ended.line)).toEqual({ failed: 0 })
      const code = yield* Effect.promise(() =>
        new Promise<number | null>((resolve) => {
          if (child.exitCode !== null) resolve(child.exitCode)
          else child.once("exit", (code) => resolve(code))
        })
      )
      expect(code).toBe(0)
      expect(Date.now() - ended.at).toBeLessThan(2_500)
    }).pipe(Effect.scoped))
})
