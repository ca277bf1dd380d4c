/**
 * The writer's metrics and span attributes. Names and attributes follow OpenTelemetry's messaging semantic
 * conventions where one fits (`messaging.client.sent.messages`, `messaging.client.operation.duration`,
 * `messaging.destination.name`, `error.type`...); the writer's own figures are under `kinesis.writer.`. Every
 * metric carries `messaging.system` and `messaging.destination.name` (the stream), and a `unit` label, which
 * `@effect/opentelemetry` exports as the instrument's unit.
 */
import * as Metric from "effect/Metric"
import * as MetricBoundaries from "effect/MetricBoundaries"
import * as MetricKey from "effect/MetricKey"
import * as MetricLabel from "effect/MetricLabel"

/** `messaging.system` for Kinesis Data Streams: not among the conventions' values, so named as they name `aws_sqs`. */
export const SYSTEM = "aws_kinesis"

/** The attribute keys the writer's metrics and spans use. */
export const Attributes = {
  /** `aws_kinesis`, on every metric and span. */
  system: "messaging.system",
  /** The stream's name (the part of an ARN after the last `/`), on every metric and span. */
  destination: "messaging.destination.name",
  /** A shard id: the shard that throttled, or that stored a `put`'s record. */
  partition: "messaging.destination.partition.id",
  /** `PutRecords` on requests, `put` on a `put`'s span. */
  operationName: "messaging.operation.name",
  /** `send` on requests, `create` on a `put`'s span (the creation context of its record). */
  operationType: "messaging.operation.type",
  /** Records a request carried (user records, also when they went inside aggregates). */
  batchMessageCount: "messaging.batch.message_count",
  /** A stored record's sequence number. */
  messageId: "messaging.message.id",
  /** The error code: of a request that failed as a whole, or of records retried or failed. */
  errorType: "error.type",
  /** The stream's name, as the AWS SDK conventions name it. */
  streamName: "aws.kinesis.stream_name",
  /** Bytes a request carried: data and partition keys, as Kinesis counts them. */
  requestBytes: "kinesis.writer.request.bytes",
  /** The most requests any of a request's records had been sent in, this one included: 1 for a first send. */
  attempt: "kinesis.writer.attempt",
  /** Records of a request that were stored. */
  delivered: "kinesis.writer.records.delivered",
  /** Records of a request refused for their shard's throughput. */
  throttled: "kinesis.writer.records.throttled",
  /** Records of a request not stored: to be sent again, or failed for good. */
  failed: "kinesis.writer.records.failed",
  /** Requests a `put`'s record was sent in. */
  attempts: "kinesis.writer.attempts"
} as const

/** The metric names. */
export const Names = {
  sentMessages: "messaging.client.sent.messages",
  operationDuration: "messaging.client.operation.duration",
  recordsTaken: "kinesis.writer.records.taken",
  recordsDelivered: "kinesis.writer.records.delivered",
  recordsRetried: "kinesis.writer.records.retried",
  recordsFailed: "kinesis.writer.records.failed",
  recordsThrottled: "kinesis.writer.records.throttled",
  bytesSent: "kinesis.writer.bytes.sent",
  bytesDelivered: "kinesis.writer.bytes.delivered",
  requestRecords: "kinesis.writer.request.records",
  deliveryDuration: "kinesis.writer.delivery.duration",
  recordsHeld: "kinesis.writer.records.held",
  bytesHeld: "kinesis.writer.bytes.held",
  requestsInFlight: "kinesis.writer.requests.in_flight"
} as const

const label = MetricLabel.make
const system = label(Attributes.system, SYSTEM)
const putRecords = label(Attributes.operationName, "PutRecords")
const send = label(Attributes.operationType, "send")

// Monotonic counters are `incremental` (exported as an OpenTelemetry Counter); the others go up and down.
const counter = (
  name: string,
  unit: string,
  description: string,
  labels: ReadonlyArray<MetricLabel.MetricLabel> = []
) =>
  MetricKey.taggedWithLabels(MetricKey.counter(name, { description, incremental: true }), [
    system,
    ...labels,
    label("unit", unit)
  ])
const upDown = (name: string, unit: string, description: string) =>
  MetricKey.taggedWithLabels(MetricKey.counter(name, { description }), [system, label("unit", unit)])
const histogram = (
  name: string,
  unit: string,
  boundaries: ReadonlyArray<number>,
  description: string,
  labels: ReadonlyArray<MetricLabel.MetricLabel> = []
) =>
  MetricKey.taggedWithLabels(MetricKey.histogram(name, MetricBoundaries.fromIterable(boundaries), description), [
    system,
    ...labels,
    label("unit", unit)
  ])

/** The keys of the writer's metrics, before the stream's label. */
export const Keys = {
  sentMessages: counter(
    Names.sentMessages,
    "{message}",
    "Records carried by PutRecords requests, each time they are sent; error.type when the request failed as a whole",
    [putRecords]
  ),
  operationDuration: histogram(
    Names.operationDuration,
    "s",
    [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    "Duration of PutRecords requests; error.type when the request failed as a whole",
    [putRecords, send]
  ),
  recordsTaken: counter(Names.recordsTaken, "{record}", "Records taken by enqueue, enqueueAll, sink and put"),
  recordsDelivered: counter(Names.recordsDelivered, "{record}", "Records stored in the stream"),
  recordsRetried: counter(
    Names.recordsRetried,
    "{record}",
    "Times a record was put back to be sent again, by error.type"
  ),
  recordsFailed: counter(Names.recordsFailed, "{record}", "Records that failed for good, by error.type"),
  recordsThrottled: counter(
    Names.recordsThrottled,
    "{record}",
    "Records refused for their shard's throughput, by shard (messaging.destination.partition.id) when shard-aware"
  ),
  bytesSent: counter(Names.bytesSent, "By", "Bytes of PutRecords requests (data and partition keys), each time sent"),
  bytesDelivered: counter(Names.bytesDelivered, "By", "Bytes of the records stored (data and partition keys)"),
  requestRecords: histogram(
    Names.requestRecords,
    "{record}",
    [1, 5, 10, 25, 50, 100, 250, 499, 500, 1000, 5000, 25000],
    "Records per PutRecords request"
  ),
  deliveryDuration: histogram(
    Names.deliveryDuration,
    "s",
    [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120],
    "Time from a record's enqueue (or put) to its storage"
  ),
  recordsHeld: upDown(Names.recordsHeld, "{record}", "Records held: waiting, waiting to retry, or in flight"),
  bytesHeld: upDown(Names.bytesHeld, "By", "Bytes of the records held"),
  requestsInFlight: upDown(Names.requestsInFlight, "{request}", "PutRecords requests in flight")
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
export const streamLabel = (streamName: string): MetricLabel.MetricLabel => label(Attributes.destination, streamName)

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
