/**
 * The writer's metrics and span attributes, as Effect 4 `Metric`s: the names, units and attributes are core's
 * `Telemetry` (OpenTelemetry's messaging conventions where one fits). Every metric carries `messaging.system`,
 * `messaging.destination.name` (the stream) and a `unit` attribute.
 */
import { Telemetry } from "@effect-kinesis/core"
import * as Metric from "effect/Metric"

/** `messaging.system` for Kinesis Data Streams: not among the conventions' values, so named as they name `aws_sqs`. */
export const SYSTEM = Telemetry.SYSTEM

/** The attribute keys the writer's metrics and spans use. */
export const Attributes = Telemetry.Attributes

/** The metric names. */
export const Names = Telemetry.Names

// Monotonic counters are `incremental` (exported as an OpenTelemetry Counter); the others go up and down.
const metricOf = ({ attributes, description, instrument, name }: Telemetry.Definition) =>
  instrument.kind === "histogram" ?
    Metric.histogram(name, { description, boundaries: instrument.boundaries, attributes }) :
    Metric.counter(name, { description, incremental: instrument.kind === "counter", attributes })

const counter = (definition: Telemetry.Definition) => metricOf(definition) as Metric.Counter<number>
const histogram = (definition: Telemetry.Definition) => metricOf(definition) as Metric.Histogram<number>
const { Metrics: all } = Telemetry

/** The writer's metrics, before the stream's attribute. */
export const Keys = {
  sentMessages: counter(all.sentMessages),
  operationDuration: histogram(all.operationDuration),
  recordsTaken: counter(all.recordsTaken),
  recordsDelivered: counter(all.recordsDelivered),
  recordsRetried: counter(all.recordsRetried),
  recordsFailed: counter(all.recordsFailed),
  recordsThrottled: counter(all.recordsThrottled),
  bytesSent: counter(all.bytesSent),
  bytesDelivered: counter(all.bytesDelivered),
  requestRecords: histogram(all.requestRecords),
  deliveryDuration: histogram(all.deliveryDuration),
  recordsHeld: counter(all.recordsHeld),
  bytesHeld: counter(all.bytesHeld),
  requestsInFlight: counter(all.requestsInFlight)
} as const

type CounterMetric = Metric.Metric<number, Metric.CounterState<number>>
type HistogramMetric = Metric.Metric<number, Metric.HistogramState>

/** The writer's metrics of one stream. */
export interface StreamMetrics {
  readonly sentMessages: CounterMetric
  readonly operationDuration: HistogramMetric
  readonly recordsTaken: CounterMetric
  readonly recordsDelivered: CounterMetric
  readonly recordsRetried: CounterMetric
  readonly recordsFailed: CounterMetric
  readonly recordsThrottled: CounterMetric
  readonly bytesSent: CounterMetric
  readonly bytesDelivered: CounterMetric
  readonly requestRecords: HistogramMetric
  readonly deliveryDuration: HistogramMetric
  readonly recordsHeld: CounterMetric
  readonly bytesHeld: CounterMetric
  readonly requestsInFlight: CounterMetric
}

/** The attribute of a stream on its metrics. */
export const streamAttributes = (streamName: string): Metric.Metric.AttributeSet => ({
  [Attributes.destination]: streamName
})

/**
 * The writer's metrics of one stream (by name, the part of an ARN after the last `/`), to read with `Metric.value`;
 * give them `error.type` or `messaging.destination.partition.id` with `Metric.withAttributes` where the README says
 * they have it.
 */
export const forStream = (streamName: string): StreamMetrics => {
  const attributes = streamAttributes(streamName)
  const forThis = <State>(metric: Metric.Metric<number, State>) => Metric.withAttributes(metric, attributes)
  return {
    sentMessages: forThis(Keys.sentMessages),
    operationDuration: forThis(Keys.operationDuration),
    recordsTaken: forThis(Keys.recordsTaken),
    recordsDelivered: forThis(Keys.recordsDelivered),
    recordsRetried: forThis(Keys.recordsRetried),
    recordsFailed: forThis(Keys.recordsFailed),
    recordsThrottled: forThis(Keys.recordsThrottled),
    bytesSent: forThis(Keys.bytesSent),
    bytesDelivered: forThis(Keys.bytesDelivered),
    requestRecords: forThis(Keys.requestRecords),
    deliveryDuration: forThis(Keys.deliveryDuration),
    recordsHeld: forThis(Keys.recordsHeld),
    bytesHeld: forThis(Keys.bytesHeld),
    requestsInFlight: forThis(Keys.requestsInFlight)
  }
}
