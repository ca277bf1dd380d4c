/**
 * Updates one writer's metrics: once per request with counts, never per record taken. The metrics are resolved
 * once, with the stream's label in their key, so an update finds its value without building a key.
 */
import * as Metric from "effect/Metric"
import * as MetricKey from "effect/MetricKey"
import * as MetricLabel from "effect/MetricLabel"
import * as Metrics from "../Metrics.js"

/** One writer's metrics, and what it last reported of the figures it reports as differences. */
export interface Recorder {
  /** The fiber's metric labels (`Effect.tagMetrics`) where the writer was built: its fibers inherit them. */
  readonly labels: ReadonlyArray<MetricLabel.MetricLabel>
  readonly metrics: Metrics.StreamMetrics
  readonly streamKeys: { readonly [Name in keyof typeof Metrics.Keys]: (typeof Metrics.Keys)[Name] }
  // Metrics with one more label (an error code, a shard), made on first use.
  readonly tagged: Map<string, Metric.Metric<any, number, any>>
  taken: number
  records: number
  bytes: number
  inFlight: number
}

/** The recorder of the writer of a stream. */
export const make = (streamName: string, labels: ReadonlyArray<MetricLabel.MetricLabel>): Recorder => {
  const stream = [Metrics.streamLabel(streamName)]
  const keys: Record<string, unknown> = {}
  for (const [name, key] of Object.entries(Metrics.Keys)) {
    keys[name] = MetricKey.taggedWithLabels(key as MetricKey.MetricKey.Counter<number>, stream)
  }
  return {
    labels,
    metrics: Metrics.forStream(streamName),
    streamKeys: keys as Recorder["streamKeys"],
    tagged: new Map(),
    taken: 0,
    records: 0,
    bytes: 0,
    inFlight: 0
  }
}

const taggedWith = (
  recorder: Recorder,
  name: keyof typeof Metrics.Keys,
  key: string,
  value: string
): Metric.Metric<any, number, any> => {
  const id = `${name}\n${key}\n${value}`
  let metric = recorder.tagged.get(id)
  if (metric === undefined) {
    const base = recorder.streamKeys[name] as MetricKey.MetricKey.Counter<number>
    metric = Metric.fromMetricKey(MetricKey.taggedWithLabels(base, [MetricLabel.make(key, value)]))
    recorder.tagged.set(id, metric)
  }
  return metric
}

/** Reports what the writer took and holds now, as the difference from what it last reported. */
export const holding = (recorder: Recorder, taken: number, records: number, bytes: number, inFlight: number): void => {
  const { labels, metrics } = recorder
  if (taken !== recorder.taken) {
    metrics.recordsTaken.unsafeUpdate(taken - recorder.taken, labels)
    recorder.taken = taken
  }
  if (records !== recorder.records) {
    metrics.recordsHeld.unsafeUpdate(records - recorder.records, labels)
    recorder.records = records
  }
  if (bytes !== recorder.bytes) {
    metrics.bytesHeld.unsafeUpdate(bytes - recorder.bytes, labels)
    recorder.bytes = bytes
  }
  if (inFlight !== recorder.inFlight) {
    metrics.requestsInFlight.unsafeUpdate(inFlight - recorder.inFlight, labels)
    recorder.inFlight = inFlight
  }
}

/** A request carrying `records` user records in `bytes` bytes ended after `millis`; `errorType` if it failed whole. */
export const request = (
  recorder: Recorder,
  records: number,
  bytes: number,
  millis: number,
  errorType: string | undefined
): void => {
  const { labels, metrics } = recorder
  if (errorType === undefined) {
    metrics.sentMessages.unsafeUpdate(records, labels)
    metrics.operationDuration.unsafeUpdate(millis / 1000, labels)
  } else {
    taggedWith(recorder, "sentMessages", Metrics.Attributes.errorType, errorType).unsafeUpdate(records, labels)
    taggedWith(recorder, "operationDuration", Metrics.Attributes.errorType, errorType).unsafeUpdate(
      millis / 1000,
      labels
    )
  }
  metrics.bytesSent.unsafeUpdate(bytes, labels)
  metrics.requestRecords.unsafeUpdate(records, labels)
}

/** Records of `bytes` bytes in all were stored. */
export const delivered = (recorder: Recorder, records: number, bytes: number): void => {
  if (records === 0) return
  recorder.metrics.recordsDelivered.unsafeUpdate(records, recorder.labels)
  recorder.metrics.bytesDelivered.unsafeUpdate(bytes, recorder.labels)
}

/** Records were put back to be sent again after `code`. */
export const retried = (recorder: Recorder, code: string, records: number): void => {
  taggedWith(recorder, "recordsRetried", Metrics.Attributes.errorType, code).unsafeUpdate(records, recorder.labels)
}

/** Records failed for good with `code`. */
export const failed = (recorder: Recorder, code: string, records: number): void => {
  taggedWith(recorder, "recordsFailed", Metrics.Attributes.errorType, code).unsafeUpdate(records, recorder.labels)
}

/** A shard (undefined: unknown, shard-blind) refused records for its throughput. */
export const throttled = (recorder: Recorder, shard: string | undefined, records: number): void => {
  const metric = shard === undefined ?
    recorder.metrics.recordsThrottled :
    taggedWith(recorder, "recordsThrottled", Metrics.Attributes.partition, shard)
  metric.unsafeUpdate(records, recorder.labels)
}
