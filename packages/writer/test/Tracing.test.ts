import { SpanKind, SpanStatusCode } from "@opentelemetry/api"
import {
  AggregationTemporality,
  DataPointType,
  type Histogram,
  InMemoryMetricExporter,
  type MetricData,
  PeriodicExportingMetricReader
} from "@opentelemetry/sdk-metrics"
import { InMemorySpanExporter, type ReadableSpan, SimpleSpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer, Schedule } from "effect"
import { handleOrders, Telemetry } from "../examples/opentelemetry.js"
import { KinesisWriter } from "../src/index.js"
import { describe, expect, it, TestClock } from "./support/line.js"
import { type Answer, requestError, response, scriptedKinesis, storeAll } from "./support/ScriptedKinesis.js"

const SHARD = "shardId-000000000000"

// The example's telemetry layer, exporting to the SDK's in-memory exporters.
const inMemory = () => {
  const spans = new InMemorySpanExporter()
  const metrics = new InMemoryMetricExporter(AggregationTemporality.CUMULATIVE)
  const reader = new PeriodicExportingMetricReader({ exporter: metrics, exportIntervalMillis: 3_600_000 })
  const layer = Telemetry({ spanProcessor: new SimpleSpanProcessor(spans), metricReader: reader })
  // What the SDK exported for one metric and stream, read after a collection.
  const exported = Effect.promise(() => reader.forceFlush()).pipe(Effect.map(() => (name: string, stream: string) => {
    const all = metrics.getMetrics().at(-1)!.scopeMetrics.flatMap((scope) => scope.metrics)
    const metric: MetricData | undefined = all.find((data) => data.descriptor.name === name)
    const points = (metric?.dataPoints ?? []).filter((point) =>
      point.attributes["messaging.destination.name"] === stream
    )
    return { metric, points }
  }))
  return { spans, layer, exported }
}

const named = (spans: ReadonlyArray<ReadableSpan>, name: string) => spans.filter((span) => span.name === name)

