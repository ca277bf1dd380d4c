import { KinesisClient } from "@aws-sdk/client-kinesis"
import { Kinesis } from "@effect-kinesis/writer"
import { NodeHttpHandler } from "@smithy/node-http-handler"
import { Effect, Layer } from "effect"
import { vi } from "vitest"
import { describe, expect, it } from "./support/line.js"

const credentials = { accessKeyId: "a", secretAccessKey: "b" }

describe("Kinesis.layer", () => {
  it.effect("builds the client with one attempt, so that only the writer's schedule retries", () =>
    Effect.gen(function*() {
      const kinesis = yield* Kinesis
      expect(yield* Effect.promise(() => kinesis.client.config.maxAttempts())).toBe(1)
    }).pipe(Effect.provide(Kinesis.layer({ region: "eu-west-1", credentials }))))

  it.effect("keeps the attempts the configuration asks for", () =>
    Effect.gen(function*() {
      const kinesis = yield* Kinesis
      expect(yield* Effect.promise(() => kinesis.client.config.maxAttempts())).toBe(3)
    }).pipe(Effect.provide(Kinesis.layer({ region: "eu-west-1", credentials, maxAttempts: 3 }))))

  it.effect("speaks HTTP/1.1 to a plain-http endpoint, and leaves https to the SDK's default", () =>
    Effect.gen(function*() {
      const handler = (config: ConstructorParameters<typeof KinesisClient>[0]) =>
        Effect.map(Kinesis, (kinesis) => kinesis.client.config.requestHandler).pipe(
          Effect.provide(Kinesis.layer(config))
        )
      expect(yield* handler({ region: "us-east-1", credentials, endpoint: "http://127.0.0.1:4567" }))
        .toBeInstanceOf(NodeHttpHandler)
      expect(yield* handler({ region: "us-east-1", credentials, endpoint: "https://kinesis.example" }))
        .not.toBeInstanceOf(NodeHttpHandler)
      const own = new NodeHttpHandler({ requestTimeout: 1234 })
      expect(
        yield* handler({ region: "us-east-1", credentials, endpoint: "http://127.0.0.1:4567", requestHandler: own })
      )
        .toBe(own)
    }))

  it.effect("destroys the client it built when released, and never one it was given", () =>
    Effect.gen(function*() {
      const destroy = vi.spyOn(KinesisClient.prototype, "destroy")
      try {
        yield* Effect.scoped(Layer.build(Kinesis.layer({ region: "us-east-1", credentials })))
        expect(destroy).toHaveBeenCalledTimes(1)
        const given = new KinesisClient({ region: "us-east-1", credentials })
        yield* Effect.scoped(Layer.build(Kinesis.fromClient(given)))
        expect(destroy).toHaveBeenCalledTimes(1)
        given.destroy()
      } finally {
        destroy.mockRestore()
      }
    }))

  it.effect("turns a failed call into a classified KinesisError", () =>
    Effect.gen(function*() {
      const kinesis = yield* Kinesis
      const error = yield* kinesis.send("PutRecords", () =>
        Promise.reject(Object.assign(new Error("slow down"), {
          name: "ProvisionedThroughputExceededException",
          $metadata: { httpStatusCode: 400 }
        }))).pipe(Effect.flip)
      expect(error).toMatchObject({
        _tag: "KinesisError",
        operation: "PutRecords",
        code: "ProvisionedThroughputExceededException",
        retriable: true,
        statusCode: 400
      })
    }).pipe(Effect.provide(Kinesis.layer({ region: "us-east-1", credentials }))))
})
