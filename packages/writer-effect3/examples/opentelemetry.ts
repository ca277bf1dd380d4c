/**
 * The writer's metrics and traces exported with `@effect/opentelemetry` and the OpenTelemetry SDK. Swap the console
 * exporters for the OTLP ones (`@opentelemetry/exporter-trace-otlp-http`, `@opentelemetry/exporter-metrics-otlp-http`)
 * to send them to a collector; `test/Tracing.test.ts` runs this file against the SDK's in-memory exporters.
 */
import { Kinesis, KinesisWriter } from "@effect-kinesis/writer-effect3"
import * as NodeSdk from "@effect/opentelemetry/NodeSdk"
import { ConsoleMetricExporter, type MetricReader, PeriodicExportingMetricReader } from "@opentelemetry/sdk-metrics"
import { BatchSpanProcessor, ConsoleSpanExporter, type SpanProcessor } from "@opentelemetry/sdk-trace-base"
import { Effect, Layer } from "effect"

/** Where telemetry goes: by default the console, every 10 seconds for metrics. */
export interface Exporters {
  readonly spanProcessor?: SpanProcessor | undefined
  readonly metricReader?: MetricReader | undefined
}

/** The OpenTelemetry SDK as a layer: Effect's spans become OpenTelemetry spans, Effect's metrics are read from it. */
export const Telemetry = (exporters: Exporters = {}) =>
  NodeSdk.layer(() => ({
    resource: { serviceName: "orders" },
    spanProcessor: exporters.spanProcessor ?? new BatchSpanProcessor(new ConsoleSpanExporter()),
    metricReader: exporters.metricReader ??
      new PeriodicExportingMetricReader({ exporter: new ConsoleMetricExporter(), exportIntervalMillis: 10_000 })
  }))

/** An order, written under its customer's key. */
export interface Order {
  readonly id: number
  readonly customer: string
}

/**
 * Each order is handled in a span of its own; `put` inside it gets a child span, and the PutRecords request that
 * stores the order links to it. The audit lines go with `enqueue`: counted in the metrics, not traced one by one.
 */
export const handleOrders = (orders: ReadonlyArray<Order>) =>
  Effect.gen(function*() {
    const writer = yield* KinesisWriter
    yield* Effect.forEach(
      orders,
      (order) =>
        writer.put(order, order.customer).pipe(
          Effect.withSpan("handle order", { attributes: { "order.id": order.id } })
        ),
      { concurrency: "unbounded", discard: true }
    )
    yield* writer.enqueueAll(orders.map((order) => ({ message: `order ${order.id} written` })))
    yield* writer.flush
  })

/** The writer, for the stream `orders`, with its Kinesis client. */
export const WriterLive = KinesisWriter.layer({ stream: "orders" }).pipe(Layer.provide(Kinesis.layer()))

/** The whole program: the telemetry layer outlives the writer, so the writer's last figures are exported too. */
export const main = handleOrders([{ id: 1, customer: "ada" }, { id: 2, customer: "grace" }]).pipe(
  Effect.provide(WriterLive),
  Effect.provide(Telemetry())
)
