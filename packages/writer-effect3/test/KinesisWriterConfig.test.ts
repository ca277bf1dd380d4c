import { KinesisWriter } from "@effect-kinesis/writer-effect3"
import { describe, expect, it } from "@effect/vitest"
import { Config, ConfigError, ConfigProvider, Effect, Layer } from "effect"
import { scriptedKinesis } from "./support/ScriptedKinesis.js"

const load = <A>(config: Config.Config<A>, env: Record<string, string>) =>
  ConfigProvider.fromMap(new Map(Object.entries(env))).load(config).pipe(Effect.flip)

// Each InvalidData of a ConfigError, flattened from its And tree.
const invalid = (error: ConfigError.ConfigError): Array<{ readonly path: string; readonly message: string }> =>
  ConfigError.reduceWithContext(error, undefined, {
    andCase: (_, left, right) => [...left, ...right],
    orCase: (_, left, right) => [...left, ...right],
    invalidDataCase: (_, path, message) => [{ path: path.join("."), message }],
    missingDataCase: (_, path, message) => [{ path: path.join("."), message }],
    sourceUnavailableCase: (_, path, message) => [{ path: path.join("."), message }],
    unsupportedCase: (_, path, message) => [{ path: path.join("."), message }]
  })

describe("KinesisWriter.config", () => {
  it.effect("names the environment variable of a value the writer refuses", () =>
    Effect.gen(function*() {
      const error = yield* load(KinesisWriter.config, { KINESIS_STREAM: "s", KINESIS_MAX_BATCH_RECORDS: "501" })
      expect(invalid(error)).toEqual([
        { path: "KINESIS_MAX_BATCH_RECORDS", message: "maxBatchRecords must be a whole number from 1 to 500, not 501" }
      ])
      expect(String(error)).toMatch(/^\(Invalid data at KINESIS_MAX_BATCH_RECORDS: /)
    }))

  it.effect("gives one error per problem, each at its own variable", () =>
    Effect.gen(function*() {
      const error = yield* load(KinesisWriter.config, {
        KINESIS_STREAM: "not a stream name",
        KINESIS_MAX_IN_FLIGHT: "0",
        KINESIS_SHARD_CAPACITY: "1.5",
        KINESIS_REQUEST_TIMEOUT: "0 millis",
        KINESIS_MAX_RECORD_BYTES: "2000",
        KINESIS_MAX_BATCH_BYTES: "1000"
      })
      expect(invalid(error).map(({ path }) => path).sort()).toEqual([
        "KINESIS_MAX_IN_FLIGHT",
        "KINESIS_MAX_RECORD_BYTES",
        "KINESIS_REQUEST_TIMEOUT",
        "KINESIS_SHARD_CAPACITY",
        "KINESIS_STREAM"
      ])
    }))

  it.effect("keeps the prefix the config was nested under", () =>
    Effect.gen(function*() {
      const error = yield* load(Config.nested(KinesisWriter.config, "ORDERS"), {
        "ORDERS.KINESIS_STREAM": "s",
        "ORDERS.KINESIS_SHARD_MAP_REFRESH": "0 millis"
      })
      expect(invalid(error).map(({ path }) => path)).toEqual(["ORDERS.KINESIS_SHARD_MAP_REFRESH"])
    }))

  it.effect("reads valid values as they are", () =>
    Effect.gen(function*() {
      const options = yield* ConfigProvider.fromMap(new Map([["KINESIS_STREAM", "s"], ["KINESIS_ORDERED", "true"]]))
        .load(KinesisWriter.config)
      expect(options).toEqual({ stream: "s", ordered: true })
    }))

  it.effect("takes durations and sizes as the command line does: 50ms, 2s, 100 millis, 5MiB, 512KiB", () =>
    Effect.gen(function*() {
      const options = yield* ConfigProvider.fromMap(
        new Map([
          ["KINESIS_STREAM", "s"],
          ["KINESIS_LINGER", "50ms"],
          ["KINESIS_REQUEST_TIMEOUT", "2s"],
          ["KINESIS_SHUTDOWN_TIMEOUT", "100 millis"],
          ["KINESIS_MAX_BATCH_BYTES", "5MiB"],
          ["KINESIS_MAX_RECORD_BYTES", "512KiB"],
          ["KINESIS_MAX_BUFFERED_BYTES", "67108864"]
        ])
      ).load(KinesisWriter.config)
      expect(options).toEqual({
        stream: "s",
        linger: 50,
        requestTimeout: 2000,
        shutdownTimeout: 100,
        maxBatchBytes: 5 * 1024 * 1024,
        maxRecordBytes: 512 * 1024,
        maxBufferedBytes: 64 * 1024 * 1024
      })
    }))

  it.effect("names every variable at fault in one error: unreadable values and values out of range alike", () =>
    Effect.gen(function*() {
      const error = yield* load(KinesisWriter.config, {
        KINESIS_STREAM: "s",
        KINESIS_LINGER: "50 parsecs",
        KINESIS_MAX_BATCH_BYTES: "5 lots",
        KINESIS_ORDERED: "maybe",
        KINESIS_MAX_IN_FLIGHT: "0"
      })
      expect(invalid(error).map(({ path }) => path).sort()).toEqual([
        "KINESIS_LINGER",
        "KINESIS_MAX_BATCH_BYTES",
        "KINESIS_MAX_IN_FLIGHT",
        "KINESIS_ORDERED"
      ])
      expect(invalid(error).find(({ path }) => path === "KINESIS_LINGER")?.message).toMatch(/is not a duration/)
    }))
})

describe("KinesisWriter.layerConfig", () => {
  const build = (layer: Layer.Layer<KinesisWriter, ConfigError.ConfigError, never>, env: Record<string, string>) => {
    const provider = ConfigProvider.fromMap(new Map(Object.entries(env)))
    return Layer.build(layer.pipe(Layer.provide(Layer.setConfigProvider(provider)))).pipe(Effect.scoped, Effect.flip)
  }

  it.effect("fails with the variable's name, not an empty path", () =>
    Effect.gen(function*() {
      const error = yield* build(KinesisWriter.layerConfig().pipe(Layer.provide(scriptedKinesis().layer)), {
        KINESIS_STREAM: "s",
        KINESIS_MAX_BATCH_RECORDS: "0"
      })
      expect(invalid(error).map(({ path }) => path)).toEqual(["KINESIS_MAX_BATCH_RECORDS"])
    }))

  it.effect("names the option for a config of one's own, whose variables it can not know", () =>
    Effect.gen(function*() {
      const own = KinesisWriter.layerConfig({ stream: Config.string("STREAM"), maxInFlight: Config.integer("SENDERS") })
      const error = yield* build(own.pipe(Layer.provide(scriptedKinesis().layer)), { STREAM: "s", SENDERS: "-1" })
      expect(invalid(error)).toEqual([
        { path: "maxInFlight", message: "maxInFlight must be a whole number from 1 to 10000, not -1" }
      ])
    }))
})