describe("Tracing and metrics through the OpenTelemetry SDK (examples/opentelemetry.ts)", () => {
  it.live("a put's span sits in its caller's trace; the request that stored it links to it, and it to the request", () => {
    const telemetry = inMemory()
    return Effect.gen(function*() {
      const stream = "traced-orders"
      const kinesis = scriptedKinesis()
      yield* handleOrders([{ id: 1, customer: "ada" }, { id: 2, customer: "grace" }]).pipe(
        Effect.provide(KinesisWriter.layer({ stream }).pipe(Layer.provide(kinesis.layer)))
      )
      expect(kinesis.calls).toHaveLength(2) // the two puts together, then the two audit lines

      const finished = telemetry.spans.getFinishedSpans()
      const handled = named(finished, "handle order")
      const puts = named(finished, `put ${stream}`)
      const requests = named(finished, `PutRecords ${stream}`)
      expect([handled.length, puts.length, requests.length]).toEqual([2, 2, 2])

      for (const put of puts) {
        const caller = handled.find((span) => span.spanContext().spanId === put.parentSpanContext?.spanId)
        expect(caller).toBeDefined()
        expect(put.spanContext().traceId).toBe(caller!.spanContext().traceId)
        expect(put.kind).toBe(SpanKind.PRODUCER)
        expect(put.attributes).toMatchObject({
          "messaging.system": "aws_kinesis",
          "messaging.destination.name": stream,
          "messaging.operation.name": "put",
          "messaging.operation.type": "create",
          "messaging.destination.partition.id": SHARD,
          "kinesis.writer.attempts": 1
        })
        expect(put.attributes["messaging.message.id"]).toMatch(/^0-[01]$/)
      }

      const [stored, audit] = [...requests].sort((a, b) => b.links.length - a.links.length)
      expect(stored.kind).toBe(SpanKind.CLIENT)
      expect(stored.parentSpanContext).toBeUndefined()
      expect(stored.links.map((link) => link.context.spanId).sort()).toEqual(
        puts.map((put) => put.spanContext().spanId).sort()
      )
      for (const put of puts) {
        expect(put.links.map((link) => link.context.spanId)).toEqual([stored.spanContext().spanId])
      }
      const bytes = kinesis.calls[0].Records!.reduce((sum, r) => sum + r.Data!.length + r.PartitionKey!.length, 0)
      expect(stored.attributes).toEqual({
        "messaging.system": "aws_kinesis",
        "messaging.destination.name": stream,
        "messaging.operation.name": "PutRecords",
        "messaging.operation.type": "send",
        "messaging.batch.message_count": 2,
        "aws.kinesis.stream_name": stream,
        "kinesis.writer.request.bytes": bytes,
        "kinesis.writer.attempt": 1,
        "kinesis.writer.records.delivered": 2,
        "kinesis.writer.records.throttled": 0,
        "kinesis.writer.records.failed": 0
      })
      // @effect/opentelemetry 4 leaves the status of a span that succeeded unset, as OpenTelemetry asks of libraries.
      expect(stored.status.code).toBe(SpanStatusCode.UNSET)
      // Records given to enqueue are counted, not traced: their request links to nothing.
      expect(audit.links).toEqual([])
      expect(audit.attributes["messaging.batch.message_count"]).toBe(2)

      const exported = yield* telemetry.exported
      const delivered = exported("kinesis.writer.records.delivered", stream)
      expect(delivered.metric?.descriptor.unit).toBe("{record}")
      expect(delivered.metric?.dataPointType).toBe(DataPointType.SUM)
      expect(delivered.points.map((point) => [point.attributes, point.value])).toEqual([[
        { "messaging.system": "aws_kinesis", "messaging.destination.name": stream, unit: "{record}" },
        4
      ]])
      const duration = exported("messaging.client.operation.duration", stream)
      expect(duration.metric?.descriptor.unit).toBe("s")
      expect(duration.metric?.dataPointType).toBe(DataPointType.HISTOGRAM)
      expect(duration.points).toHaveLength(1)
      expect(duration.points[0].attributes).toMatchObject({
        "messaging.operation.name": "PutRecords",
        "messaging.operation.type": "send"
      })
      expect((duration.points[0].value as Histogram).count).toBe(2)
      expect(exported("messaging.client.sent.messages", stream).points.map((point) => point.value)).toEqual([4])
      expect(exported("kinesis.writer.records.taken", stream).points.map((point) => point.value)).toEqual([4])
      const held = exported("kinesis.writer.records.held", stream)
      expect(held.points.map((point) => point.value)).toEqual([0])
      expect(held.metric?.dataPointType === DataPointType.SUM && held.metric.isMonotonic).toBe(false)
    }).pipe(Effect.provide(telemetry.layer))
  })

  it.effect("a request's span counts what was refused and the attempt; a request that failed whole ends in error", () => {
    const telemetry = inMemory()
    return Effect.gen(function*() {
      const stream = "traced-refusals"
      // First request: one record throttled; second: the whole request fails; third: stored.
      const script = (input: Parameters<typeof storeAll>[0], call: number): Answer =>
        call === 0 ?
          Effect.succeed(response([{ ok: "0-0" }, { code: "ProvisionedThroughputExceededException" }])) :
          call === 1 ?
          Effect.fail(requestError("InternalFailure", true)) :
          storeAll(input, call)
      const kinesis = scriptedKinesis(script)
      const writer = yield* KinesisWriter.make({ stream, retry: Schedule.spaced("100 millis") }).pipe(
        Effect.provide(kinesis.layer)
      )
      yield* Effect.forkScoped(
        Effect.all([writer.put("a", "k1"), writer.put("b", "k2")], { concurrency: 2 }).pipe(Effect.withSpan("caller"))
      )
      yield* TestClock.adjust("2 seconds")
      expect(kinesis.calls).toHaveLength(3)
      const requests = named(telemetry.spans.getFinishedSpans(), `PutRecords ${stream}`)
      expect(requests.map((span) => [
        span.attributes["kinesis.writer.attempt"],
        span.attributes["messaging.batch.message_count"],
        span.attributes["kinesis.writer.records.delivered"],
        span.attributes["kinesis.writer.records.throttled"],
        span.attributes["kinesis.writer.records.failed"],
        span.attributes["error.type"],
        span.status.code
      ])).toEqual([
        [1, 2, 1, 1, 1, undefined, SpanStatusCode.UNSET],
        [2, 1, 0, 0, 1, "InternalFailure", SpanStatusCode.ERROR],
        [3, 1, 1, 0, 0, undefined, SpanStatusCode.UNSET]
      ])
      // The throttled put's span links to each request that carried its record; it links back to the last.
      const puts = named(telemetry.spans.getFinishedSpans(), `put ${stream}`)
      const retried = puts.find((span) => span.attributes["kinesis.writer.attempts"] === 3)!
      for (const request of requests) {
        expect(request.links.map((link) => link.context.spanId)).toContain(retried.spanContext().spanId)
      }
      expect(retried.links.map((link) => link.context.spanId)).toEqual([requests[2].spanContext().spanId])
    }).pipe(Effect.provide(telemetry.layer))
  })
})
