import { Config, ConfigProvider, Effect, Layer, SchemaIssue } from "effect"
import { KinesisWriter } from "../src/index.js"
import { describe, expect, it } from "./support/line.js"
import { scriptedKinesis } from "./support/ScriptedKinesis.js"

const provider = (env: Record<string, string>) => ConfigProvider.fromEnv({ env })

const load = <A>(config: Config.Config<A>, env: Record<string, string>) => config.parse(provider(env)).pipe(Effect.flip)

// Each problem of a ConfigError's issue tree with its path, joined as the environment provider joins it: the
// variable's name.
const invalid = (error: Config.ConfigError): Array<{ readonly path: string; readonly message: string }> => {
  const problems = (issue: SchemaIssue.Issue, path: ReadonlyArray<PropertyKey>): Array<readonly [string, string]> => {
    switch (issue._tag) {
      case "Pointer":
        return problems(issue.issue, [...path, ...issue.path])
      case "Composite":
      case "AnyOf":
        return issue.issues.flatMap((inner) => problems(inner, path))
      case "Filter":
      case "Encoding":
        return problems(issue.issue, path)
      default:
        return [[path.map(String).join("_"), SchemaIssue.defaultLeafHook(issue)]]
    }
  }
  if (error.cause._tag !== "SchemaError") return [{ path: "", message: error.message }]
  return problems(error.cause.issue, []).map(([path, message]) => ({ path, message }))
}

describe("KinesisWriter.config", () => {
  it.effect("names the environment variable of a value the writer refuses", () =>
    Effect.gen(function*() {
      const error = yield* load(KinesisWriter.config, { KINESIS_STREAM: "s", KINESIS_MAX_BATCH_RECORDS: "501" })
      expect(invalid(error)).toEqual([
        { path: "KINESIS_MAX_BATCH_RECORDS", message: "maxBatchRecords must be a whole number from 1 to 500, not 501" }
      ])
      expect(error.message).toContain("maxBatchRecords must be a whole number from 1 to 500, not 501")
      expect(error.message).toContain(`at ["KINESIS_MAX_BATCH_RECORDS"]`)
    }))

  it.effect("names every problem in one error, each at its own variable", () =>
    Effect.gen(function*() {
      const error = yield* load(KinesisWriter.config, {
        KINESIS_STREAM: "not a stream name",
        KINESIS_MAX_IN_FLIGHT: "0",
        KINESIS_SHARD_CAPACITY: "1.5",
        KINESIS_REQUEST_TIMEOUT: "0 millis",
        KINESIS_MAX_RECORD_BYTES: "2000",
        KINESIS_MAX_BATCH_BYTES: "1000"
      })
      const variables = [
        "KINESIS_MAX_IN_FLIGHT",
        "KINESIS_MAX_RECORD_BYTES",
        "KINESIS_REQUEST_TIMEOUT",
        "KINESIS_SHARD_CAPACITY",
        "KINESIS_STREAM"
      ]
      expect(invalid(error).map(({ path }) => path).sort()).toEqual(variables)
      for (const variable of variables) expect(error.message).toContain(`["${variable}"]`)
    }))

  it.effect("keeps the prefix the config was nested under", () =>
    Effect.gen(function*() {
      const env = { ORDERS_KINESIS_STREAM: "s", ORDERS_KINESIS_SHARD_MAP_REFRESH: "0 millis" }
      const error = yield* load(Config.nested(KinesisWriter.config, "ORDERS"), env)
      expect(invalid(error).map(({ path }) => path)).toEqual(["ORDERS_KINESIS_SHARD_MAP_REFRESH"])
      expect(error.message).toContain(`at ["ORDERS"]["KINESIS_SHARD_MAP_REFRESH"]`)
      const options = yield* Config.nested(KinesisWriter.config, "ORDERS").parse(
        provider({ ORDERS_KINESIS_STREAM: "orders", KINESIS_STREAM: "other" })
      )
      expect(options).toEqual({ stream: "orders" })
    }))

  it.effect("names the stream's variable when nothing is set, also under a prefix", () =>
    Effect.gen(function*() {
      expect(invalid(yield* load(KinesisWriter.config, {}))).toEqual([
        { path: "KINESIS_STREAM", message: "KINESIS_STREAM is not set: name the stream" }
      ])
      expect(invalid(yield* load(Config.nested(KinesisWriter.config, "ORDERS"), { KINESIS_STREAM: "s" }))).toEqual([
        { path: "ORDERS_KINESIS_STREAM", message: "KINESIS_STREAM is not set: name the stream" }
      ])
    }))

  it.effect("reads valid values as they are", () =>
    Effect.gen(function*() {
      const options = yield* KinesisWriter.config.parse(provider({ KINESIS_STREAM: "s", KINESIS_ORDERED: "true" }))
      expect(options).toEqual({ stream: "s", ordered: true })
    }))

  it.effect("takes durations and sizes as the command line does: 50ms, 2s, 100 millis, 5MiB, 512KiB", () =>
    Effect.gen(function*() {
      const options = yield* KinesisWriter.config.parse(provider({
        KINESIS_STREAM: "s",
        KINESIS_LINGER: "50ms",
        KINESIS_REQUEST_TIMEOUT: "2s",
        KINESIS_SHUTDOWN_TIMEOUT: "100 millis",
        KINESIS_MAX_BATCH_BYTES: "5MiB",
        KINESIS_MAX_RECORD_BYTES: "512KiB",
        KINESIS_MAX_BUFFERED_BYTES: "67108864"
      }))
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
  const build = (layer: Layer.Layer<KinesisWriter, Config.ConfigError, never>, env: Record<string, string>) =>
    Layer.build(layer.pipe(Layer.provide(ConfigProvider.layer(provider(env))))).pipe(Effect.scoped, Effect.flip)

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
      const own = KinesisWriter.layerConfig({ stream: Config.String("STREAM"), maxInFlight: Config.Int("SENDERS") })
      const error = yield* build(own.pipe(Layer.provide(scriptedKinesis().layer)), { STREAM: "s", SENDERS: "-1" })
      expect(invalid(error).map(({ message }) => message)).toEqual([
        "maxInFlight must be a whole number from 1 to 10000, not -1"
      ])
      expect(error.message).toContain("maxInFlight")
    }))
})
