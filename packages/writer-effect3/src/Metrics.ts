/**
 * The writer's metrics and span attributes, as Effect 3 `MetricKey`s with labels: the names, units and attributes
 * are core's `Telemetry` (OpenTelemetry's messaging conventions where one fits). Every metric carries
 * `messaging.system`, `messaging.destination.name` (the stream) and a `unit` label.
 */
import { Telemetry } from "@effect-kinesis/core"
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import * as MetricLabel from "effect/MetricLabel"

/** `messaging.system` for Kinesis Data Streams: not among the conventions' values, so named as they name `aws_sqs`. */
export const SYSTEM = Telemetry.SYSTEM

/** The attribute keys the writer's metrics and spans use. */
export const Attributes = Telemetry.Attributes

/** The metric names. */
export const Names = Telemetry.Names

const labelsOf = (attributes: Readonly<Record<string, string>>) =>
  Object.entries(attributes).map(([key, value]) => MetricLabel.make(key, value))

// Monotonic counters are `incremental` (exported as an OpenTelemetry Counter); the others go up and down.
const counter = ({ attributes, description, instrument, name }: Telemetry.Definition) =>
  MetricKey.taggedWithLabels(
    MetricKey.counter(name, { description, incremental: instrument.kind === "counter" }),
    labelsOf(attributes)
  )
const histogram = ({ attributes, description, instrument, name }: Telemetry.Definition) =>
  MetricKey.taggedWithLabels(
    MetricKey.histogram(
      name,
      MetricBoundaries.fromIterable(instrument.kind === "histogram" ? instrument.boundaries : []),
      description
    ),
    labelsOf(attributes)
  )
const { Metrics: all } = Telemetry

/** The keys of the writer's metrics, before the stream's label. */
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

type CounterMetric = Metric.Metric.Counter<number>
type HistogramMetric = Metric.Metric.Histogram<number>

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

/** The label of a stream on its metrics. */
export const streamLabel = (streamName: string): MetricLabel.MetricLabel =>
  MetricLabel.make(Attributes.destination, streamName)

/**
 * The writer's metrics of one stream (by name, the part of an ARN after the last `/`), to read with `Metric.value`;
 * tag them with `error.type` or `messaging.destination.partition.id` where the README says they have it.
 */
export const forStream = (streamName: string): StreamMetrics => {
  const labels = [streamLabel(streamName)]
  const counter = (key: MetricKey.MetricKey.Counter<number>) =>
    Metric.fromMetricKey(MetricKey.taggedWithLabels(key, labels))
  const histogram = (key: MetricKey.MetricKey.Histogram) =>
    Metric.fromMetricKey(MetricKey.taggedWithLabels(key, labels))
  return {
    sentMessages: counter(Keys.sentMessages),
    operationDuration: histogram(Keys.operationDuration),
    recordsTaken: counter(Keys.recordsTaken),
    recordsDelivered: counter(Keys.recordsDelivered),
    recordsRetried: counter(Keys.recordsRetried),
    recordsFailed: counter(Keys.recordsFailed),
    recordsThrottled: counter(Keys.recordsThrottled),
    bytesSent: counter(Keys.bytesSent),
    bytesDelivered: counter(Keys.bytesDelivered),
    requestRecords: histogram(Keys.requestRecords),
    deliveryDuration: histogram(Keys.deliveryDuration),
    recordsHeld: counter(Keys.recordsHeld),
    bytesHeld: counter(Keys.bytesHeld),
    requestsInFlight: counter(Keys.requestsInFlight)
  }
}
