/**
 * The writer's metrics and span attributes. Names and attributes follow OpenTelemetry's messaging semantic
 * conventions where one fits (`messaging.client.sent.messages`, `messaging.client.operation.duration`,
 * `messaging.destination.name`, `error.type`...); the writer's own figures are under `kinesis.writer.`. Every
 * metric carries `messaging.system` and `messaging.destination.name` (the stream), and a `unit` label, which
 * `@effect/opentelemetry` exports as the instrument's unit.
 */
import * as Metric from "effect/Metric"

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

const system = { [Attributes.system]: SYSTEM }
const putRecords = { [Attributes.operationName]: "PutRecords" }
const send = { [Attributes.operationType]: "send" }

// Monotonic counters are `incremental` (exported as an OpenTelemetry Counter); the others go up and down.
const counter = (name: string, unit: string, description: string, attributes: Metric.Metric.AttributeSet = {}) =>
  Metric.counter(name, { description, incremental: true, attributes: { ...system, ...attributes, unit } })
const upDown = (name: string, unit: string, description: string) =>
  Metric.counter(name, { description, attributes: { ...system, unit } })
const histogram = (
  name: string,
  unit: string,
  boundaries: ReadonlyArray<number>,
  description: string,
  attributes: Metric.Metric.AttributeSet = {}
) => Metric.histogram(name, { description, boundaries, attributes: { ...system, ...attributes, unit } })

/** The writer's metrics, before the stream's attribute. */
export const Keys = {
  sentMessages: counter(
    Names.sentMessages,
    "{message}",
    "Records carried by PutRecords requests, each time they are sent; error.type when the request failed as a whole",
    putRecords
  ),
  operationDuration: histogram(
    Names.operationDuration,
    "s",
    [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10],
    "Duration of PutRecords requests; error.type when the request failed as a whole",
    { ...putRecords, ...send }
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
