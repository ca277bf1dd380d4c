/**
 * The names the writer's metrics and spans use, for every Effect line alike: OpenTelemetry's messaging semantic
 * conventions where one fits (`messaging.client.sent.messages`, `messaging.destination.name`, `error.type`...), the
 * writer's own figures under `kinesis.writer.`. Every metric carries `messaging.system`, the stream's
 * `messaging.destination.name` and a `unit` attribute, which `@effect/opentelemetry` exports as the instrument's unit.
 */

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

/** How a metric counts: a monotonic counter, a counter that goes up and down, or a histogram of `boundaries`. */
export type Instrument =
  | { readonly kind: "counter" | "upDown" }
  | { readonly kind: "histogram"; readonly boundaries: ReadonlyArray<number> }

/** One metric of the writer. */
export interface Definition {
  readonly name: string
  readonly instrument: Instrument
  readonly unit: string
  readonly description: string
  /** Its attributes: `messaging.system`, its unit, and those of its kind of figure; the stream's comes with the writer. */
  readonly attributes: Readonly<Record<string, string>>
}

const define = (
  name: string,
  instrument: Instrument,
  unit: string,
  description: string,
  attributes: Readonly<Record<string, string>> = {}
): Definition => ({
  name,
  instrument,
  unit,
  description,
  attributes: { [Attributes.system]: SYSTEM, ...attributes, unit }
})

const counter = { kind: "counter" } as const
const upDown = { kind: "upDown" } as const
const histogram = (boundaries: ReadonlyArray<number>): Instrument => ({ kind: "histogram", boundaries })
const putRecords = { [Attributes.operationName]: "PutRecords" }
const send = { [Attributes.operationType]: "send" }

/** Every metric of the writer. */
export const Metrics = {
  sentMessages: define(
    Names.sentMessages,
    counter,
    "{message}",
    "Records carried by PutRecords requests, each time they are sent; error.type when the request failed as a whole",
    putRecords
  ),
  operationDuration: define(
    Names.operationDuration,
    histogram([0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10]),
    "s",
    "Duration of PutRecords requests; error.type when the request failed as a whole",
    { ...putRecords, ...send }
  ),
  recordsTaken: define(Names.recordsTaken, counter, "{record}", "Records taken by enqueue, enqueueAll, sink and put"),
  recordsDelivered: define(Names.recordsDelivered, counter, "{record}", "Records stored in the stream"),
  recordsRetried: define(
    Names.recordsRetried,
    counter,
    "{record}",
    "Times a record was put back to be sent again, by error.type"
  ),
  recordsFailed: define(Names.recordsFailed, counter, "{record}", "Records that failed for good, by error.type"),
  recordsThrottled: define(
    Names.recordsThrottled,
    counter,
    "{record}",
    "Records refused for their shard's throughput, by shard (messaging.destination.partition.id) when shard-aware"
  ),
  bytesSent: define(
    Names.bytesSent,
    counter,
    "By",
    "Bytes of PutRecords requests (data and partition keys), each time sent"
  ),
  bytesDelivered: define(Names.bytesDelivered, counter, "By", "Bytes of the records stored (data and partition keys)"),
  requestRecords: define(
    Names.requestRecords,
    histogram([1, 5, 10, 25, 50, 100, 250, 499, 500, 1000, 5000, 25000]),
    "{record}",
    "Records per PutRecords request"
  ),
  deliveryDuration: define(
    Names.deliveryDuration,
    histogram([0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120]),
    "s",
    "Time from a record's enqueue (or put) to its storage"
  ),
  recordsHeld: define(Names.recordsHeld, upDown, "{record}", "Records held: waiting, waiting to retry, or in flight"),
  bytesHeld: define(Names.bytesHeld, upDown, "By", "Bytes of the records held"),
  requestsInFlight: define(Names.requestsInFlight, upDown, "{request}", "PutRecords requests in flight")
} as const
